//go:build linux

package monogram

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/portraitsvc/portrait/internal/cpubench"
	"github.com/portraitsvc/portrait/webp"
)

// BenchmarkRender renders initials at the sizes a front-end asks for. It
// reports the PNG's bytes and, to say whether serving WebP would pay, the
// bytes of the same picture as lossless and as lossy WebP (at the quality
// webp picks by size), and the median time of the lossless encode.
func BenchmarkRender(b *testing.B) {
	enc, err := webp.New(1)
	if err != nil {
		b.Fatal(err)
	}
	for _, size := range []int{40, 64, 128, 256, 512, 1024} {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			img := decodePNG(b, mustRender(b, "user-7", "Grace", "Hopper", size))
			var lossless []byte
			var times []time.Duration
			for range 5 {
				start := time.Now()
				if lossless, err = enc.Encode(context.Background(), img, webp.Options{Lossless: true}); err != nil {
					b.Fatal(err)
				}
				times = append(times, time.Since(start))
			}
			slices.Sort(times)
			lossy, err := enc.Encode(context.Background(), img, webp.Options{})
			if err != nil {
				b.Fatal(err)
			}
			n := len(mustRender(b, "user-7", "Grace", "Hopper", size))
			cpubench.PairJPEG512(b, "render", func() error {
				_, err := Render("user-7", "Grace", "Hopper", size)
				return err
			})
			b.ReportMetric(float64(n), "png-B")
			b.ReportMetric(float64(len(lossless)), "webp-lossless-B")
			b.ReportMetric(float64(len(lossy)), "webp-lossy-B")
			b.ReportMetric(float64(times[2].Microseconds())/1e3, "webp-lossless-ms")
		})
	}
}
