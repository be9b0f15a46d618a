package webp

import (
	"bytes"
	"image"
	"image/jpeg"
	"math"
	"testing"

	xwebp "golang.org/x/image/webp"
)

// The quality metric of the benchmarks is SSIM (Wang, Bovik, Sheikh and
// Simoncelli, 2004: 11×11 Gaussian window, σ = 1.5, K1 = 0.01, K2 = 0.03),
// the mean over the Y plane at full range, then the Cb and Cr planes at
// their own (4:2:0) resolution, weighted 4:1:1 by their numbers of samples
// as libwebp's own -print_ssim does. Both codecs get the same 4:2:0 planes,
// so the metric sees only what each encoder throws away.

// plane is one channel of samples as floats, full range.
type plane struct {
	w, h int
	v    []float64
}

// planes returns the Y, Cb and Cr planes of a 4:2:0 YCbCr image, mapping
// video-range samples (videoRange true: what VP8 stores) to full range.
func planes(m *image.YCbCr, videoRange bool) [3]plane {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	cw, ch := (w+1)/2, (h+1)/2
	p := [3]plane{{w, h, nil}, {cw, ch, nil}, {cw, ch, nil}}
	luma, chroma := func(v uint8) float64 { return float64(v) }, func(v uint8) float64 { return float64(v) }
	if videoRange {
		luma = func(v uint8) float64 { return (float64(v) - 16) * 255 / 219 }
		chroma = func(v uint8) float64 { return (float64(v)-128)*255/224 + 128 }
	}
	for y := range h {
		for x := range w {
			p[0].v = append(p[0].v, luma(m.Y[m.YOffset(x, y)]))
		}
	}
	for y := range ch {
		for x := range cw {
			i := m.COffset(2*x, 2*y)
			p[1].v = append(p[1].v, chroma(m.Cb[i]))
			p[2].v = append(p[2].v, chroma(m.Cr[i]))
		}
	}
	return p
}

// ssimYCbCr is the weighted SSIM of the decoded planes against the source.
func ssimYCbCr(src, got [3]plane) float64 {
	return (4*ssim(src[0], got[0]) + ssim(src[1], got[1]) + ssim(src[2], got[2])) / 6
}

// ssim is the mean SSIM of two planes of the same size, over the positions
// where the window fits (the whole plane, for planes under 11 samples).
func ssim(a, b plane) float64 {
	const c1, c2 = (0.01 * 255) * (0.01 * 255), (0.03 * 255) * (0.03 * 255)
	mul := func(x, y []float64) []float64 {
		r := make([]float64, len(x))
		for i := range x {
			r[i] = x[i] * y[i]
		}
		return r
	}
	ma, mb := blur(a.v, a.w, a.h), blur(b.v, b.w, b.h)
	saa, sbb, sab := blur(mul(a.v, a.v), a.w, a.h), blur(mul(b.v, b.v), a.w, a.h), blur(mul(a.v, b.v), a.w, a.h)
	var sum float64
	for i := range ma {
		va, vb, cov := saa[i]-ma[i]*ma[i], sbb[i]-mb[i]*mb[i], sab[i]-ma[i]*mb[i]
		sum += (2*ma[i]*mb[i] + c1) * (2*cov + c2) / ((ma[i]*ma[i] + mb[i]*mb[i] + c1) * (va + vb + c2))
	}
	return sum / float64(len(ma))
}

// gauss is the normalised 11-tap Gaussian of σ = 1.5.
var gauss = func() [11]float64 {
	var g [11]float64
	var s float64
	for i := range g {
		d := float64(i - 5)
		g[i] = math.Exp(-d * d / (2 * 1.5 * 1.5))
		s += g[i]
	}
	for i := range g {
		g[i] /= s
	}
	return g
}()

// blur filters v (w×h) with the separable window, keeping only positions
// where it fits; a plane smaller than the window is averaged whole.
func blur(v []float64, w, h int) []float64 {
	if w < len(gauss) || h < len(gauss) {
		var s float64
		for _, x := range v {
			s += x
		}
		return []float64{s / float64(len(v))}
	}
	ow, oh := w-len(gauss)+1, h-len(gauss)+1
	rows := make([]float64, ow*h)
	for y := range h {
		for x := range ow {
			var s float64
			for k, g := range gauss {
				s += g * v[y*w+x+k]
			}
			rows[y*ow+x] = s
		}
	}
	out := make([]float64, ow*oh)
	for y := range oh {
		for x := range ow {
			var s float64
			for k, g := range gauss {
				s += g * rows[(y+k)*ow+x]
			}
			out[y*ow+x] = s
		}
	}
	return out
}

// jpegBytes is what the pipeline does today: image/jpeg at quality q.
func jpegBytes(tb testing.TB, m image.Image, q int) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: q}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// jpegSSIM and webpSSIM decode b and score it against src.
func jpegSSIM(tb testing.TB, src *image.YCbCr, b []byte) float64 {
	tb.Helper()
	m, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		tb.Fatal(err)
	}
	return ssimYCbCr(planes(src, false), planes(m.(*image.YCbCr), false))
}

func webpSSIM(tb testing.TB, src *image.YCbCr, b []byte) float64 {
	tb.Helper()
	m, err := xwebp.Decode(bytes.NewReader(b))
	if err != nil {
		tb.Fatal(err)
	}
	return ssimYCbCr(planes(src, false), planes(m.(*image.YCbCr), true))
}

func TestSSIM(t *testing.T) {
	photo := squareYCbCr(photographs(t)["Landscape_0.jpg"], 128)
	ref := planes(photo, false)
	if s := ssimYCbCr(ref, ref); math.Abs(s-1) > 1e-9 {
		t.Errorf("SSIM of an image with itself = %v, want 1", s)
	}
	hi, lo := jpegSSIM(t, photo, jpegBytes(t, photo, 95)), jpegSSIM(t, photo, jpegBytes(t, photo, 20))
	if !(hi > lo && hi < 1 && lo > 0) {
		t.Errorf("SSIM of JPEG q95 = %v, q20 = %v: want 1 > q95 > q20 > 0", hi, lo)
	}
}
