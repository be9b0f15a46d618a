package avatar

import "math"

// filter scales a stream of n rows of n pixels of ch bytes each (1 for a
// plane, 4 for premultiplied RGBA) down to out×out, with a separable
// Catmull-Rom filter widened by the scale factor so that every source pixel
// contributes. It works in 14-bit fixed point and keeps only as many
// horizontally filtered rows as the vertical filter spans.
type filter struct {
	n, out, ch  int
	tx, ty      taps
	ring        []uint8 // filtered row r is at r % ty.size
	acc         []int32
	dst         []uint8
	stride      int
	pushed, put int // rows received, rows written to dst
}

// newFilter returns a filter writing rows of out pixels, stride bytes
// apart, to dst. If n equals out it copies rows through.
func newFilter(n, out, ch int, dst []uint8, stride int) *filter {
	f := &filter{n: n, out: out, ch: ch, dst: dst, stride: stride}
	if n > out {
		f.tx, f.ty = newTaps(n, out), newTaps(n, out)
		f.ring = make([]uint8, f.ty.size*ch*out)
		f.acc = make([]int32, ch*out)
	}
	return f
}

// push takes the next source row and writes every output row it completes.
func (f *filter) push(row []uint8) {
	w := f.ch * f.out
	if f.n == f.out {
		copy(f.dst[f.pushed*f.stride:f.pushed*f.stride+w], row)
		f.pushed++
		return
	}
	slot := f.pushed % f.ty.size
	f.tx.row(f.ring[slot*w:(slot+1)*w], row, f.ch)
	f.pushed++
	for f.put < f.out && f.ty.first[f.put]+f.ty.size <= f.pushed {
		f.ty.column(f.dst[f.put*f.stride:f.put*f.stride+w], f.ring, f.put, f.acc, f.ch)
		f.put++
	}
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

// row resamples the ch-byte pixels of src into dst.
func (t taps) row(dst, src []uint8, ch int) {
	if ch == 1 {
		t.row1(dst, src)
		return
	}
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

// row1 is row for single-byte samples.
func (t taps) row1(dst, src []uint8) {
	for i, first := range t.first {
		px := src[first : first+t.size]
		var v int32
		for j, w := range t.w[i*t.size : (i+1)*t.size] {
			v += w * int32(px[j])
		}
		dst[i] = clamp8(v, 255)
	}
}

// column computes output row y into dst from the ring of filtered rows,
// each as wide as dst, summing in acc; ch is the bytes per pixel.
func (t taps) column(dst, ring []uint8, y int, acc []int32, ch int) {
	clear(acc)
	acc = acc[:len(dst)]
	first, ws := t.first[y], t.w[y*t.size:(y+1)*t.size]
	for j, w := range ws {
		slot := (first + j) % t.size
		row := ring[slot*len(dst) : (slot+1)*len(dst)]
		for x, v := range row[:len(acc)] {
			acc[x] += w * int32(v)
		}
	}
	if ch == 1 {
		for x, v := range acc {
			dst[x] = clamp8(v, 255)
		}
		return
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
