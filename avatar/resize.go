package avatar

import (
	"image"
	"image/color"
	"image/draw"
	"math"
)

// maxBlock bounds the side of the averaged blocks, so that sums of their
// bytes fit in a uint32 and averager stays exact.
const maxBlock = 1024

// square returns the centred square of src, shrunk to at most size pixels a
// side and never enlarged, as an *image.RGBA whose bounds start at (0,0).
// It first averages k×k blocks, for the largest integer k (up to
// maxBlock) that keeps the side at least size, directly on src's pixels
// (YCbCr planes, grey, RGBA, palette…); a Catmull-Rom pass then takes the
// remaining factor, less than two. The square loses at most k-1 pixels of the centre crop so that its
// side is a multiple of k.
func square(src image.Image, size int) *image.RGBA {
	b := src.Bounds()
	side := min(b.Dx(), b.Dy())
	out := min(side, size)
	k := min(side/out, maxBlock)
	small := shrink(src, centred(b, side/k*k), k)
	if small.Rect.Dx() == out {
		return small
	}
	return resample(small, out)
}

// resizeCost bounds the bytes square and encode allocate for an output of
// size pixels a side: the box-filtered image (under twice the side), the
// Catmull-Rom buffers, the result and its encoding.
func resizeCost(size int) int64 {
	s := int64(size)
	return 4*(2*s)*(2*s) + 4*s*(2*s) + 4*s*s + 4*s*s + 1<<20
}

// centred returns the n×n square at the centre of b.
func centred(b image.Rectangle, n int) image.Rectangle {
	x := b.Min.X + (b.Dx()-n)/2
	y := b.Min.Y + (b.Dy()-n)/2
	return image.Rect(x, y, x+n, y+n)
}

// shrink returns the image whose pixel (x, y) is the average of the k×k
// block of src at r.Min+(k·x, k·y); r lies within src's bounds and its sides
// are multiples of k. Colours are averaged premultiplied by alpha, or as
// Y, Cb and Cr for YCbCr sources (the conversion to RGB is affine, so this
// is the same average).
func shrink(src image.Image, r image.Rectangle, k int) *image.RGBA {
	if k == 1 { // a crop: image/draw converts every standard type fast
		dst := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
		draw.Draw(dst, dst.Rect, src, r.Min, draw.Src)
		return dst
	}
	if m, ok := src.(*image.YCbCr); ok {
		return shrinkYCbCr(m, r, k)
	}
	load := rowLoader(src, r)
	w, h := r.Dx()/k, r.Dy()/k
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	row := make([]uint8, 4*r.Dx())
	sums := make([]uint32, 4*w)
	avg := newAverager(k * k)
	for oy := range h {
		clear(sums)
		for y := r.Min.Y + oy*k; y < r.Min.Y+(oy+1)*k; y++ {
			load(y, row)
			addPixelRuns(sums, row, k)
		}
		out := dst.Pix[oy*dst.Stride : oy*dst.Stride+4*w]
		for i, s := range sums {
			out[i] = avg.of(s)
		}
	}
	return dst
}

