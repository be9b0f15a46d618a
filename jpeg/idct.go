package jpeg

import "math"

// The 8×8 inverse DCT is the Loeffler–Ligtenberg–Moschytz factorisation
// (12 multiplications per 8 points) in 13-bit fixed point, with two extra
// bits of precision kept between the column and the row pass. Its
// constants are the cosines below, times 2¹³.
const (
	fixBits  = 13
	passBits = 2
	c0298    = 2446  // 0.298631336
	c0390    = 3196  // 0.390180644
	c0541    = 4433  // 0.541196100
	c0765    = 6270  // 0.765366865
	c0899    = 7373  // 0.899976223
	c1175    = 9633  // 1.175875602
	c1501    = 12299 // 1.501321110
	c1847    = 15137 // 1.847759065
	c1961    = 16069 // 1.961570560
	c2053    = 16819 // 2.053119869
	c2562    = 20995 // 2.562915447
	c3072    = 25172 // 3.072711026
)

// clamp8 returns v clamped to 0–255.
func clamp8(v int32) uint8 {
	if uint32(v) > 255 {
		if v < 0 {
			return 0
		}
		return 255
	}
	return uint8(v)
}

// idct8 writes the 8×8 pixels of the dequantised coefficients blk
// (natural order) to dst, rows stride bytes apart: a column pass, then a
// row pass.
func idct8(blk *[64]int32, dst []uint8, stride int) {
	var ws [64]int32
	idctColumns(blk, &ws)
	idctRows(&ws, dst, stride)
}

// idctColumns transforms the columns of blk into ws, keeping passBits
// extra bits. A column with no AC coefficient is its DC all along.
func idctColumns(blk, ws *[64]int32) {
	for c := range 8 {
		col := blk[c:]
		if col[8]|col[16]|col[24]|col[32]|col[40]|col[48]|col[56] == 0 {
			dc := col[0] << passBits
			for r := range 8 {
				ws[8*r+c] = dc
			}
			continue
		}
		z1 := (col[16] + col[48]) * c0541
		t2 := z1 - col[48]*c1847
		t3 := z1 + col[16]*c0765
		t0 := (col[0] + col[32]) << fixBits
		t1 := (col[0] - col[32]) << fixBits
		e0, e3, e1, e2 := t0+t3, t0-t3, t1+t2, t1-t2
		o0, o1, o2, o3 := odd(col[56], col[40], col[24], col[8])
		const sh, rnd = fixBits - passBits, 1 << (fixBits - passBits - 1)
		ws[c] = (e0 + o3 + rnd) >> sh
		ws[56+c] = (e0 - o3 + rnd) >> sh
		ws[8+c] = (e1 + o2 + rnd) >> sh
		ws[48+c] = (e1 - o2 + rnd) >> sh
		ws[16+c] = (e2 + o1 + rnd) >> sh
		ws[40+c] = (e2 - o1 + rnd) >> sh
		ws[24+c] = (e3 + o0 + rnd) >> sh
		ws[32+c] = (e3 - o0 + rnd) >> sh
	}
}

// idctRows transforms the rows of ws into pixels, level-shifted and
// clamped.
func idctRows(ws *[64]int32, dst []uint8, stride int) {
	for r := range 8 {
		row := ws[8*r : 8*r+8 : 8*r+8]
		out := dst[r*stride : r*stride+8 : r*stride+8]
		const sh = fixBits + passBits + 3
		const bias = 128<<sh + 1<<(sh-1) // level shift and rounding
		z1 := (row[2] + row[6]) * c0541
		t2 := z1 - row[6]*c1847
		t3 := z1 + row[2]*c0765
		t0 := (row[0]+row[4])<<fixBits + bias
		t1 := (row[0]-row[4])<<fixBits + bias
		e0, e3, e1, e2 := t0+t3, t0-t3, t1+t2, t1-t2
		o0, o1, o2, o3 := odd(row[7], row[5], row[3], row[1])
		out[0] = clamp8((e0 + o3) >> sh)
		out[7] = clamp8((e0 - o3) >> sh)
		out[1] = clamp8((e1 + o2) >> sh)
		out[6] = clamp8((e1 - o2) >> sh)
		out[2] = clamp8((e2 + o1) >> sh)
		out[5] = clamp8((e2 - o1) >> sh)
		out[3] = clamp8((e3 + o0) >> sh)
		out[4] = clamp8((e3 - o0) >> sh)
	}
}

// odd is the odd half of the 8-point transform, of inputs 7, 5, 3 and 1.
func odd(t0, t1, t2, t3 int32) (int32, int32, int32, int32) {
	z1, z2, z3, z4 := t0+t3, t1+t2, t0+t2, t1+t3
	z5 := (z3 + z4) * c1175
	z1, z2 = z1*-c0899, z2*-c2562
	z3, z4 = z3*-c1961+z5, z4*-c0390+z5
	return t0*c0298 + z1 + z3, t1*c2053 + z2 + z4, t2*c3072 + z2 + z3, t3*c1501 + z1 + z4
}

