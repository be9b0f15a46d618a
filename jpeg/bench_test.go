package jpeg

import (
	"bytes"
	"context"
	stdjpeg "image/jpeg"
	"testing"
)

// benchFile returns a w×h photo-like baseline JPEG made by image/jpeg.
func benchFile(b *testing.B, w, h int) []byte {
	b.Helper()
	var buf bytes.Buffer
	if err := stdjpeg.Encode(&buf, photo(w, h), &stdjpeg.Options{Quality: 90}); err != nil {
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
