package avatar

import (
	"fmt"
	"image"
	"image/color"
	"math/rand/v2"
	"testing"
)

// noisyYCbCr returns a YCbCr image of bounds b filled with random samples.
func noisyYCbCr(rng *rand.Rand, b image.Rectangle, ratio image.YCbCrSubsampleRatio) *image.YCbCr {
	m := image.NewYCbCr(b, ratio)
	for _, plane := range [][]uint8{m.Y, m.Cb, m.Cr} {
		for i := range plane {
			plane[i] = uint8(rng.IntN(256))
		}
	}
	return m
}

// noisy fills the Pix of any standard image with random bytes.
func noisy(rng *rand.Rand, pix []uint8) {
	for i := range pix {
		pix[i] = uint8(rng.IntN(256))
	}
}

// TestShrinkYCbCr checks the box filter on every chroma subsampling, odd
// sizes and origins, and sub-images, against averages taken pixel by
// pixel through YCbCrAt.
func TestShrinkYCbCr(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	ratios := []image.YCbCrSubsampleRatio{
		image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420,
		image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410,
	}
	for _, ratio := range ratios {
		for _, b := range []image.Rectangle{image.Rect(0, 0, 37, 29), image.Rect(-3, 5, 40, 26), image.Rect(1, 1, 16, 16)} {
			full := noisyYCbCr(rng, b, ratio)
			sub := full.SubImage(image.Rect(b.Min.X+1, b.Min.Y+3, b.Max.X-2, b.Max.Y-1)).(*image.YCbCr)
			for _, m := range []*image.YCbCr{full, sub} {
				for _, k := range []int{1, 2, 3, 5} {
					name := fmt.Sprintf("%v/%v/%v/k=%d", ratio, b, m.Rect, k)
					checkShrinkYCbCr(t, name, m, k)
				}
			}
		}
	}
}

func checkShrinkYCbCr(t *testing.T, name string, m *image.YCbCr, k int) {
	t.Helper()
	side := min(m.Rect.Dx(), m.Rect.Dy())
	r := centred(m.Rect, side/k*k)
	got := shrink(m, r, k)
	n := uint32(k * k)
	for oy := range r.Dy() / k {
		for ox := range r.Dx() / k {
			var sy, sb, sr uint32
			for y := r.Min.Y + oy*k; y < r.Min.Y+(oy+1)*k; y++ {
				for x := r.Min.X + ox*k; x < r.Min.X+(ox+1)*k; x++ {
					c := m.YCbCrAt(x, y)
					sy, sb, sr = sy+uint32(c.Y), sb+uint32(c.Cb), sr+uint32(c.Cr)
				}
			}
			wr, wg, wb := color.YCbCrToRGB(uint8((sy+n/2)/n), uint8((sb+n/2)/n), uint8((sr+n/2)/n))
			if c := got.RGBAAt(ox, oy); c != (color.RGBA{wr, wg, wb, 0xff}) {
				t.Fatalf("%s: pixel (%d,%d) is %v, want %v", name, ox, oy, c, color.RGBA{wr, wg, wb, 0xff})
			}
		}
	}
}

