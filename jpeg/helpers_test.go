package jpeg

import (
	"bytes"
	stdjpeg "image/jpeg"
	"testing"

	"github.com/portraitsvc/portrait/internal/testimage"
)

// benchFileT returns a w×h photo-like baseline JPEG made by image/jpeg.
func benchFileT(tb testing.TB, w, h int) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := stdjpeg.Encode(&buf, testimage.Photo(w, h), &stdjpeg.Options{Quality: 90}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}
