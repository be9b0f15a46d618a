//go:build linux

package blurhash

import (
	"image"
	"image/jpeg"
	"io"
	"math"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"unsafe"
)

// pair runs a and the reference (the pipeline's unit of work: image/jpeg
// at quality 85 of a 512×512 photograph-like picture) alternately, b.N
// times each, and reports the medians of their thread CPU times and the
// ratio: the machine is shared, CPU time is not inflated by waiting.
func pair(b *testing.B, name string, a func() error) {
	b.Helper()
	ref := photoLike(512)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var ca, cr []float64
	timed := func(f func() error, cpu *[]float64) {
		c := threadCPU(b)
		if err := f(); err != nil {
			b.Fatal(err)
		}
		*cpu = append(*cpu, float64(threadCPU(b)-c)/1e6)
	}
	jpeg512 := func() error { return jpeg.Encode(io.Discard, ref, &jpeg.Options{Quality: 85}) }
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			timed(a, &ca)
			timed(jpeg512, &cr)
		} else {
			timed(jpeg512, &cr)
			timed(a, &ca)
		}
	}
	b.ReportMetric(median(ca), name+"-cpu-ms")
	b.ReportMetric(median(cr), "jpeg512-cpu-ms")
	b.ReportMetric(median(ca)/median(cr), name+"/jpeg512")
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return (s[(len(s)-1)/2] + s[len(s)/2]) / 2
}

// threadCPU returns the CPU time the calling thread has used, in ns.
func threadCPU(b *testing.B) int64 {
	const clockThreadCPUTime = 3
	var ts syscall.Timespec
	if _, _, errno := syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		b.Fatal(errno)
	}
	return ts.Nano()
}

// photoLike returns a size×size picture with gradients and texture.
func photoLike(size int) *image.YCbCr {
	m := image.NewYCbCr(image.Rect(0, 0, size, size), image.YCbCrSubsampleRatio420)
	for y := range size {
		for x := range size {
			m.Y[y*m.YStride+x] = uint8(110 + 50*math.Sin(float64(x)/37) + 40*math.Cos(float64(y)/23) + float64((x*y)%23))
		}
	}
	for i := range m.Cb {
		m.Cb[i], m.Cr[i] = uint8(i*7), uint8(i*3)
	}
	return m
}
