package jpeg

import (
	"bytes"
	"context"
	"image"
	stdjpeg "image/jpeg"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// goTestdata is the folder of Go's own image test files.
var goTestdata = filepath.Join(runtime.GOROOT(), "src", "image", "testdata")

// decode runs this package's decoder on data with o.
func decode(tb testing.TB, data []byte, o Options) (image.Image, error) {
	tb.Helper()
	d, err := NewDecoder(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	return d.Decode(context.Background(), o)
}

// maxDiff returns the largest difference between any channel of a and b
// over b's bounds, in 8-bit units, and the mean absolute difference.
func maxDiff(a, b image.Image) (int, float64) {
	worst, sum, n := 0, 0.0, 0
	r := b.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			for ch, d := range channelDiffs(a, b, x, y) {
				_ = ch
				worst = max(worst, d)
				sum += float64(d)
				n++
			}
		}
	}
	return worst, sum / float64(max(n, 1))
}

// channelDiffs compares pixel (x, y) of a and b in their own colour model
// when both are YCbCr, and in RGBA otherwise.
func channelDiffs(a, b image.Image, x, y int) []int {
	if ya, ok := a.(*image.YCbCr); ok {
		if yb, ok := b.(*image.YCbCr); ok {
			ca, cb := ya.YCbCrAt(x, y), yb.YCbCrAt(x, y)
			return []int{absDiff(ca.Y, cb.Y), absDiff(ca.Cb, cb.Cb), absDiff(ca.Cr, cb.Cr)}
		}
	}
	if ya, ok := a.(*image.CMYK); ok {
		if yb, ok := b.(*image.CMYK); ok {
			ca, cb := ya.CMYKAt(x, y), yb.CMYKAt(x, y)
			return []int{absDiff(ca.C, cb.C), absDiff(ca.M, cb.M), absDiff(ca.Y, cb.Y), absDiff(ca.K, cb.K)}
		}
	}
	r1, g1, b1, _ := a.At(x, y).RGBA()
	r2, g2, b2, _ := b.At(x, y).RGBA()
	return []int{absDiff(uint8(r1>>8), uint8(r2>>8)), absDiff(uint8(g1>>8), uint8(g2>>8)), absDiff(uint8(b1>>8), uint8(b2>>8))}
}

func absDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

// corpus is the shared test corpus, relative to this package's folder.
const corpus = "../../shared/corpus"

// TestMatchesImageJPEG decodes Go's test JPEGs and the shared corpus's
// photos at 1/1 and compares them with image/jpeg: the same verdict, and
// every Y, Cb, Cr (or grey, RGB, CMYK) sample within 1. Both use the same
// integer IDCT factorisation; they round between passes differently.
func TestMatchesImageJPEG(t *testing.T) {
	names, _ := filepath.Glob(filepath.Join(goTestdata, "*.jpeg"))
	photos, _ := filepath.Glob(filepath.Join(corpus, "exif-orientation", "*.jpg"))
	if len(photos) == 0 {
		t.Log("shared corpus absent: Go's files only")
	}
	for _, path := range append(names, photos...) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			want, werr := stdjpeg.Decode(bytes.NewReader(data))
			got, gerr := decode(t, data, Options{})
			if (werr == nil) != (gerr == nil) {
				t.Fatalf("image/jpeg: %v; this package: %v", werr, gerr)
			}
			if werr != nil {
				return
			}
			if got.Bounds() != want.Bounds() {
				t.Fatalf("bounds %v, want %v", got.Bounds(), want.Bounds())
			}
			worst, mean := maxDiff(got, want)
			t.Logf("%T vs %T: max diff %d, mean %.3f", got, want, worst, mean)
			if worst > 1 {
				t.Errorf("max diff %d", worst)
			}
		})
	}
}