// idctDC writes the 8×8 block whose only coefficient is dc.
func idctDC(dc int32, dst []uint8, stride int) {
	v := clamp8((dc+4)>>3 + 128)
	for r := range 8 {
		row := dst[r*stride : r*stride+8 : r*stride+8]
		for i := range row {
			row[i] = v
		}
	}
}

// box(n)[y][u], for n = 2 and 4, is the mean over the 8/n pixels of
// output y of the u-th one-dimensional DCT basis function (with its ½ and
// 1/√2 factors), times 2¹³. Applied to a block's coefficients, it gives
// the n×n box averages of the block's pixels directly: decoding at 1/2 or
// 1/4 is decoding in full and averaging, but for rounding, at a fraction
// of the cost. Many entries are zero: the means of the even basis
// functions cancel out over 4 pixels, and that of u = 4 over 2.
func box(n int) (m [4][8]int32) {
	s := 8 / n
	for y := range n {
		for u := range 8 {
			cu := 0.5
			if u == 0 {
				cu = 0.5 / math.Sqrt2
			}
			var sum float64
			for x := y * s; x < (y+1)*s; x++ {
				sum += cu * math.Cos(float64((2*x+1)*u)*math.Pi/16)
			}
			m[y][u] = int32(math.Round(sum / float64(s) * (1 << fixBits)))
		}
	}
	return m
}

// The non-zero entries of box(2) and box(4). Rows y and n-1-y differ only
// in the sign of odd columns. TestBoxConstants checks them against box.
const (
	boxA = 2896 // every DC entry
	// box(2), row 0, columns 1, 3, 5, 7
	b21, b23, b25, b27 = 2624, -922, 616, -522
	// box(4), row 0, columns 2 and 6 (row 1: negated)
	b42, b46 = 2676, -1108
	// box(4), rows 0 and 1, odd columns
	b401, b403, b405, b407 = 3711, 1303, -871, -738
	b411, b413, b415, b417 = 1537, -3146, 2102, -306
)

// idct2 writes the 2×2 box averages of the 8×8 pixels of the dequantised
// coefficients blk (natural order).
func idct2(blk *[64]int32, dst []uint8, stride int) {
	var ws [2][8]int32
	for _, u := range [5]int{0, 1, 3, 5, 7} {
		c := blk[u:]
		e, o := boxA*c[0], b21*c[8]+b23*c[24]+b25*c[40]+b27*c[56]
		const sh, rnd = fixBits - passBits, 1 << (fixBits - passBits - 1)
		ws[0][u], ws[1][u] = (e+o+rnd)>>sh, (e-o+rnd)>>sh
	}
	const sh = fixBits + passBits
	const bias = 128<<sh + 1<<(sh-1)
	for y := range 2 {
		w := &ws[y]
		e, o := boxA*w[0]+bias, b21*w[1]+b23*w[3]+b25*w[5]+b27*w[7]
		dst[y*stride], dst[y*stride+1] = clamp8((e+o)>>sh), clamp8((e-o)>>sh)
	}
}

// idct4 writes the 4×4 box averages of the 8×8 pixels of the dequantised
// coefficients blk (natural order).
func idct4(blk *[64]int32, dst []uint8, stride int) {
	var ws [4][8]int32
	for _, u := range [7]int{0, 1, 2, 3, 5, 6, 7} {
		c := blk[u:]
		o := box4(c[0], c[8], c[16], c[24], c[40], c[48], c[56])
		const sh, rnd = fixBits - passBits, 1 << (fixBits - passBits - 1)
		for y := range 4 {
			ws[y][u] = (o[y] + rnd) >> sh
		}
	}
	const sh = fixBits + passBits
	const bias = 128<<sh + 1<<(sh-1)
	for y := range 4 {
		w := &ws[y]
		o := box4(w[0], w[1], w[2], w[3], w[5], w[6], w[7])
		out := dst[y*stride : y*stride+4 : y*stride+4]
		out[0], out[1] = clamp8((o[0]+bias)>>sh), clamp8((o[1]+bias)>>sh)
		out[2], out[3] = clamp8((o[2]+bias)>>sh), clamp8((o[3]+bias)>>sh)
	}
}

// box4 is the one-dimensional transform of box(4), of the inputs 0–3 and
// 5–7 (that of input 4 is zero).
func box4(g0, g1, g2, g3, g5, g6, g7 int32) [4]int32 {
	p, q := boxA*g0, b42*g2+b46*g6
	o0 := b401*g1 + b403*g3 + b405*g5 + b407*g7
	o1 := b411*g1 + b413*g3 + b415*g5 + b417*g7
	return [4]int32{p + q + o0, p - q + o1, p - q - o1, p + q - o0}
}

// idct1 writes the mean of the block whose DC coefficient is dc.
func idct1(dc int32, dst []uint8) { dst[0] = clamp8((dc+4)>>3 + 128) }