// shrinkYCbCr is shrink for YCbCr images of any chroma subsampling. It sums
// each plane where it lies, reusing the sums of a chroma row for every
// luma row that shares it.
func shrinkYCbCr(m *image.YCbCr, r image.Rectangle, k int) *image.RGBA {
	w, h := r.Dx()/k, r.Dy()/k
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	c0 := m.COffset(r.Min.X, r.Min.Y)
	cols := make([]int32, r.Dx()) // chroma column of each pixel, relative
	for i := range cols {
		cols[i] = int32(m.COffset(r.Min.X+i, r.Min.Y) - c0)
	}
	sy, sb, sr := make([]uint32, w), make([]uint32, w), make([]uint32, w)
	rb, rr := make([]uint32, w), make([]uint32, w) // sums of the last chroma row
	last, avg := -1, newAverager(k*k)
	for oy := range h {
		clear(sy)
		clear(sb)
		clear(sr)
		for y := r.Min.Y + oy*k; y < r.Min.Y+(oy+1)*k; y++ {
			yi := m.YOffset(r.Min.X, y)
			addRuns(sy, m.Y[yi:yi+r.Dx()], k)
			if ci := m.COffset(r.Min.X, y); ci != last {
				gatherBlocks(rb, m.Cb[ci:], cols, k)
				gatherBlocks(rr, m.Cr[ci:], cols, k)
				last = ci
			}
			for i := range sb {
				sb[i], sr[i] = sb[i]+rb[i], sr[i]+rr[i]
			}
		}
		out := dst.Pix[oy*dst.Stride : oy*dst.Stride+4*w]
		for i := range sy {
			cr, cg, cb := color.YCbCrToRGB(avg.of(sy[i]), avg.of(sb[i]), avg.of(sr[i]))
			p := out[4*i : 4*i+4 : 4*i+4]
			p[0], p[1], p[2], p[3] = cr, cg, cb, 0xff
		}
	}
	return dst
}

// addRuns adds to sums[i] the sum of the i-th run of k bytes of row.
func addRuns(sums []uint32, row []uint8, k int) {
	for i := range sums {
		var s uint32
		for _, v := range row[i*k : i*k+k] {
			s += uint32(v)
		}
		sums[i] += s
	}
}

// addPixelRuns adds to sums[4i:4i+4] the channel sums of the i-th run of
// k 4-byte pixels of row.
func addPixelRuns(sums []uint32, row []uint8, k int) {
	for ox := 0; ox < len(sums); ox += 4 {
		s := sums[ox : ox+4 : ox+4]
		s0, s1, s2, s3 := s[0], s[1], s[2], s[3]
		px := row[ox*k : (ox+4)*k]
		for i := 0; i+4 <= len(px); i += 4 {
			p := px[i : i+4 : i+4]
			s0 += uint32(p[0])
			s1 += uint32(p[1])
			s2 += uint32(p[2])
			s3 += uint32(p[3])
		}
		s[0], s[1], s[2], s[3] = s0, s1, s2, s3
	}
}

// gatherBlocks sets sums[i] to the sum of plane[cols[j]] for the i-th run
// of k entries of cols.
func gatherBlocks(sums []uint32, plane []uint8, cols []int32, k int) {
	for i := range sums {
		var s uint32
		for _, c := range cols[i*k : i*k+k] {
			s += uint32(plane[c])
		}
		sums[i] = s
	}
}

// averager divides sums of n bytes by n, rounding to nearest, with a
// multiplication instead of a division: exact for n ≤ maxBlock².
type averager struct{ half, mul uint64 }

func newAverager(n int) averager {
	return averager{half: uint64(n) / 2, mul: 1<<48/uint64(n) + 1}
}

func (a averager) of(sum uint32) uint8 {
	return uint8((uint64(sum) + a.half) * a.mul >> 48)
}

// rowLoader returns a function that writes the pixels of row y of src from
// r.Min.X to r.Max.X into row as premultiplied R, G, B, A bytes.
func rowLoader(src image.Image, r image.Rectangle) func(y int, row []uint8) {
	switch m := src.(type) {
	case *image.Gray:
		return grayRows(m, r)
	case *image.RGBA:
		return func(y int, row []uint8) {
			i := m.PixOffset(r.Min.X, y)
			copy(row, m.Pix[i:i+4*r.Dx()])
		}
	case *image.NRGBA:
		return nrgbaRows(m, r)
	case *image.Paletted:
		return palettedRows(m, r)
	case image.RGBA64Image:
		return rgba64Rows(m, r)
	}
	return anyRows(src, r)
}

func grayRows(m *image.Gray, r image.Rectangle) func(int, []uint8) {
	return func(y int, row []uint8) {
		i := m.PixOffset(r.Min.X, y)
		for x, g := range m.Pix[i : i+r.Dx()] {
			p := row[4*x : 4*x+4 : 4*x+4]
			p[0], p[1], p[2], p[3] = g, g, g, 0xff
		}
	}
}

