//go:build linux

package webp

import (
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"slices"
	"testing"

	wasm "github.com/gen2brain/webp"

	"github.com/portraitsvc/portrait/internal/cpubench"
)

// encodeWith encodes with libwebp at quality q and method m, bypassing the
// Encoder's fixed method.
func encodeWith(tb testing.TB, img image.Image, q, m int) []byte {
	tb.Helper()
	var buf sizedBuffer
	if err := wasm.Encode(&buf, libwebpInput(img, false), wasm.Options{Quality: q, Method: m}); err != nil {
		tb.Fatal(err)
	}
	return buf.b
}

// matchedQuality returns the lowest WebP quality (method m) whose SSIM is
// at least target, with its bytes, by bisection (SSIM grows with quality).
func matchedQuality(tb testing.TB, src *image.YCbCr, target float64, m int) (int, int) {
	lo, hi := 1, 100
	for lo < hi {
		q := (lo + hi) / 2
		if webpSSIM(tb, src, encodeWith(tb, src, q, m)) >= target {
			hi = q
		} else {
			lo = q + 1
		}
	}
	return lo, len(encodeWith(tb, src, lo, m))
}

// photosFor returns the square pictures of each photograph at size, for
// the photographs at least that large (the pipeline never enlarges).
func photosFor(tb testing.TB, size int) map[string]*image.YCbCr {
	out := map[string]*image.YCbCr{}
	for name, p := range photographs(tb) {
		if b := p.Bounds(); min(b.Dx(), b.Dy()) >= size {
			out[name] = squareYCbCr(p, size)
		}
	}
	return out
}

// BenchmarkMatchedQuality reports, per size, over the photographs: the
// WebP quality whose SSIM matches JPEG q85 (median and largest), the bytes
// of WebP at that quality against JPEG's, and at the quality Encode picks the bytes
// ratio and SSIM gain. Its ns/op mean nothing.
func BenchmarkMatchedQuality(b *testing.B) {
	for _, size := range sizes {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			var qs, matched, atDefault, gain []float64
			for name, src := range photosFor(b, size) {
				jb := jpegBytes(b, src, jpegQuality)
				target := jpegSSIM(b, src, jb)
				q, n := matchedQuality(b, src, target, methodFor(size*size))
				d := encodeWith(b, src, qualityFor(size), methodFor(size*size))
				qs, matched = append(qs, float64(q)), append(matched, float64(n)/float64(len(jb)))
				atDefault = append(atDefault, float64(len(d))/float64(len(jb)))
				gain = append(gain, webpSSIM(b, src, d)-target)
				b.Logf("%s %d: jpeg %d B ssim %.4f; webp q%d %d B; q%d %d B ssim %+.4f", name, size, len(jb), target, q, n, qualityFor(size), len(d), gain[len(gain)-1])
			}
			for b.Loop() {
			}
			b.ReportMetric(cpubench.Median(qs), "q-median")
			b.ReportMetric(slices.Max(qs), "q-max")
			b.ReportMetric(cpubench.Median(matched), "bytes-ratio-matched")
			b.ReportMetric(cpubench.Median(atDefault), "bytes-ratio-default")
			b.ReportMetric(slices.Min(gain), "ssim-gain-min")
		})
	}
}

// BenchmarkMethod compares libwebp's methods 0–6 at each size: the bytes
// against JPEG q85 at matched SSIM (median over the photographs, with the
// median matched quality), and the time of one encode at that quality
// against image/jpeg's, alternately.
func BenchmarkMethod(b *testing.B) {
	landscape := photographs(b)["Landscape_0.jpg"]
	for _, size := range sizes {
		for m := range 7 {
			b.Run(fmt.Sprintf("size=%d/method=%d", size, m), func(b *testing.B) {
				var ratios, qs []float64
				for _, src := range photosFor(b, size) {
					jb := jpegBytes(b, src, jpegQuality)
					q, n := matchedQuality(b, src, jpegSSIM(b, src, jb), m)
					ratios, qs = append(ratios, float64(n)/float64(len(jb))), append(qs, float64(q))
				}
				src, q := squareYCbCr(landscape, size), int(cpubench.Median(qs))
				cpubench.Pair(b, "webp", func() error {
					var buf sizedBuffer
					return wasm.Encode(&buf, libwebpInput(src, false), wasm.Options{Quality: q, Method: m})
				}, "jpeg", func() error {
					return jpeg.Encode(io.Discard, src, &jpeg.Options{Quality: jpegQuality})
				})
				b.ReportMetric(cpubench.Median(ratios), "bytes-ratio-matched")
				b.ReportMetric(cpubench.Median(qs), "q-median")
			})
		}
	}
}
