//go:build linux

// Package cpubench times a benchmark's subject against a reference
// alternately in the same run, as the shared machine the benchmarks run on
// requires, and reports the medians and their ratio. It reports the CPU
// time of the calling thread beside wall time: waiting for a core that
// other work holds does not inflate it.
package cpubench

import (
	"image"
	"image/jpeg"
	"io"
	"math"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// Pair times a and ref alternately, b.N times each, on one locked thread,
// and reports the medians of both in milliseconds, wall and CPU, and the
// ratio of the CPU medians as name/refName.
func Pair(b *testing.B, name string, a func() error, refName string, ref func() error) {
	b.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var wa, wr, ca, cr []float64
	timed := func(f func() error, wall, cpu *[]float64) {
		t, c := time.Now(), ThreadCPU(b)
		if err := f(); err != nil {
			b.Fatal(err)
		}
		*cpu = append(*cpu, float64(ThreadCPU(b)-c)/1e6)
		*wall = append(*wall, float64(time.Since(t).Nanoseconds())/1e6)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			timed(a, &wa, &ca)
			timed(ref, &wr, &cr)
		} else {
			timed(ref, &wr, &cr)
			timed(a, &wa, &ca)
		}
	}
	b.ReportMetric(Median(wa), name+"-ms")
	b.ReportMetric(Median(wr), refName+"-ms")
	b.ReportMetric(Median(ca), name+"-cpu-ms")
	b.ReportMetric(Median(cr), refName+"-cpu-ms")
	b.ReportMetric(Median(ca)/Median(cr), name+"/"+refName)
}

// PairJPEG512 is Pair against the pipeline's unit of work: image/jpeg at
// quality 85 of a 512×512 PhotoLike picture.
func PairJPEG512(b *testing.B, name string, a func() error) {
	b.Helper()
	ref := PhotoLike(512)
	Pair(b, name, a, "jpeg512", func() error { return jpeg.Encode(io.Discard, ref, &jpeg.Options{Quality: 85}) })
}

// Median returns the median of v.
func Median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return (s[(len(s)-1)/2] + s[len(s)/2]) / 2
}

// ThreadCPU returns the CPU time the calling thread has used, in ns
// (clock_gettime of CLOCK_THREAD_CPUTIME_ID).
func ThreadCPU(b *testing.B) int64 {
	const clockThreadCPUTime = 3
	var ts syscall.Timespec
	if _, _, errno := syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		b.Fatal(errno)
	}
	return ts.Nano()
}

// PhotoLike returns a size×size picture with gradients and texture.
func PhotoLike(size int) *image.YCbCr {
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