// TestShrinkOtherModels checks the box filter on every other image type
// the decoders return, against premultiplied averages taken through At,
// to within rounding.
func TestShrinkOtherModels(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	b := image.Rect(3, -2, 30, 21)
	pal := make(color.Palette, 256)
	for i := range pal {
		pal[i] = color.NRGBA{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256))}
	}
	images := map[string]image.Image{}
	gray, rgba, nrgba := image.NewGray(b), image.NewRGBA(b), image.NewNRGBA(b)
	paletted, cmyk, gray16 := image.NewPaletted(b, pal), image.NewCMYK(b), image.NewGray16(b)
	rgba64, nrgba64 := image.NewRGBA64(b), image.NewNRGBA64(b)
	nycbcra := image.NewNYCbCrA(b, image.YCbCrSubsampleRatio420)
	for _, pix := range [][]uint8{gray.Pix, nrgba.Pix, paletted.Pix, cmyk.Pix, gray16.Pix, nrgba64.Pix,
		nycbcra.Y, nycbcra.Cb, nycbcra.Cr, nycbcra.A} {
		noisy(rng, pix)
	}
	for i := 0; i < len(rgba.Pix); i += 4 { // valid premultiplied colours
		a := uint8(rng.IntN(256))
		for c := range 4 {
			v := a
			if c < 3 {
				v = uint8(rng.IntN(int(a) + 1))
			}
			rgba.Pix[i+c] = v
			rgba64.Pix[2*(i+c)], rgba64.Pix[2*(i+c)+1] = v, uint8(rng.IntN(256))|uint8(c/3*0xff)
		}
	}
	images["gray"], images["rgba"], images["nrgba"], images["paletted"] = gray, rgba, nrgba, paletted
	images["cmyk"], images["gray16"], images["rgba64"], images["nrgba64"] = cmyk, gray16, rgba64, nrgba64
	images["nycbcra"] = nycbcra
	images["paletted sub-image"] = paletted.SubImage(image.Rect(4, 0, 25, 20))
	for name, m := range images {
		for _, k := range []int{1, 2, 3, 4} {
			checkShrinkRGBA(t, fmt.Sprintf("%s/k=%d", name, k), m, k)
		}
	}
}

func checkShrinkRGBA(t *testing.T, name string, m image.Image, k int) {
	t.Helper()
	b := m.Bounds()
	r := centred(b, min(b.Dx(), b.Dy())/k*k)
	got := shrink(m, r, k)
	n := uint32(k * k)
	for oy := range r.Dy() / k {
		for ox := range r.Dx() / k {
			var s [4]uint32
			for y := r.Min.Y + oy*k; y < r.Min.Y+(oy+1)*k; y++ {
				for x := r.Min.X + ox*k; x < r.Min.X+(ox+1)*k; x++ {
					cr, cg, cb, ca := m.At(x, y).RGBA()
					s[0], s[1], s[2], s[3] = s[0]+cr>>8, s[1]+cg>>8, s[2]+cb>>8, s[3]+ca>>8
				}
			}
			c := got.RGBAAt(ox, oy)
			for i, v := range []uint8{c.R, c.G, c.B, c.A} {
				want := int((s[i] + n/2) / n)
				if d := int(v) - want; d < -1 || d > 1 {
					t.Fatalf("%s: pixel (%d,%d) channel %d is %d, want %d", name, ox, oy, i, v, want)
				}
			}
			if c.R > c.A || c.G > c.A || c.B > c.A {
				t.Fatalf("%s: pixel (%d,%d) %v is not premultiplied", name, ox, oy, c)
			}
		}
	}
}

// TestSquareKeepsFlatColour shrinks flat images of awkward sizes through
// every stage and checks that the colour survives everywhere.
func TestSquareKeepsFlatColour(t *testing.T) {
	for _, tc := range []struct {
		w, h, size, side int
	}{
		{1037, 1531, 512, 512}, {4095, 3001, 512, 512}, {601, 599, 512, 512}, {77, 33, 512, 33}, {2000, 1999, 100, 100},
	} {
		m := image.NewYCbCr(image.Rect(5, 7, 5+tc.w, 7+tc.h), image.YCbCrSubsampleRatio420)
		for i := range m.Y {
			m.Y[i] = 140
		}
		for i := range m.Cb {
			m.Cb[i], m.Cr[i] = 90, 170
		}
		got := square(m, tc.size)
		if got.Rect != image.Rect(0, 0, tc.side, tc.side) {
			t.Fatalf("%dx%d: bounds %v, want a %d square at the origin", tc.w, tc.h, got.Rect, tc.side)
		}
		wr, wg, wb := color.YCbCrToRGB(140, 90, 170)
		want := color.RGBA{wr, wg, wb, 0xff}
		for y := range tc.side {
			for x := range tc.side {
				if c := got.RGBAAt(x, y); c != want {
					t.Fatalf("%dx%d: pixel (%d,%d) is %v, want %v", tc.w, tc.h, x, y, c, want)
				}
			}
		}
	}
}
