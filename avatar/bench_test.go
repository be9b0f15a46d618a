//go:build unix

package avatar

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"image/png"
	"syscall"
	"testing"

	"github.com/portraitsvc/portrait/internal/testimage"
)

// The machine these run on is shared, so wall-clock ns/op varies with
// other load; each benchmark also reports cpu-ns/op, the CPU time of the
// whole process (all threads, GC included) per operation.

// cpuTime returns the CPU time the process has used so far.
func cpuTime(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// loop runs op b.N times, reporting allocations and CPU time per op.
func loop(b *testing.B, op func() error) {
	b.Helper()
	b.ReportAllocs()
	start := cpuTime(b)
	for b.Loop() {
		if err := op(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N), "cpu-ns/op")
}

func benchJPEG(b testing.TB, w, h int) []byte {
	b.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, testimage.Photo(w, h), &jpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

func benchProcess(b *testing.B, data []byte) {
	b.Helper()
	p := New(Config{Sizes: []int{512}})
	loop(b, func() error {
		_, err := largest(p.Process(context.Background(), bytes.NewReader(data), Options{}))
		return err
	})
}

func BenchmarkProcess800x600JPEG(b *testing.B) { benchProcess(b, benchJPEG(b, 800, 600)) }

func BenchmarkProcess12MPJPEG(b *testing.B) { benchProcess(b, benchJPEG(b, 4032, 3024)) }

// BenchmarkDecodeOnly12MP is the floor of BenchmarkProcess12MPJPEG:
// image/jpeg decoding the same file and nothing else.
func BenchmarkDecodeOnly12MP(b *testing.B) {
	data := benchJPEG(b, 4032, 3024)
	loop(b, func() error {
		_, err := jpeg.Decode(bytes.NewReader(data))
		return err
	})
}

// benchPNG encodes an w×h PNG of the photo, with a transparent band if
// transparent (so that the avatar is a PNG too).
func benchPNG(b *testing.B, w, h int, transparent bool) []byte {
	b.Helper()
	src := testimage.Photo(w, h)
	m := image.NewNRGBA(src.Rect)
	for y := range h {
		for x := range w {
			r, g, bb, _ := src.At(x, y).RGBA()
			a := uint8(0xff)
			if transparent && (x+y)%200 < 60 {
				a = 0x30
			}
			i := m.PixOffset(x, y)
			m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = uint8(r>>8), uint8(g>>8), uint8(bb>>8), a
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

func BenchmarkProcess800x600PNG(b *testing.B) { benchProcess(b, benchPNG(b, 800, 600, false)) }

func BenchmarkProcess2000x1500PNGAlpha(b *testing.B) { benchProcess(b, benchPNG(b, 2000, 1500, true)) }
