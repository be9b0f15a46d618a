package avatar

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"testing"

	"golang.org/x/image/draw"
)

// shrink collects the rows of boxRows into an image.
func shrink(src image.Image, r image.Rectangle, k int) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, r.Dx()/k, r.Dy()/k))
	next := boxRows(src, r, k)
	for y := range dst.Rect.Dy() {
		next(dst.Pix[y*dst.Stride : (y+1)*dst.Stride])
	}
	return dst
}

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
	n := uint32(k * k)
	next := yccRows(m, r, k)
	w := r.Dx() / k
	ry, rb, rr := make([]uint8, w), make([]uint8, w), make([]uint8, w)
	for oy := range r.Dy() / k {
		next(ry, rb, rr)
		for ox := range w {
			var sy, sb, sr uint32
			for y := r.Min.Y + oy*k; y < r.Min.Y+(oy+1)*k; y++ {
				for x := r.Min.X + ox*k; x < r.Min.X+(ox+1)*k; x++ {
					c := m.YCbCrAt(x, y)
					sy, sb, sr = sy+uint32(c.Y), sb+uint32(c.Cb), sr+uint32(c.Cr)
				}
			}
			want := [3]uint8{uint8((sy + n/2) / n), uint8((sb + n/2) / n), uint8((sr + n/2) / n)}
			if got := [3]uint8{ry[ox], rb[ox], rr[ox]}; got != want {
				t.Fatalf("%s: pixel (%d,%d) is %v, want %v", name, ox, oy, got, want)
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

// TestSquareKeepsFlatColour shrinks flat images of awkward sizes and
// origins through every stage, on both the YCbCr and the RGBA paths, and
// checks that the colour survives everywhere.
func TestSquareKeepsFlatColour(t *testing.T) {
	for _, tc := range []struct {
		w, h, size, side int
	}{
		{1037, 1531, 512, 512}, {2051, 1601, 512, 512}, {601, 599, 512, 512}, {77, 33, 512, 33},
		{2000, 1999, 100, 100}, {3, 5, 512, 3}, {1, 1, 512, 1}, {700, 3, 2, 2},
	} {
		r := image.Rect(5, 7, 5+tc.w, 7+tc.h)
		ycc := image.NewYCbCr(r, image.YCbCrSubsampleRatio420)
		for i := range ycc.Y {
			ycc.Y[i] = 140
		}
		for i := range ycc.Cb {
			ycc.Cb[i], ycc.Cr[i] = 90, 170
		}
		nrgba := image.NewNRGBA(r)
		for i := 0; i < len(nrgba.Pix); i += 4 {
			copy(nrgba.Pix[i:], []uint8{200, 100, 50, 128})
		}
		for name, src := range map[string]image.Image{"ycbcr": ycc, "nrgba": nrgba} {
			got := square(src, tc.size)
			if got.Bounds() != image.Rect(0, 0, tc.side, tc.side) {
				t.Fatalf("%s %dx%d: bounds %v, want a %d square at the origin", name, tc.w, tc.h, got.Bounds(), tc.side)
			}
			want := color.RGBA64Model.Convert(src.At(r.Min.X, r.Min.Y))
			for y := range tc.side {
				for x := range tc.side {
					if c := color.RGBA64Model.Convert(got.At(x, y)); !near(c, want) {
						t.Fatalf("%s %dx%d: pixel (%d,%d) is %v, want %v", name, tc.w, tc.h, x, y, c, want)
					}
				}
			}
		}
	}
}

// near reports whether two colours differ by at most one 8-bit step per
// channel (the premultiplication of NRGBA rounds).
func near(a, b color.Color) bool {
	ar, ag, ab, aa := a.RGBA()
	br, bg, bb, ba := b.RGBA()
	for _, d := range []int{int(ar) - int(br), int(ag) - int(bg), int(ab) - int(bb), int(aa) - int(ba)} {
		if d < -0x101 || d > 0x101 {
			return false
		}
	}
	return true
}

// TestResampleMatchesXImage compares the Catmull-Rom pass with x/image/draw's
// on a detailed image, for several scale factors below two.
func TestResampleMatchesXImage(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 700, 700))
	draw.Draw(src, src.Rect, pattern(700, 700), image.Point{}, draw.Src)
	for _, out := range []int{699, 512, 401, 351} {
		got := image.NewRGBA(image.Rect(0, 0, out, out))
		f := newFilter(700, out, 4, got.Pix, got.Stride)
		for y := range 700 {
			f.push(src.Pix[y*src.Stride : (y+1)*src.Stride])
		}
		want := image.NewRGBA(got.Rect)
		draw.CatmullRom.Scale(want, want.Rect, src, src.Rect, draw.Src, nil)
		var sum, worst int
		for i := range got.Pix {
			d := int(got.Pix[i]) - int(want.Pix[i])
			sum, worst = sum+max(d, -d), max(worst, d, -d)
		}
		t.Logf("700→%d: mean %.3f worst %d", out, float64(sum)/float64(len(got.Pix)), worst)
		if mean := float64(sum) / float64(len(got.Pix)); mean > 0.6 || worst > 8 {
			t.Errorf("700→%d: mean difference %.2f, worst %d", out, mean, worst)
		}
	}
}

// TestYCbCrPathMatchesRGBAPath squares a detailed YCbCr image both as it
// is and converted to RGBA, and compares the two results.
func TestYCbCrPathMatchesRGBAPath(t *testing.T) {
	src := image.NewYCbCr(image.Rect(1, 1, 1401, 1051), image.YCbCrSubsampleRatio420)
	p := pattern(1400, 1050)
	for y := range 1050 {
		for x := range 1400 {
			c := p.NRGBAAt(x, y)
			yy, cb, cr := color.RGBToYCbCr(c.R, c.G, c.B)
			src.Y[src.YOffset(x+1, y+1)] = yy
			src.Cb[src.COffset(x+1, y+1)], src.Cr[src.COffset(x+1, y+1)] = cb, cr
		}
	}
	rgba := image.NewRGBA(src.Rect)
	draw.Draw(rgba, rgba.Rect, src, src.Rect.Min, draw.Src)
	for _, size := range []int{512, 333, 1050} {
		a, b := square(src, size), square(rgba, size)
		if a.Bounds() != b.Bounds() {
			t.Fatalf("size %d: bounds %v and %v", size, a.Bounds(), b.Bounds())
		}
		var sum float64
		for y := range size {
			for x := range size {
				ar, ag, ab, _ := a.At(x, y).RGBA()
				br, bg, bb, _ := b.At(x, y).RGBA()
				sum += math.Abs(float64(ar)-float64(br)) + math.Abs(float64(ag)-float64(bg)) + math.Abs(float64(ab)-float64(bb))
			}
		}
		if mean := sum / float64(3*size*size) / 257; mean > 3 {
			t.Errorf("size %d: mean difference %.2f of 255", size, mean)
		} else {
			t.Logf("size %d: mean difference %.2f of 255", size, mean)
		}
	}
}
