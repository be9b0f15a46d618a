package avatar

import (
	"bytes"
	"context"
	"errors"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/portraitsvc/portrait"
)

// goJPEG returns a file of Go's image testdata.
func goJPEG(tb testing.TB, name string) []byte {
	tb.Helper()
	return readFile(tb, filepath.Join(runtime.GOROOT(), "src", "image", "testdata", name))
}

// scanFlood returns Go's progressive test file followed by n scans that
// each end the band of the last luma coefficient in every block at once:
// a few dozen bytes a scan, a pass over the image each.
func scanFlood(tb testing.TB, n int) []byte {
	base := bytes.TrimSuffix(goJPEG(tb, "video-001.progressive.jpeg"), []byte{0xff, 0xd9})
	dht := []byte{0xff, 0xc4, 0, 21, 0x11, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xe0, 0x00}
	scan := append([]byte{0xff, 0xda, 0, 8, 1, 1, 0x01, 63, 63, 0x10}, make([]byte, 32)...)
	out := append(append([]byte{}, base...), dht...)
	for range n {
		out = append(out, scan...)
	}
	return append(out, 0xff, 0xd9)
}

// TestScanFloodRefused sends a 16 MiB flood of tiny refinement scans, the
// upload that cost image/jpeg hours: it is refused as a 400 after at most
// jpeg.MaxScans scans, having read little of the file.
func TestScanFloodRefused(t *testing.T) {
	data := scanFlood(t, 16<<20/42)
	r := &countingReader{Reader: bytes.NewReader(data)}
	_, err := largest(New(Config{}).Process(context.Background(), r, Options{}))
	if codeOf(err) != portrait.EUNSUPPORTEDIMAGE {
		t.Fatalf("got %v, want EUNSUPPORTEDIMAGE", err)
	}
	if r.n > 1<<20 {
		t.Errorf("read %d of %d bytes before refusing", r.n, len(data))
	}
}

// TestOneParser checks that what admission reads is what is decoded: a
// file with bytes between its segments that a separate marker walk could
// take for a segment, and one that declares a second, larger frame.
func TestOneParser(t *testing.T) {
	data := encodeJPEG(t, pattern(40, 24))
	sof := bytes.Index(data, []byte{0xff, 0xc0})
	stray := append(append(append([]byte{}, data[:sof]...), 0xff, 0x00, 0x00, 0x40, 0xff, 0xff), data[sof:]...)
	a, _ := mustProcess(t, New(Config{}), stray)
	if a.Width != 24 {
		t.Errorf("avatar of a 40×24 file is %d wide", a.Width)
	}
	n := int(data[sof+2])<<8 | int(data[sof+3])
	big := append([]byte{}, data[sof:sof+2+n]...)
	big[5], big[6], big[7], big[8] = 0x3f, 0xff, 0x3f, 0xff // 16383×16383
	sos := bytes.Index(data, []byte{0xff, 0xda})
	twice := append(append(append([]byte{}, data[:sos]...), big...), data[sos:]...)
	if _, err := process(twice); codeOf(err) != portrait.ECORRUPTIMAGE {
		t.Errorf("second frame header: got %v, want ECORRUPTIMAGE", err)
	}
}

// TestJPEGCostBoundsAllocations checks that the memory admitted for a
// JPEG bounds what processing it allocates, at every scale the pipeline
// picks and for the colour spaces that need converting.
func TestJPEGCostBoundsAllocations(t *testing.T) {
	files := map[string][]byte{
		"2000x1500 4:2:0": encodeJPEG(t, pattern(2000, 1500)),
		"300x200":         encodeJPEG(t, pattern(300, 200)),
		"cmyk":            goJPEG(t, "video-001.cmyk.jpeg"),
		"rgb":             goJPEG(t, "video-001.rgb.jpeg"),
		"progressive":     goJPEG(t, "video-001.progressive.jpeg"),
		"flood":           scanFlood(t, 100),
	}
	p := New(Config{Sizes: []int{64}})
	for name, data := range files {
		t.Run(name, func(t *testing.T) {
			up, err := p.inspect(context.Background(), bytes.NewReader(data), image.Rectangle{})
			if err != nil {
				t.Fatal(err)
			}
			allocated := allocatedBy(func() { largest(p.Process(context.Background(), bytes.NewReader(data), Options{})) })
			if int64(allocated) > up.cost {
				t.Errorf("admitted %d bytes, processing allocated %d", up.cost, allocated)
			}
		})
	}
}