func nrgbaRows(m *image.NRGBA, r image.Rectangle) func(int, []uint8) {
	return func(y int, row []uint8) {
		i := m.PixOffset(r.Min.X, y)
		src := m.Pix[i : i+4*r.Dx()]
		for x := 0; x+4 <= len(src); x += 4 {
			s, p := src[x:x+4:x+4], row[x:x+4:x+4]
			a := uint32(s[3])
			p[0] = uint8((uint32(s[0])*a + 127) / 255)
			p[1] = uint8((uint32(s[1])*a + 127) / 255)
			p[2] = uint8((uint32(s[2])*a + 127) / 255)
			p[3] = s[3]
		}
	}
}

// palettedRows looks pixels up in the premultiplied palette; an index
// beyond the palette is opaque black, as image.Paletted cannot say.
func palettedRows(m *image.Paletted, r image.Rectangle) func(int, []uint8) {
	var lut [256][4]uint8
	for i := range lut {
		lut[i][3] = 0xff
	}
	for i, c := range m.Palette[:min(len(m.Palette), 256)] {
		cr, cg, cb, ca := c.RGBA()
		lut[i] = [4]uint8{uint8(cr >> 8), uint8(cg >> 8), uint8(cb >> 8), uint8(ca >> 8)}
	}
	return func(y int, row []uint8) {
		i := m.PixOffset(r.Min.X, y)
		for x, v := range m.Pix[i : i+r.Dx()] {
			copy(row[4*x:4*x+4], lut[v][:])
		}
	}
}

// rgba64Rows serves 16-bit, CMYK, NYCbCrA and other standard images.
func rgba64Rows(m image.RGBA64Image, r image.Rectangle) func(int, []uint8) {
	return func(y int, row []uint8) {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := m.RGBA64At(x, y)
			i := 4 * (x - r.Min.X)
			p := row[i : i+4 : i+4]
			p[0], p[1], p[2], p[3] = uint8(c.R>>8), uint8(c.G>>8), uint8(c.B>>8), uint8(c.A>>8)
		}
	}
}

func anyRows(m image.Image, r image.Rectangle) func(int, []uint8) {
	return func(y int, row []uint8) {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, ca := m.At(x, y).RGBA()
			i := 4 * (x - r.Min.X)
			p := row[i : i+4 : i+4]
			p[0], p[1], p[2], p[3] = uint8(cr>>8), uint8(cg>>8), uint8(cb>>8), uint8(ca>>8)
		}
	}
}

// resample returns src (bounds at the origin) scaled down to an n×n image
// with a separable Catmull-Rom filter widened by the scale factor, so that
// every source pixel contributes. It works in 14-bit fixed point on 8-bit
// premultiplied RGBA: a horizontal pass into an n-wide buffer, then a
// vertical one, clamping colours to their alpha.
func resample(src *image.RGBA, n int) *image.RGBA {
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	tx, ty := newTaps(sw, n), newTaps(sh, n)
	tmp := make([]uint8, 4*n*sh)
	for y := range sh {
		tx.row(tmp[4*n*y:4*n*(y+1)], src.Pix[y*src.Stride:y*src.Stride+4*sw])
	}
	dst := image.NewRGBA(image.Rect(0, 0, n, n))
	acc := make([]int32, 4*n)
	for y := range n {
		ty.column(dst.Pix[y*dst.Stride:y*dst.Stride+4*n], tmp, y, acc)
	}
	return dst
}

// weightOne is 1.0 in the fixed point of taps.
const weightOne = 1 << 14

// taps holds, for each of the m outputs of a resampling of n inputs, the
// first input it reads and its size weights, which sum to weightOne.
type taps struct {
	first []int
	size  int
	w     []int32
}

