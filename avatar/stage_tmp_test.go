package avatar

import (
	"syscall"
	"bytes"
	"image"
	"image/jpeg"
	"testing"

	"golang.org/x/image/draw"
)

func cpuNow() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func BenchmarkStages(b *testing.B) {
	for _, sz := range [][2]int{{800, 600}, {4032, 3024}} {
		data := benchJPEG(b, sz[0], sz[1])
		img, _ := jpeg.Decode(bytes.NewReader(data))
		side := min(sz[0], sz[1])
		k := side / 512
		b.Run("decode", func(b *testing.B) {
			c0 := cpuNow()
			defer func() { b.ReportMetric(float64(cpuNow()-c0)/float64(b.N), "cpu-ns/op") }()
			for b.Loop() {
				jpeg.Decode(bytes.NewReader(data))
			}
		})
		var small *image.RGBA
		b.Run("shrink", func(b *testing.B) {
			c0 := cpuNow()
			defer func() { b.ReportMetric(float64(cpuNow()-c0)/float64(b.N), "cpu-ns/op") }()
			for b.Loop() {
				small = shrink(img, centred(img.Bounds(), side/k*k), k)
			}
		})
		var out *image.RGBA
		b.Run("catmull", func(b *testing.B) {
			c0 := cpuNow()
			defer func() { b.ReportMetric(float64(cpuNow()-c0)/float64(b.N), "cpu-ns/op") }()
			for b.Loop() {
				out = image.NewRGBA(image.Rect(0, 0, 512, 512))
				draw.CatmullRom.Scale(out, out.Rect, small, small.Rect, draw.Src, nil)
			}
		})
		b.Run("resample", func(b *testing.B) {
			c0 := cpuNow()
			defer func() { b.ReportMetric(float64(cpuNow()-c0)/float64(b.N), "cpu-ns/op") }()
			for b.Loop() {
				out = resample(small, 512)
			}
		})
		b.Run("encode", func(b *testing.B) {
			c0 := cpuNow()
			defer func() { b.ReportMetric(float64(cpuNow()-c0)/float64(b.N), "cpu-ns/op") }()
			for b.Loop() {
				encode(out, 85)
			}
		})
	}
}