// TestDecodeDeadline gives decoding no time at all: the answer is the
// deadline's own 400 code, not a cancellation.
func TestDecodeDeadline(t *testing.T) {
	data := encodeJPEG(t, pattern(1200, 900))
	for name, cfg := range map[string]Config{"jpeg": {DecodeTime: time.Nanosecond}} {
		t.Run(name, func(t *testing.T) {
			_, err := largest(New(cfg).Process(context.Background(), bytes.NewReader(data), Options{}))
			if codeOf(err) != portrait.EDECODETIMEOUT {
				t.Errorf("got %v, want EDECODETIMEOUT", err)
			}
		})
	}
	png := encodePNG(t, pattern(300, 300))
	if _, err := largest(New(Config{DecodeTime: time.Nanosecond}).Process(context.Background(), bytes.NewReader(png), Options{})); codeOf(err) != portrait.EDECODETIMEOUT {
		t.Errorf("png: got %v, want EDECODETIMEOUT", err)
	}
}

// TestClientGoneStopsDecoding cancels the request while a large JPEG is
// being decoded: Process returns the context's error, not a 400.
func TestClientGoneStopsDecoding(t *testing.T) {
	data := encodeJPEG(t, pattern(3000, 2000))
	ctx, cancel := context.WithCancel(context.Background())
	p := New(Config{})
	p.admitted = cancel // the client hangs up once decoding starts
	_, err := largest(p.Process(ctx, bytes.NewReader(data), Options{}))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

// TestScaledDecodeMatchesFull checks that decoding at a reduced scale
// makes (nearly) the same avatar as decoding in full would: the pipeline
// picks 1/2 for an 1800-pixel square, and the square differs little
// from the one a full decode makes.
func TestScaledDecodeMatchesFull(t *testing.T) {
	data := encodeJPEG(t, pattern(2400, 1800))
	p := New(Config{})
	squares := map[int]image.Image{}
	for _, scale := range []int{0, 1} {
		up, err := p.inspect(context.Background(), bytes.NewReader(data), image.Rectangle{})
		if err != nil {
			t.Fatal(err)
		}
		if scale == 0 && up.jpeg.opts.Scale != 2 {
			t.Errorf("scale 1/%d for an 1800-pixel square, want 1/2", up.jpeg.opts.Scale)
		}
		if scale != 0 {
			up.jpeg.opts.Scale = scale
		}
		img, err := p.decodeInTime(context.Background(), nil, up)
		if err != nil {
			t.Fatal(err)
		}
		squares[scale] = square(img, DefaultSizes[0])
	}
	if d := gridDistance(grid(squares[0]), grid(squares[1])); d > 1 {
		t.Errorf("grid distance %.2f between the scaled and the full decode", d)
	}
}

// TestRestartIntervalsInParallel processes a 2 MP JPEG with a restart
// marker every MCU row from a file, with worker slots to spare and
// without: the avatars are the same.
func TestRestartIntervalsInParallel(t *testing.T) {
	data := goJPEG(t, "video-001.restart2.jpeg")
	if _, err := exec.LookPath("cjpeg"); err == nil {
		path := filepath.Join(t.TempDir(), "restart.jpg")
		writeCJPEG(t, path, 1920, 1080, "-restart", "1")
		data = readFile(t, path)
	}
	path := filepath.Join(t.TempDir(), "upload.jpg")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var avatars [][]byte
	for _, workers := range []int{1, 4} {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		a, err := largest(New(Config{Workers: workers}).Process(context.Background(), f, Options{}))
		if err != nil {
			t.Fatal(err)
		}
		avatars = append(avatars, a.Data)
	}
	if !bytes.Equal(avatars[0], avatars[1]) {
		t.Error("the avatar decoded with helpers differs from the one decoded alone")
	}
}