// newTaps computes the Catmull-Rom weights that take n samples to m < n.
// Taps falling outside the input are dropped and the rest renormalised.
func newTaps(n, m int) taps {
	scale := float64(n) / float64(m)
	// The kernel is non-zero on an open interval 4·scale wide, which
	// holds at most ⌈4·scale⌉ sample positions.
	t := taps{first: make([]int, m), size: min(n, int(math.Ceil(4*scale)))}
	t.w = make([]int32, m*t.size)
	fw := make([]float64, t.size)
	for i := range m {
		centre := (float64(i)+0.5)*scale - 0.5
		first := min(max(int(math.Ceil(centre-2*scale)), 0), n-t.size)
		var sum float64
		for j := range fw {
			fw[j] = catmullRom((float64(first+j) - centre) / scale)
			sum += fw[j]
		}
		t.first[i] = first
		fix(t.w[i*t.size:(i+1)*t.size], fw, sum)
	}
	return t
}

// fix converts the weights fw, which add up to sum, to fixed point adding
// up to exactly weightOne; the rounding error goes to the largest weight.
func fix(w []int32, fw []float64, sum float64) {
	var total int32
	big := 0
	for j, f := range fw {
		w[j] = int32(math.Round(f / sum * weightOne))
		total += w[j]
		if w[j] > w[big] {
			big = j
		}
	}
	w[big] += weightOne - total
}

// catmullRom is the Catmull-Rom cubic (B = 0, C = ½), of support 2.
func catmullRom(x float64) float64 {
	x = math.Abs(x)
	switch {
	case x < 1:
		return (1.5*x-2.5)*x*x + 1
	case x < 2:
		return ((-0.5*x+2.5)*x-4)*x + 2
	}
	return 0
}

// row resamples the 4-byte pixels of src into dst.
func (t taps) row(dst, src []uint8) {
	for i, first := range t.first {
		px := src[4*first : 4*(first+t.size)]
		var r, g, b, a int32
		for j, w := range t.w[i*t.size : (i+1)*t.size] {
			p := px[4*j : 4*j+4 : 4*j+4]
			r += w * int32(p[0])
			g += w * int32(p[1])
			b += w * int32(p[2])
			a += w * int32(p[3])
		}
		store(dst[4*i:4*i+4:4*i+4], r, g, b, a)
	}
}

// column resamples output row y of dst from the rows of tmp, each as wide
// as dst, summing in acc.
func (t taps) column(dst, tmp []uint8, y int, acc []int32) {
	clear(acc)
	first, ws := t.first[y], t.w[y*t.size:(y+1)*t.size]
	for j := 0; j < len(ws); j += 2 { // two rows at a time
		r0 := tmp[(first+j)*len(dst) : (first+j+1)*len(dst)]
		r1, w1 := r0, int32(0)
		if j+1 < len(ws) {
			r1, w1 = tmp[(first+j+1)*len(dst):(first+j+2)*len(dst)], ws[j+1]
		}
		acc, r1, w0 := acc[:len(r0)], r1[:len(r0)], ws[j]
		for x, v := range r0 {
			acc[x] += w0*int32(v) + w1*int32(r1[x])
		}
	}
	for x := 0; x+4 <= len(acc); x += 4 {
		s := acc[x : x+4 : x+4]
		store(dst[x:x+4:x+4], s[0], s[1], s[2], s[3])
	}
}

// store writes fixed-point premultiplied channel sums to p, rounded and
// clamped to 0–255 with no colour above alpha.
func store(p []uint8, r, g, b, a int32) {
	a8 := clamp8(a, 255)
	p[0], p[1], p[2], p[3] = clamp8(r, a8), clamp8(g, a8), clamp8(b, a8), a8
}

// clamp8 returns the fixed-point v rounded and clamped to 0..hi.
func clamp8(v int32, hi uint8) uint8 {
	v = (v + weightOne/2) >> 14
	switch {
	case v < 0:
		return 0
	case v > int32(hi):
		return hi
	}
	return uint8(v)
}
