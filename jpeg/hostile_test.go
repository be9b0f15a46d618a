package jpeg

import (
	"bytes"
	"context"
	"errors"
	"image"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
)

// progressiveBase returns Go's progressive test file without its EOI.
func progressiveBase(tb testing.TB) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(goTestdata, "video-001.progressive.jpeg"))
	if err != nil {
		tb.Skip(err)
	}
	return bytes.TrimSuffix(data, []byte{0xff, 0xd9})
}

// eobTable defines AC table 1 with two 1-bit codes: 0 for EOB14 (an end of
// band for the next 2¹⁴ + 14 bits blocks) and 1 for EOB0.
var eobTable = []byte{0xff, 0xc4, 0, 2 + 17 + 2, 0x11, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xe0, 0x00}

// flood appends n scans of component 1 (Y) over the band ss–se that
// end their band in every block at once: a few bytes each, a pass over
// every block each.
func flood(base []byte, n, ss, se int, refine bool) []byte {
	out := append(append([]byte{}, base...), eobTable...)
	ahal := byte(0)
	if refine {
		ahal = 0x10
	}
	// EOB14 with a run of 2¹⁴, then zero bits: correction bits for the
	// blocks whose coefficients in the band are already non-zero.
	scan := append([]byte{0xff, 0xda, 0, 8, 1, 1, 0x01, byte(ss), byte(se), ahal}, make([]byte, 32)...)
	for range n {
		out = append(out, scan...)
	}
	return append(out, 0xff, 0xd9)
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r *bytes.Reader
	n int
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += n
	return n, err
}

func TestScanFlood(t *testing.T) {
	base := progressiveBase(t)
	for _, tc := range []struct {
		name    string
		data    []byte
		maxRead int
	}{
		// 100 000 scans of the last coefficient: cut off at the 65th.
		{"many tiny refinement scans", flood(base, 100_000, 63, 63, true), len(base) + 64*42 + sourceSize},
		// Fewer scans than the cap, but each visits the whole band.
		{"whole-band scans", flood(base, 50, 1, 63, false), len(base) + 50*42 + 64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cr := &countingReader{r: bytes.NewReader(tc.data)}
			d, err := NewDecoder(cr)
			if err != nil {
				t.Fatal(err)
			}
			_, err = d.Decode(context.Background(), Options{})
			var limit LimitError
			if !errors.As(err, &limit) {
				t.Fatalf("got %v, want a LimitError", err)
			}
			if cr.n > tc.maxRead {
				t.Errorf("read %d bytes of %d before refusing", cr.n, len(tc.data))
			}
		})
	}
}

// TestScansWithinBoundsDecode checks that the bounds leave room for real
// scripts: the base file plus refinement scans within both caps decodes.
func TestScansWithinBoundsDecode(t *testing.T) {
	data := flood(progressiveBase(t), 20, 63, 63, true)
	if _, err := decode(t, data, Options{}); err != nil {
		t.Fatal(err)
	}
}

// cancellingReader cancels a context once at bytes have been read.
type cancellingReader struct {
	countingReader
	at     int
	cancel context.CancelFunc
	readAt int // bytes read when it cancelled
}

func (c *cancellingReader) Read(b []byte) (int, error) {
	n, err := c.countingReader.Read(b[:min(len(b), 4096)])
	if c.n >= c.at && c.readAt == 0 {
		c.cancel()
		c.readAt = c.n
	}
	return n, err
}

// TestCancelStopsDecoding cancels the context half-way through the data
// of a baseline and a progressive file: decoding stops within a row of
// MCUs, having read little more.
func TestCancelStopsDecoding(t *testing.T) {
	big := benchFileT(t, 1600, 1200)
	files := map[string][]byte{"baseline": big, "progressive": flood(progressiveBase(t), 60, 63, 63, true)}
	for name, data := range files {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			cr := &cancellingReader{countingReader: countingReader{r: bytes.NewReader(data)}, at: len(data) / 2, cancel: cancel}
			d, err := NewDecoder(cr)
			if err != nil {
				t.Fatal(err)
			}
			_, err = d.Decode(ctx, Options{})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("got %v, want context.Canceled", err)
			}
			if extra := cr.n - cr.readAt; extra > sourceSize+4096 {
				t.Errorf("read %d bytes after the cancellation", extra)
			}
		})
	}
}

