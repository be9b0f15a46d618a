//go:build linux

package webp

import (
	"bytes"
	"context"
	"fmt"
	"golang.org/x/image/draw"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"testing"

	wasm "github.com/gen2brain/webp"

	"github.com/portraitsvc/portrait/internal/cpubench"
)

// The machine is shared: each benchmark below times its subject and its
// reference alternately within the same run and reports the medians of
// the per-call times and their ratio, not only ns/op. It reports CPU time
// of the calling thread too (the WebAssembly code runs on the calling
// goroutine, here locked to its thread), which waiting for a core shared
// with other work does not inflate; the ratio is of CPU times.

// BenchmarkEncode encodes each avatar size of a photograph as WebP at
// the matched quality and as JPEG q85, alternately. B/op and allocs/op
// cover both.
func BenchmarkEncode(b *testing.B) {
	e, err := New(1)
	if err != nil {
		b.Fatal(err)
	}
	photo := photographs(b)["Landscape_0.jpg"]
	for _, size := range sizes {
		src := squareYCbCr(photo, size)
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			webpOnce, jpegOnce := mustEncode(b, src, Options{}), jpegBytes(b, src, jpegQuality)
			cpubench.Pair(b, "webp", func() error {
				_, err := e.Encode(context.Background(), src, Options{})
				return err
			}, "jpeg", func() error {
				return jpeg.Encode(io.Discard, src, &jpeg.Options{Quality: jpegQuality})
			})
			b.ReportMetric(float64(len(webpOnce)), "webp-B")
			b.ReportMetric(float64(len(jpegOnce)), "jpeg-B")
		})
	}
}

// BenchmarkEncodeTiny measures the fixed cost of one encode: a new
// WebAssembly instance and its memory, for an 8×8 picture.
func BenchmarkEncodeTiny(b *testing.B) {
	e, err := New(1)
	if err != nil {
		b.Fatal(err)
	}
	src := squareYCbCr(image.NewRGBA(image.Rect(0, 0, 8, 8)), 8)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Encode(context.Background(), src, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTransparent compares, for pictures with real transparency,
// WebP lossless at three of libwebp's effort levels and lossy WebP with a
// lossless alpha channel against what the pipeline makes today, PNG at
// BestSpeed, alternately. It reports the bytes against PNG's (summed over
// the pictures) and, for lossy, the SSIM of the picture over white.
func BenchmarkTransparent(b *testing.B) {
	variants := []struct {
		name string
		opts wasm.Options
	}{
		{"lossless-m0", wasm.Options{Lossless: true, Method: 0, Quality: 1}},
		{"lossless-m2", wasm.Options{Lossless: true, Method: 2, Quality: 25}},
		{"lossless-m4", wasm.Options{Lossless: true, Method: 4, Quality: 50}},
		{"lossy", wasm.Options{}},
	}
	for _, size := range sizes {
		pics := transparentPictures(b, size)
		for _, v := range variants {
			b.Run(fmt.Sprintf("size=%d/%s", size, v.name), func(b *testing.B) {
				o := v.opts
				if !o.Lossless {
					o.Method, o.Quality = methodFor(size*size), qualityFor(size)
				}
				var webpB, pngB, worst float64 = 0, 0, 1
				for _, m := range pics {
					var buf sizedBuffer
					if err := wasm.Encode(&buf, libwebpInput(m, o.Lossless), o); err != nil {
						b.Fatal(err)
					}
					webpB, pngB = webpB+float64(len(buf.b)), pngB+float64(len(pngBytes(b, m)))
					worst = min(worst, overWhiteSSIM(b, m, buf.b))
				}
				src := pics["disc"]
				cpubench.Pair(b, "webp", func() error {
					var buf sizedBuffer
					return wasm.Encode(&buf, libwebpInput(src, o.Lossless), o)
				}, "png", func() error {
					return (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(io.Discard, src)
				})
				b.ReportMetric(webpB/pngB, "bytes-ratio")
				b.ReportMetric(worst, "ssim-min")
			})
		}
	}
}

func pngBytes(tb testing.TB, m image.Image) []byte {
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, m); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// overWhiteSSIM scores the decoded WebP b against src, both composited
// over white, as a page would show them.
func overWhiteSSIM(tb testing.TB, src *image.RGBA, b []byte) float64 {
	got := decodeWebP(tb, b)
	white := func(m image.Image) *image.YCbCr {
		dst := image.NewRGBA(m.Bounds())
		draw.Draw(dst, dst.Rect, image.White, image.Point{}, draw.Src)
		draw.Draw(dst, dst.Rect, m, m.Bounds().Min, draw.Over)
		return toYCbCr(dst)
	}
	return ssimYCbCr(planes(white(src), false), planes(white(got), false))
}

// BenchmarkUploadSet encodes the WebP of every avatar size of one upload
// (512, 256, 128, 64 from their 4:2:0 pictures), one after the other,
// against the floor of today's 12 MP upload: image/jpeg decoding a
// 4032×3024 photograph. The ratio is what WebP adds to that upload's CPU.
func BenchmarkUploadSet(b *testing.B) {
	photo := photographs(b)["Landscape_0.jpg"]
	var set []image.Image
	for _, size := range sizes {
		set = append(set, squareYCbCr(photo, size))
	}
	big := image.NewRGBA(image.Rect(0, 0, 4032, 3024))
	draw.CatmullRom.Scale(big, big.Rect, photo, photo.Bounds(), draw.Src, nil)
	twelveMP := jpegBytes(b, big, 90)
	e, err := New(1)
	if err != nil {
		b.Fatal(err)
	}
	cpubench.Pair(b, "webp-set", func() error {
		for _, m := range set {
			if _, err := e.Encode(context.Background(), m, Options{}); err != nil {
				return err
			}
		}
		return nil
	}, "decode-12MP", func() error {
		_, err := jpeg.Decode(bytes.NewReader(twelveMP))
		return err
	})
}
