package webp

import (
	"bytes"
	"context"
	"image"
	"image/color"
	_ "image/jpeg" // photographs of the corpus
	"math"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/image/draw"
	xwebp "golang.org/x/image/webp"
)

// corpus is the shared test corpus, relative to this package.
const corpus = "../../shared/corpus"

// skipOrFail skips a test that lacks something from outside the
// repository, and fails it in CI, where it must be there.
func skipOrFail(tb testing.TB, format string, args ...any) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf(format, args...)
	}
	tb.Skipf(format, args...)
}

// photographs returns the real photographs benchmarks and quality tests
// use: the EXIF corpus's landscape and portrait and, if WEBP_PHOTOS names a
// folder, every JPEG and PNG in it (BENCHMARKS.md says which).
func photographs(tb testing.TB) map[string]image.Image {
	tb.Helper()
	paths := []string{
		filepath.Join(corpus, "exif-orientation", "Landscape_0.jpg"),
		filepath.Join(corpus, "exif-orientation", "Portrait_0.jpg"),
	}
	if dir := os.Getenv("WEBP_PHOTOS"); dir != "" {
		for _, pat := range []string{"*.jpg", "*.png"} {
			more, _ := filepath.Glob(filepath.Join(dir, pat))
			paths = append(paths, more...)
		}
	}
	photos := map[string]image.Image{}
	for _, p := range paths {
		if m, err := decodeFile(p); err == nil && isOpaque(m) {
			photos[filepath.Base(p)] = m
		}
	}
	if len(photos) == 0 {
		skipOrFail(tb, "no photographs: %s is absent", corpus)
	}
	return photos
}

// transparentPictures returns pictures with real transparency, each
// squared to size: the landscape photograph cut out as a disc with a
// soft edge (a typical transparent avatar) and, if WEBP_PHOTOS names a
// folder, its PNGs with an alpha channel (scikit-image's logo).
func transparentPictures(tb testing.TB, size int) map[string]*image.RGBA {
	tb.Helper()
	out := map[string]*image.RGBA{"disc": disc(squareRGBA(photographs(tb)["Landscape_0.jpg"], size))}
	if dir := os.Getenv("WEBP_PHOTOS"); dir != "" {
		more, _ := filepath.Glob(filepath.Join(dir, "*.png"))
		for _, p := range more {
			if m, err := decodeFile(p); err == nil && !isOpaque(m) && min(m.Bounds().Dx(), m.Bounds().Dy()) >= size {
				out[filepath.Base(p)] = squareRGBA(m, size)
			}
		}
	}
	return out
}

// disc makes m transparent outside its inscribed circle, with a one-pixel
// antialiased edge; m is premultiplied, so its colours scale too.
func disc(m *image.RGBA) *image.RGBA {
	r := float64(m.Rect.Dx()) / 2
	for y := range m.Rect.Dy() {
		for x := range m.Rect.Dx() {
			d := math.Hypot(float64(x)+0.5-r, float64(y)+0.5-r)
			a := max(0, min(1, r-d))
			i := m.PixOffset(x, y)
			for c := range 4 {
				m.Pix[i+c] = uint8(math.Round(float64(m.Pix[i+c]) * a))
			}
		}
	}
	return m
}

func isOpaque(m image.Image) bool {
	o, ok := m.(interface{ Opaque() bool })
	return !ok || o.Opaque()
}

func decodeFile(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, _, err := image.Decode(f)
	return m, err
}

// squareRGBA returns the centred square of src scaled to size, never
// enlarged, as the pipeline's RGBA output would be.
func squareRGBA(src image.Image, size int) *image.RGBA {
	b := src.Bounds()
	side := min(b.Dx(), b.Dy())
	size = min(size, side)
	x, y := b.Min.X+(b.Dx()-side)/2, b.Min.Y+(b.Dy()-side)/2
	dst := image.NewRGBA(image.Rect(0, 0, size, size))
	draw.CatmullRom.Scale(dst, dst.Rect, src, image.Rect(x, y, x+side, y+side), draw.Src, nil)
	return dst
}

// squareYCbCr is squareRGBA as the pipeline gives opaque pictures: 4:2:0
// YCbCr, full range, chroma averaged over 2×2 pixels.
func squareYCbCr(src image.Image, size int) *image.YCbCr {
	return toYCbCr(squareRGBA(src, size))
}