// TestMultipleFramesRefused checks that a second frame header, which
// could declare other dimensions than the first, is refused.
func TestMultipleFramesRefused(t *testing.T) {
	data := benchFileT(t, 16, 16)
	sof := bytes.Index(data, []byte{0xff, 0xc0})
	n := int(data[sof+2])<<8 | int(data[sof+3])
	big := append([]byte{}, data[sof:sof+2+n]...)
	big[5], big[6], big[7], big[8] = 0x40, 0, 0x40, 0 // 16384×16384
	sos := bytes.Index(data, []byte{0xff, 0xda})
	twice := append(append(append([]byte{}, data[:sos]...), big...), data[sos:]...)
	if _, err := NewDecoder(bytes.NewReader(twice)); err == nil {
		t.Fatal("a file with two frame headers was accepted")
	}
}

// TestStrayBytesBetweenSegments puts what one marker walk may take for a
// segment ("FF 00", fill bytes, junk) between the segments of a file: the
// frame the header reports is the one decoded.
func TestStrayBytesBetweenSegments(t *testing.T) {
	data := benchFileT(t, 40, 24)
	sof := bytes.Index(data, []byte{0xff, 0xc0})
	junk := []byte{0xff, 0x00, 0x00, 0x40, 0x12, 0xff, 0xff, 0xff}
	file := append(append(append([]byte{}, data[:sof]...), junk...), data[sof:]...)
	d, err := NewDecoder(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	h := d.Header()
	m, err := d.Decode(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if h.Width != 40 || h.Height != 24 || m.Bounds() != image.Rect(0, 0, 40, 24) {
		t.Errorf("header %d×%d, decoded %v", h.Width, h.Height, m.Bounds())
	}
}

// allocatedBy returns the bytes allocated on the heap while fn ran.
func allocatedBy(fn func()) int64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return int64(after.TotalAlloc - before.TotalAlloc)
}

// checkMemory decodes data with o and fails if the decoder allocated more
// than Memory(o) said, whether or not decoding succeeded.
func checkMemory(t *testing.T, data []byte, o Options) {
	t.Helper()
	var est int64
	allocated := allocatedBy(func() {
		d, err := NewDecoder(bytes.NewReader(data))
		if err != nil {
			return
		}
		est = d.Memory(o)
		d.Decode(context.Background(), o)
	})
	if est == 0 {
		est = decoderSize
	}
	if allocated > est {
		t.Errorf("options %+v: allocated %d bytes, estimated %d", o, allocated, est)
	}
}

// TestMemoryEstimateIsUpperBound checks Memory against what the decoder
// really allocates, for every scale and several crops, on Go's files, the
// fixtures, the hostile files above and broken ones.
func TestMemoryEstimateIsUpperBound(t *testing.T) {
	files := map[string][]byte{}
	names, _ := filepath.Glob(filepath.Join(goTestdata, "*.jpeg"))
	fix, _ := filepath.Glob(filepath.Join("testdata", "*.jpg"))
	for _, path := range append(names, fix...) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Base(path)] = data
		files[filepath.Base(path)+" cut"] = data[:len(data)*2/3]
	}
	base := progressiveBase(t)
	files["flood"] = flood(base, 2000, 63, 63, true)
	files["whole-band scans"] = flood(base, 50, 1, 63, false)
	defer func(i, m int) { minParallelIntervals, minParallelMCUs = i, m }(minParallelIntervals, minParallelMCUs)
	minParallelIntervals, minParallelMCUs = 2, 1 // helpers for the small files with restart markers
	var granted atomic.Int32
	for name, data := range files {
		t.Run(name, func(t *testing.T) {
			for _, s := range []int{1, 2, 4, 8} {
				for _, crop := range []image.Rectangle{{}, image.Rect(30, 0, 133, 103), image.Rect(0, 0, 9, 9)} {
					checkMemory(t, data, Options{Scale: s, Crop: crop})
					checkMemory(t, data, Options{Scale: s, Crop: crop, Helpers: grant(3, &granted)})
				}
			}
		})
	}
	if granted.Load() == 0 {
		t.Error("no decode used helpers")
	}
}

// TestFrameWithoutScan checks that a file that ends after its frame
// header is an error that still tells the dimensions it declared, so that
// a caller can refuse it for its size.
func TestFrameWithoutScan(t *testing.T) {
	data := benchFileT(t, 16, 16)
	sos := bytes.Index(data, []byte{0xff, 0xda})
	d, err := NewDecoder(bytes.NewReader(append(data[:sos:sos], 0xff, 0xd9)))
	if err == nil || d == nil || d.Header().Width != 16 {
		t.Fatalf("got %v and %v, want an error and the 16×16 header", d, err)
	}
	if _, derr := d.Decode(context.Background(), Options{}); derr != err {
		t.Errorf("Decode: %v, want %v", derr, err)
	}
}
