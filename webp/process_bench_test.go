//go:build linux

package webp

import (
	"context"
	"fmt"
	"image"
	"os"
	"os/exec"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/portraitsvc/portrait/internal/cpubench"
)

// Start-up and memory are properties of a fresh process, so these
// benchmarks run this test binary again as a helper, once per iteration,
// and read back what it measured of itself.

const processHelperEnv = "WEBP_PROCESS_HELPER"

// BenchmarkColdStart reports the medians, over fresh processes, of New's
// first call (compiling the WebAssembly module: wall time, and CPU time of
// all threads), the first 512×512 encode after it and the second one, and
// the resident memory New adds.
func BenchmarkColdStart(b *testing.B) {
	var compile, compileCPU, first, second, rss []float64
	for b.Loop() {
		m := helper(b, "cold", "")
		compile, first, second = append(compile, m["new-ms"]), append(first, m["first-ms"]), append(second, m["second-ms"])
		compileCPU, rss = append(compileCPU, m["new-cpu-ms"]), append(rss, m["rss-new-MB"])
	}
	b.ReportMetric(cpubench.Median(compile), "new-ms")
	b.ReportMetric(cpubench.Median(compileCPU), "new-cpu-ms")
	b.ReportMetric(cpubench.Median(first), "first-encode-ms")
	b.ReportMetric(cpubench.Median(second), "second-encode-ms")
	b.ReportMetric(cpubench.Median(rss), "new-RSS-MB")
}

// BenchmarkPeakRSS reports the peak resident memory that three rounds of
// n concurrent 512×512 encodes (opaque, and with alpha) add to a process
// that has compiled the module, divided by n: what each encode in flight
// costs, garbage the collector has not yet returned included.
func BenchmarkPeakRSS(b *testing.B) {
	for _, kind := range []string{"opaque", "alpha"} {
		for _, n := range []int{1, 2, 4} {
			b.Run(fmt.Sprintf("%s/concurrent=%d", kind, n), func(b *testing.B) {
				var peak []float64
				for b.Loop() {
					m := helper(b, "peak", kind+","+strconv.Itoa(n))
					peak = append(peak, m["peak-MB"]/float64(n))
				}
				b.ReportMetric(cpubench.Median(peak), "MB/encode")
			})
		}
	}
}

// helper runs TestProcessHelper in a new process and parses its
// "name=value" output.
func helper(b *testing.B, mode, arg string) map[string]float64 {
	cmd := exec.Command(os.Args[0], "-test.run=^TestProcessHelper$", "-test.v")
	cmd.Env = append(os.Environ(), processHelperEnv+"="+mode+":"+arg)
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("helper: %v\n%s", err, out)
	}
	m := map[string]float64{}
	for _, f := range strings.Fields(string(out)) {
		if k, v, ok := strings.Cut(f, "="); ok {
			if x, err := strconv.ParseFloat(v, 64); err == nil {
				m[k] = x
			}
		}
	}
	return m
}

func TestProcessHelper(t *testing.T) {
	mode, arg, _ := strings.Cut(os.Getenv(processHelperEnv), ":")
	switch mode {
	case "":
		t.Skip("runs only as a helper of BenchmarkColdStart and BenchmarkPeakRSS")
	case "cold":
		coldStart(t)
	case "peak":
		kind, n, _ := strings.Cut(arg, ",")
		c, _ := strconv.Atoi(n)
		peakRSS(t, kind, c)
	}
}

func coldStart(t *testing.T) {
	src := squareYCbCr(photographs(t)["Landscape_0.jpg"], 512)
	before := procStatus(t, "VmRSS")
	start, cpu := time.Now(), processCPU(t)
	e, err := New(1)
	if err != nil {
		t.Fatal(err)
	}
	compiled, compiledCPU := time.Since(start), processCPU(t)-cpu
	rss := procStatus(t, "VmRSS") - before
	ms := func() float64 {
		s := time.Now()
		if _, err := e.Encode(context.Background(), src, Options{}); err != nil {
			t.Fatal(err)
		}
		return float64(time.Since(s).Microseconds()) / 1e3
	}
	first, second := ms(), ms()
	fmt.Printf("new-ms=%.1f new-cpu-ms=%.1f first-ms=%.1f second-ms=%.1f rss-new-MB=%.1f\n",
		float64(compiled.Microseconds())/1e3, float64(compiledCPU.Microseconds())/1e3, first, second, rss)
}

func peakRSS(t *testing.T, kind string, n int) {
	var src image.Image = squareYCbCr(photographs(t)["Landscape_0.jpg"], 512)
	if kind == "alpha" {
		src = disc(squareRGBA(photographs(t)["Landscape_0.jpg"], 512))
	}
	e, err := New(n)
	if err != nil {
		t.Fatal(err)
	}
	debug.FreeOSMemory() // what compiling the module left behind
	base := procStatus(t, "VmRSS")
	resetPeak(t)
	for range 3 {
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				if _, err := e.Encode(context.Background(), src, Options{}); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	fmt.Printf("peak-MB=%.1f\n", procStatus(t, "VmHWM")-base)
}

// processCPU returns the CPU time the process has used, all threads.
func processCPU(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procStatus returns a memory figure of /proc/self/status in MB.
func procStatus(t *testing.T, field string) float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	t.Fatalf("no %s in /proc/self/status", field)
	return 0
}

// resetPeak resets VmHWM to the current RSS (Linux 4.0+).
func resetPeak(t *testing.T) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Fatal(err)
	}
}