func toYCbCr(m *image.RGBA) *image.YCbCr {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	dst := image.NewYCbCr(m.Rect, image.YCbCrSubsampleRatio420)
	cb, cr := make([]int, len(dst.Cb)), make([]int, len(dst.Cr))
	n := make([]int, len(dst.Cb))
	for y := range h {
		for x := range w {
			p := m.RGBAAt(x, y)
			yy, u, v := color.RGBToYCbCr(p.R, p.G, p.B)
			dst.Y[y*dst.YStride+x] = yy
			i := (y/2)*dst.CStride + x/2
			cb[i], cr[i], n[i] = cb[i]+int(u), cr[i]+int(v), n[i]+1
		}
	}
	for i := range n {
		dst.Cb[i] = uint8((cb[i] + n[i]/2) / n[i])
		dst.Cr[i] = uint8((cr[i] + n[i]/2) / n[i])
	}
	return dst
}

// mustEncode encodes img with a fresh Encoder and fails the test on error.
func mustEncode(tb testing.TB, img image.Image, o Options) []byte {
	tb.Helper()
	e, err := New(1)
	if err != nil {
		tb.Fatal(err)
	}
	b, err := e.Encode(context.Background(), img, o)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// decodeWebP decodes b with golang.org/x/image/webp and returns its pixels
// as a browser shows them: VP8's video-range BT.601 converted to RGB (the
// image package would read its planes as full-range JFIF).
func decodeWebP(tb testing.TB, b []byte) *image.NRGBA {
	tb.Helper()
	m, err := xwebp.Decode(bytes.NewReader(b))
	if err != nil {
		tb.Fatalf("x/image/webp cannot decode the result: %v", err)
	}
	r := m.Bounds()
	dst := image.NewNRGBA(r)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			dst.SetNRGBA(x, y, browserColor(m, x, y))
		}
	}
	return dst
}

func browserColor(m image.Image, x, y int) color.NRGBA {
	switch m := m.(type) {
	case *image.NYCbCrA:
		c := videoToRGB(m.YCbCr.YCbCrAt(x, y))
		c.A = m.A[m.AOffset(x, y)]
		return c
	case *image.YCbCr:
		return videoToRGB(m.YCbCrAt(x, y))
	}
	return color.NRGBAModel.Convert(m.At(x, y)).(color.NRGBA)
}

// videoToRGB is BT.601 video range to RGB, as libwebp's decoder does it.
func videoToRGB(c color.YCbCr) color.NRGBA {
	y := 1.164 * (float64(c.Y) - 16)
	u, v := float64(c.Cb)-128, float64(c.Cr)-128
	clamp := func(f float64) uint8 { return uint8(math.Round(max(0, min(255, f)))) }
	return color.NRGBA{clamp(y + 1.596*v), clamp(y - 0.392*u - 0.813*v), clamp(y + 2.017*u), 0xff}
}

// meanAbsDiff returns the mean absolute difference of the R, G and B of
// the pixels of a and b whose alpha (in a) is at least minAlpha, and the
// largest difference of their alpha.
func meanAbsDiff(a, b *image.NRGBA, minAlpha uint8) (rgb float64, alpha int) {
	var sum, n float64
	for i := 0; i < len(a.Pix); i += 4 {
		alpha = max(alpha, absInt(int(a.Pix[i+3])-int(b.Pix[i+3])))
		if a.Pix[i+3] < minAlpha {
			continue
		}
		for c := range 3 {
			sum += math.Abs(float64(a.Pix[i+c]) - float64(b.Pix[i+c]))
		}
		n += 3
	}
	return sum / max(n, 1), alpha
}

func absInt(v int) int { return max(v, -v) }

// toNRGBA converts any image to non-premultiplied RGBA at its own bounds.
func toNRGBA(m image.Image) *image.NRGBA {
	dst := image.NewNRGBA(m.Bounds())
	draw.Draw(dst, dst.Rect, m, m.Bounds().Min, draw.Src)
	return dst
}

// sizes are the avatar sizes the pipeline makes.
var sizes = []int{512, 256, 128, 64}

// jpegQuality is the pipeline's JPEG quality, the reference.
const jpegQuality = 85
