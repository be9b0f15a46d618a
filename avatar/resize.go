package avatar

import "image"

// maxBlock bounds the side of the averaged blocks, so that sums of their
// bytes fit in a uint32 and averager stays exact.
const maxBlock = 1024

// square returns the centred square of src, shrunk to at most size pixels a
// side and never enlarged, with bounds at (0,0): a 4:2:0 *image.YCbCr if
// src is an *image.YCbCr, an *image.RGBA otherwise.
//
// It streams rows: each k×k block of src is averaged into one pixel, for
// the largest integer k (up to maxBlock) that keeps the side at least
// size, directly on src's own pixels (YCbCr planes, grey, palette…); a
// separable Catmull-Rom filter then takes the remaining factor, below two.
// Only the result and a few rows are ever allocated. The square loses at
// most k-1 pixels of the centre crop so that its side is a multiple of k.
func square(src image.Image, size int) image.Image {
	b := src.Bounds()
	side := min(b.Dx(), b.Dy())
	out := min(side, size)
	k := min(side/out, maxBlock)
	n := side / k
	r := centred(b, n*k)
	if m, ok := src.(*image.YCbCr); ok {
		return squareYCbCr(m, r, k, out)
	}
	dst := image.NewRGBA(image.Rect(0, 0, out, out))
	f := newFilter(n, out, 4, dst.Pix, dst.Stride)
	next, row := boxRows(src, r, k), make([]uint8, 4*n)
	for range n {
		next(row)
		f.push(row)
	}
	return dst
}

// squareYCbCr is square for YCbCr sources (JPEG, lossy WebP), which stay
// in YCbCr down to the JPEG encoder: luma is filtered to the output side
// and chroma to half of it, less than half the work of filtering RGBA.
func squareYCbCr(m *image.YCbCr, r image.Rectangle, k, out int) *image.YCbCr {
	n := r.Dx() / k
	dst := image.NewYCbCr(image.Rect(0, 0, out, out), image.YCbCrSubsampleRatio420)
	c := (out + 1) / 2
	fy := newFilter(n, out, 1, dst.Y, dst.YStride)
	fb := newFilter(n, c, 1, dst.Cb, dst.CStride)
	fr := newFilter(n, c, 1, dst.Cr, dst.CStride)
	next := yccRows(m, r, k)
	ry, rb, rr := make([]uint8, n), make([]uint8, n), make([]uint8, n)
	for range n {
		next(ry, rb, rr)
		fy.push(ry)
		fb.push(rb)
		fr.push(rr)
	}
	return dst
}

// resizeCost bounds the bytes square, orient and encode allocate for an
// output of size pixels a side: the result, its turned copy, the encoding,
// and rows.
func resizeCost(size int) int64 {
	s := int64(size)
	return 3*4*s*s + 1<<20
}

// centred returns the n×n square at the centre of b.
func centred(b image.Rectangle, n int) image.Rectangle {
	x := b.Min.X + (b.Dx()-n)/2
	y := b.Min.Y + (b.Dy()-n)/2
	return image.Rect(x, y, x+n, y+n)
}

// boxRows returns a function that writes, on each call, the next row of
// the image whose pixel (x, y) is the average of the k×k block of src at
// r.Min+(k·x, k·y), as premultiplied RGBA bytes. r lies within src's
// bounds and its sides are multiples of k.
func boxRows(src image.Image, r image.Rectangle, k int) func(row []uint8) {
	load, y := rowLoader(src, r), r.Min.Y
	if k == 1 {
		return func(row []uint8) {
			load(y, row)
			y++
		}
	}
	in := make([]uint8, 4*r.Dx())
	sums := make([]uint32, 4*(r.Dx()/k))
	avg := newAverager(k * k)
	return func(row []uint8) {
		clear(sums)
		for range k {
			load(y, in)
			addPixelRuns(sums, in, k)
			y++
		}
		for i, s := range sums {
			row[i] = avg.of(s)
		}
	}
}

// yccRows returns a function that writes, on each call, the next rows of
// the Y, Cb and Cr planes (chroma at full resolution) of the image whose
// pixel (x, y) averages the k×k block of m at r.Min+(k·x, k·y), whatever
// m's chroma subsampling. It reuses the sums of a chroma row for every
// luma row that shares it.
func yccRows(m *image.YCbCr, r image.Rectangle, k int) func(ry, rb, rr []uint8) {
	w := r.Dx() / k
	c0 := m.COffset(r.Min.X, r.Min.Y)
	cols := make([]int32, r.Dx()) // chroma column of each pixel, relative
	for i := range cols {
		cols[i] = int32(m.COffset(r.Min.X+i, r.Min.Y) - c0)
	}
	sy, sb, sr := make([]uint32, w), make([]uint32, w), make([]uint32, w)
	rb, rr := make([]uint32, w), make([]uint32, w) // sums of the last chroma row
	y, last, avg := r.Min.Y, -1, newAverager(k*k)
	return func(oy, ob, or []uint8) {
		clear(sy)
		clear(sb)
		clear(sr)
		for end := y + k; y < end; y++ {
			yi := m.YOffset(r.Min.X, y)
			addRuns(sy, m.Y[yi:yi+r.Dx()], k)
			if ci := m.COffset(r.Min.X, y); ci != last {
				gatherRuns(rb, m.Cb[ci:], cols, k)
				gatherRuns(rr, m.Cr[ci:], cols, k)
				last = ci
			}
			for i := range sb {
				sb[i], sr[i] = sb[i]+rb[i], sr[i]+rr[i]
			}
		}
		for i := range sy {
			oy[i], ob[i], or[i] = avg.of(sy[i]), avg.of(sb[i]), avg.of(sr[i])
		}
	}
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

// gatherRuns sets sums[i] to the sum of plane[c] over the i-th run of k
// entries c of cols.
func gatherRuns(sums []uint32, plane []uint8, cols []int32, k int) {
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
