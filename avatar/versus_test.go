//go:build unix

package avatar

import (
	"bytes"
	"context"
	"fmt"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portraitsvc/portrait/internal/testimage"
)

// BenchmarkVersusLibvips times, on the same files in the same run,
// Portrait's pipeline, the image/jpeg pipeline it replaced (image/jpeg
// decode, then the same crop, resize and encode), and libvips'
// vipsthumbnail on one thread (shrink-on-load, centre crop to 512×512),
// interleaved over 7 rounds, and reports the median time per image of
// each and the median ratios. It needs cjpeg and vipsthumbnail
// (.ci/bench-jpeg installs them); PORTRAIT_BENCH_DIR keeps the files.
//
//	go test ./avatar -run '^$' -bench VersusLibvips -benchtime 1x
func BenchmarkVersusLibvips(b *testing.B) {
	for _, tool := range []string{"cjpeg", "vipsthumbnail"} {
		if _, err := exec.LookPath(tool); err != nil {
			b.Skipf("%s absent: run .ci/bench-jpeg", tool)
		}
	}
	dir := os.Getenv("PORTRAIT_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	for _, f := range benchFiles {
		path := filepath.Join(dir, f.name+".jpg")
		if _, err := os.Stat(path); err != nil {
			writeCJPEG(b, path, f.w, f.h, f.args...)
		}
		b.Run(f.name, func(b *testing.B) { versus(b, path, f.perRound) })
	}
	b.Run("scan-flood", func(b *testing.B) { refuseFlood(b, filepath.Join(dir, "flood.jpg")) })
}

// refuseFlood writes a scan flood just under the 16 MiB upload limit to
// path (for .ci/bench-jpeg to upload) and reports the median time Process
// takes to refuse it.
func refuseFlood(b *testing.B, path string) {
	data := scanFlood(b, (16<<20-64<<10)/42)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.Fatal(err)
	}
	var ms []float64
	for range 7 {
		start := time.Now()
		if _, err := largest(New(Config{}).Process(context.Background(), bytes.NewReader(data), Options{})); err == nil {
			b.Fatal("the flood was accepted")
		}
		ms = append(ms, float64(time.Since(start).Microseconds())/1000)
	}
	b.ReportMetric(median(ms), "ms-to-refuse")
}

// benchFiles are the files of BENCHMARKS.md: photo-like, quality 90.
var benchFiles = []struct {
	name     string
	w, h     int
	args     []string
	perRound int // images per measurement
}{
	{"12mp-baseline", 4032, 3024, nil, 3},
	{"12mp-progressive", 4032, 3024, []string{"-progressive"}, 3},
	{"12mp-restart", 4032, 3024, []string{"-restart", "1"}, 3},
	{"800x600", 800, 600, nil, 20},
}

// writeCJPEG encodes the bench photo of w×h with cjpeg at quality 90.
func writeCJPEG(b testing.TB, path string, w, h int, args ...string) {
	src := testimage.Photo(w, h)
	var ppm bytes.Buffer
	fmt.Fprintf(&ppm, "P6\n%d %d\n255\n", w, h)
	for y := range h {
		for x := range w {
			r, g, bb, _ := src.At(x, y).RGBA()
			ppm.Write([]byte{uint8(r >> 8), uint8(g >> 8), uint8(bb >> 8)})
		}
	}
	cmd := exec.Command("cjpeg", append([]string{"-quality", "90", "-outfile", path}, args...)...)
	cmd.Stdin = &ppm
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("cjpeg: %v: %s", err, out)
	}
}

// contender makes n avatars of the file at path.
type contender struct {
	name string
	run  func(b *testing.B, path string, n int)
}

var contenders = []contender{
	{"portrait", func(b *testing.B, path string, n int) {
		p := New(Config{})
		for range n {
			f, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			_, err = largest(p.Process(context.Background(), f, Options{}))
			f.Close()
			if err != nil {
				b.Fatal(err)
			}
		}
	}},
	{"image/jpeg", func(b *testing.B, path string, n int) {
		for range n {
			data, err := os.ReadFile(path)
			if err != nil {
				b.Fatal(err)
			}
			img, err := jpeg.Decode(bytes.NewReader(data))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := encode(orient(square(img, DefaultSizes[0]), 1), DefaultJPEGQuality); err != nil {
				b.Fatal(err)
			}
		}
	}},
	{"vipsthumbnail", func(b *testing.B, path string, n int) {
		out := b.TempDir()
		args := []string{"--vips-concurrency=1", "-s", "512x512", "-m", "centre", "-o", filepath.Join(out, "%s-%d.jpg[Q=85]")}
		for i := range n {
			link := filepath.Join(out, fmt.Sprintf("in%d.jpg", i))
			if err := os.Symlink(path, link); err != nil {
				b.Fatal(err)
			}
			args = append(args, link)
		}
		cmd := exec.Command("vipsthumbnail", args...)
		cmd.Env = append(os.Environ(), "VIPS_CONCURRENCY=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("vipsthumbnail: %v: %s", err, out)
		}
	}},
}

// versus runs the contenders in turn, in a rotating order, 7 rounds of n
// images each, and reports medians and ratios.
func versus(b *testing.B, path string, n int) {
	const rounds = 7
	times := make([][]float64, len(contenders)) // ms per image, per round
	for r := range rounds {
		for i := range contenders {
			c := (i + r) % len(contenders)
			start := time.Now()
			contenders[c].run(b, path, n)
			times[c] = append(times[c], float64(time.Since(start).Microseconds())/1000/float64(n))
		}
	}
	var line []string
	for c, ts := range times {
		b.ReportMetric(median(ts), strings.ReplaceAll(contenders[c].name, "/", "-")+"-ms/img")
		line = append(line, fmt.Sprintf("%s %v", contenders[c].name, ts))
	}
	vips := times[len(times)-1]
	b.ReportMetric(median(ratios(times[0], vips)), "portrait/vips")
	b.ReportMetric(median(ratios(times[1], vips)), "image-jpeg/vips")
	b.Logf("ms per image by round: %s", strings.Join(line, "; "))
}

// ratios returns a[i]/b[i]: each round compared with the same round.
func ratios(a, b []float64) []float64 {
	out := make([]float64, len(a))
	for i := range a {
		out[i] = a[i] / b[i]
	}
	return out
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}
