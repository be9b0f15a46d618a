// Package blurhash computes what a front-end shows while an avatar loads:
// its BlurHash (github.com/bbrks/go-blurhash), decoded in the browser by
// the blurhash package of npm, and its average colour.
package blurhash

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"

	"github.com/bbrks/go-blurhash"
)

// Components is the number of BlurHash components along each side of the
// (square) avatar: 4×4 gives a 36-character hash.
const Components = 4

// MaxSide bounds the pictures Encode and Average take: they are meant for
// the small copy the pipeline downscales anyway (32 to 100 pixels a side);
// the cost of a hash grows with its pixels.
const MaxSide = 128

// Encode returns the BlurHash of img, which must be at most MaxSide
// pixels a side. BlurHash has no alpha channel, so img is first
// composited over white, the page a transparent avatar most often sits on.
func Encode(img image.Image) (string, error) {
	if err := check(img); err != nil {
		return "", err
	}
	b := img.Bounds()
	flat := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(flat, flat.Rect, image.White, image.Point{}, draw.Src)
	draw.Draw(flat, flat.Rect, img, b.Min, draw.Over)
	h, err := blurhash.Encode(Components, Components, flat)
	if err != nil {
		return "", fmt.Errorf("blurhash: %w", err) // cannot happen: the components are valid
	}
	return h, nil
}

// Average returns the mean colour of img's pixels, weighted by their
// alpha and taken in linear light, as BlurHash's own first term is (so the
// placeholder and the colour agree), opaque. A fully transparent picture
// averages to white, the colour Encode composites it over. img must be at
// most MaxSide pixels a side.
func Average(img image.Image) (color.RGBA, error) {
	if err := check(img); err != nil {
		return color.RGBA{}, err
	}
	b := img.Bounds()
	m := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(m, m.Rect, img, b.Min, draw.Src)
	var sum [3]float64
	var weight float64
	for i := 0; i < len(m.Pix); i += 4 {
		p := m.Pix[i : i+4 : i+4]
		a := float64(p[3]) / 0xff
		sum[0] += a * linear[p[0]]
		sum[1] += a * linear[p[1]]
		sum[2] += a * linear[p[2]]
		weight += a
	}
	if weight == 0 {
		return color.RGBA{0xff, 0xff, 0xff, 0xff}, nil
	}
	return color.RGBA{toSRGB(sum[0] / weight), toSRGB(sum[1] / weight), toSRGB(sum[2] / weight), 0xff}, nil
}

// Hex returns c as CSS writes it, "#rrggbb".
func Hex(c color.RGBA) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }

func check(img image.Image) error {
	b := img.Bounds()
	if b.Empty() || b.Dx() > MaxSide || b.Dy() > MaxSide {
		return fmt.Errorf("blurhash: a %d×%d picture; want 1 to %d pixels a side", b.Dx(), b.Dy(), MaxSide)
	}
	return nil
}

// linear maps 8-bit sRGB samples to linear light, 0 to 1.
var linear = func() (t [256]float64) {
	for v := range t {
		s := float64(v) / 0xff
		if s <= 0.04045 {
			t[v] = s / 12.92
		} else {
			t[v] = math.Pow((s+0.055)/1.055, 2.4)
		}
	}
	return t
}()

// toSRGB converts linear light back to an 8-bit sRGB sample.
func toSRGB(l float64) uint8 {
	l = max(0, min(1, l))
	s := 12.92 * l
	if l > 0.0031308 {
		s = 1.055*math.Pow(l, 1/2.4) - 0.055
	}
	return uint8(math.Round(s * 255))
}
