package jpeg

import (
	"bytes"
	"context"
	stdjpeg "image/jpeg"
	"testing"
	"time"

	"github.com/portraitsvc/portrait/internal/testimage"
)

// benchFile returns a w×h photo-like baseline JPEG made by image/jpeg.
func benchFile(b *testing.B, w, h int) []byte {
	b.Helper()
	var buf bytes.Buffer
	if err := stdjpeg.Encode(&buf, testimage.Photo(w, h), &stdjpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

func benchDecode(b *testing.B, data []byte, o Options) {
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		d, err := NewDecoder(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := d.Decode(context.Background(), o); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode12MP(b *testing.B) {
	data := benchFile(b, 4032, 3024)
	for _, s := range []int{1, 2, 4, 8} {
		b.Run("scale1/"+string(rune('0'+s)), func(b *testing.B) { benchDecode(b, data, Options{Scale: s}) })
	}
	b.Run("image-jpeg", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := stdjpeg.Decode(bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkDecode12MPProgressive decodes a 12 MP progressive cjpeg file
// at 1/4, the scale the pipeline picks for it.
func BenchmarkDecode12MPProgressive(b *testing.B) {
	data := cjpeg(b, 4032, 3024, "-quality", "90", "-progressive")
	b.Run("scale1/4", func(b *testing.B) { benchDecode(b, data, Options{Scale: 4}) })
	b.Run("scale1/1", func(b *testing.B) { benchDecode(b, data, Options{}) })
}

// BenchmarkCancelLatency decodes a 30 MP progressive file in full and
// cancels the context 100 ms in: it reports how long Decode took to
// return after the cancellation (the bound is 100 ms).
func BenchmarkCancelLatency(b *testing.B) {
	data := cjpeg(b, 6000, 5000, "-quality", "95", "-progressive")
	var worst time.Duration
	for b.Loop() {
		d, err := NewDecoder(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var at time.Time
		timer := time.AfterFunc(100*time.Millisecond, func() { at = time.Now(); cancel() })
		_, err = d.Decode(ctx, Options{})
		timer.Stop()
		if err == nil {
			b.Fatal("decoded before the cancellation")
		}
		worst = max(worst, time.Since(at))
	}
	b.ReportMetric(float64(worst.Microseconds())/1000, "worst-ms-after-cancel")
}
