//go:build linux

package avatar

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/portraitsvc/portrait/internal/cpubench"
)

// setConfigs are the pipelines BenchmarkSet compares: one 512 JPEG (what
// an upload made before image sets), the default set with WebP up to 256,
// and WebP at every size.
func setConfigs(b *testing.B) []struct {
	name string
	p    *Processor
} {
	e := webpEncoder(b)
	return []struct {
		name string
		p    *Processor
	}{
		{"one", New(Config{Sizes: []int{512}})},
		{"set", New(Config{WebP: e, WebPMaxSide: 256})},
		{"allwebp", New(Config{WebP: e})},
	}
}

// BenchmarkSet12MP runs the three pipelines of setConfigs on the 12 MP
// photograph in a rotating order and reports, for each, the median wall
// time and process CPU time (all threads) per upload, and their ratios to
// "one".
func BenchmarkSet12MP(b *testing.B) {
	data := benchJPEG(b, 4032, 3024)
	cfgs := setConfigs(b)
	wall, cpu := make([][]float64, len(cfgs)), make([][]float64, len(cfgs))
	for i := 0; b.Loop(); i++ {
		for k := range cfgs {
			j := (i + k) % len(cfgs)
			start, c := time.Now(), cpuTime(b)
			if _, err := cfgs[j].p.Process(context.Background(), bytes.NewReader(data), Options{}); err != nil {
				b.Fatal(err)
			}
			cpu[j] = append(cpu[j], float64(cpuTime(b)-c)/1e6)
			wall[j] = append(wall[j], float64(time.Since(start).Microseconds())/1e3)
		}
	}
	for j, c := range cfgs {
		b.ReportMetric(cpubench.Median(wall[j]), c.name+"-ms")
		b.ReportMetric(cpubench.Median(cpu[j]), c.name+"-cpu-ms")
		if j > 0 {
			b.ReportMetric(cpubench.Median(wall[j])/cpubench.Median(wall[0]), c.name+"/one")
			b.ReportMetric(cpubench.Median(cpu[j])/cpubench.Median(cpu[0]), c.name+"/one-cpu")
		}
	}
}

// BenchmarkSetBytes reports the bytes of every object of the set with
// WebP at every size, for the 12 MP synthetic photograph and, when the
// shared corpus is there, its landscape photograph (BENCHMARKS.md).
func BenchmarkSetBytes(b *testing.B) {
	files := map[string][]byte{"synthetic": benchJPEG(b, 4032, 3024)}
	if dir := filepath.Join(corpus, "exif-orientation"); dirExists(dir) {
		files["landscape"] = readFile(b, filepath.Join(dir, "Landscape_1.jpg"))
	}
	p := New(Config{WebP: webpEncoder(b)})
	for name, data := range files {
		b.Run(name, func(b *testing.B) {
			var s *Set
			for b.Loop() {
				s = processSet(b, p, data, Options{})
			}
			for _, a := range s.Avatars {
				b.ReportMetric(float64(len(a.Data)), a.Name()+"-bytes")
			}
		})
	}
}
