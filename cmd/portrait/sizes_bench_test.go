//go:build linux

package main

import (
	"bytes"
	"fmt"
	"image/jpeg"
	"testing"
	"time"

	"github.com/portraitsvc/portrait/internal/cpubench"
	"github.com/portraitsvc/portrait/internal/testimage"
)

// BenchmarkUploadSizes uploads a 12 MP photograph (4032×3024, quality 90)
// through HTTP to three in-process servers in turn, b.N times each in a
// rotating order, and reports the median upload time of each and its
// ratio to the first: one 512 JPEG only (what Portrait stored before image
// sets), the default set (512, 256, 128, 64 as JPEG, WebP up to 256), and
// every size as WebP too (--webp-max-size 512). Each upload stores its
// set in the server's local bucket (one fsync per object) and deletes the
// previous one.
func BenchmarkUploadSizes(b *testing.B) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, testimage.Photo(4032, 3024), &jpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	configs := []struct {
		name string
		env  map[string]string
	}{
		{"one", map[string]string{"PORTRAIT_AVATAR_SIZES": "512", "PORTRAIT_WEBP_MAX_SIZE": "0"}},
		{"set", nil},
		{"allwebp", map[string]string{"PORTRAIT_WEBP_MAX_SIZE": "512"}},
	}
	servers, tokens := make([]*testServer, len(configs)), make([]string, len(configs))
	for i, c := range configs {
		servers[i] = startServer(b, c.env)
		tokens[i] = servers[i].newAccount(b).token
	}
	times := make([][]float64, len(configs))
	for i := 0; b.Loop(); i++ {
		for k := range configs {
			j := (i + k) % len(configs)
			start := time.Now()
			if r := servers[j].uploadFile(b, tokens[j], buf.Bytes()); r.status != 200 {
				b.Fatalf("%s: %s", configs[j].name, r)
			}
			times[j] = append(times[j], float64(time.Since(start).Microseconds())/1e3)
		}
	}
	for j, c := range configs {
		b.ReportMetric(cpubench.Median(times[j]), c.name+"-ms")
		if j > 0 {
			b.ReportMetric(cpubench.Median(times[j])/cpubench.Median(times[0]), fmt.Sprintf("%s/one", c.name))
		}
	}
}
