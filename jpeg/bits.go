package jpeg

import "encoding/binary"

// bitReader reads the entropy-coded data of a scan: bytes with "FF 00"
// unstuffed, up to the next marker, after which it supplies zero bits and
// counts them, so that a decoder can tell that it used bits that were not
// there.
type bitReader struct {
	src   *source
	acc   uint64 // left-aligned: the next bit is the top bit
	n     int    // bits in acc, padding included
	pad   int    // bits of zero padding in acc and consumed from it
	ended bool   // a marker or the end of the file was reached
}

// lowBytes is 0x01 in every byte, highBits 0x80 in every byte.
const (
	lowBytes = 0x0101010101010101
	highBits = 0x8080808080808080
)

// refill tops acc up to at least 57 bits. Eight bytes free of 0xff are
// taken in one load, the common case; the rest byte by byte.
func (b *bitReader) refill() {
	s := b.src
	if !b.ended && (s.end-s.pos >= 8 || s.fill(8)) {
		v := binary.BigEndian.Uint64(s.buf[s.pos:])
		if (^v-lowBytes)&v&highBits == 0 { // no 0xff byte
			k := (63 - b.n) >> 3
			b.acc |= v >> b.n &^ (^uint64(0) >> (b.n + 8*k))
			b.n += 8 * k
			s.pos += k
			return
		}
	}
	for b.n <= 56 {
		b.acc |= uint64(b.next()) << (56 - b.n)
		b.n += 8
	}
}

// next returns the next data byte, or 0 once the data has ended.
func (b *bitReader) next() byte {
	s := b.src
	if !b.ended && s.fill(2) || !b.ended && s.fill(1) && s.buf[s.pos] != 0xff {
		c := s.buf[s.pos]
		if c != 0xff {
			s.pos++
			return c
		}
		if s.buf[s.pos+1] == 0 {
			s.pos += 2
			return 0xff
		}
	}
	b.ended = true
	b.pad += 8
	return 0
}

// overrun reports whether bits beyond the end of the data were used.
func (b *bitReader) overrun() bool { return b.pad > b.n }

// reset drops what is left of the data before a restart marker and reads
// the marker, which must be RSTn for n = want.
func (b *bitReader) reset(want int) error {
	b.acc, b.n, b.pad, b.ended = 0, 0, 0, false
	m, err := b.src.nextMarker()
	if err != nil {
		return err
	}
	if m != markerRST0+byte(want&7) {
		return FormatError("bad RST marker")
	}
	return nil
}

// bits returns the next n bits (n ≤ 16) as an unsigned value.
func (b *bitReader) bits(n int) int32 {
	if b.n < n {
		b.refill()
	}
	v := int32(b.acc >> (64 - n))
	b.acc <<= n
	b.n -= n
	return v
}

// receive reads the size-bit magnitude and extends it to a coefficient.
func (b *bitReader) receive(size int) int32 {
	if size == 0 {
		return 0
	}
	return extend(b.bits(size), size)
}

// symbol decodes one code of t.
func (b *bitReader) symbol(t *huffTable) (uint8, error) {
	if b.n < 16 {
		b.refill()
	}
	if e := t.lut[b.acc>>(64-lutBits)]; e != 0 {
		b.acc <<= e >> 8
		b.n -= int(e >> 8)
		return uint8(e), nil
	}
	return b.symbolSlow(t)
}

// symbolSlow is symbol for codes longer than lutBits.
func (b *bitReader) symbolSlow(t *huffTable) (uint8, error) {
	sym, l := t.slowSymbol(b.acc)
	if l == 0 {
		return 0, errBadCode
	}
	b.acc <<= l
	b.n -= l
	return sym, nil
}

// block decodes the DC and AC coefficients of one sequential block into
// blk, dequantised by q, in natural order; dc is the component's DC
// predictor. It returns the zig-zag index of the last coefficient
// decoded. The AC loop keeps the bit buffer in locals and inlines the
// table lookups: it is the decoder's hottest loop, and split into a call
// per coefficient (symbol, then receive) the decode of a 12 MP file at
// 1/8 took 40 % longer or more in interleaved runs.
func (b *bitReader) block(blk *[64]int32, dc *int32, dcT, acT *huffTable, q *[64]int32) (int, error) {
	t, err := b.symbol(dcT)
	if err != nil {
		return 0, err
	}
	if t > 16 {
		return 0, FormatError("excessive DC component")
	}
	*dc += b.receive(int(t))
	blk[0] = *dc * q[0]
	acc, n, last := b.acc, b.n, 0
	for k := 1; k < 64; {
		if n < 32 {
			b.acc, b.n = acc, n
			b.refill()
			acc, n = b.acc, b.n
		}
		if f := acT.fast[acc>>(64-lutBits)]; f != 0 {
			k += int(f>>8) & 15
			acc <<= f & 0xff
			n -= int(f & 0xff)
			k = min(k, 63) // past the block: see below
			z := unzig[k]
			blk[z] = f >> 16 * q[z]
			last, k = k, k+1
			continue
		}
		rs, l := int(0), 0
		if e := acT.lut[acc>>(64-lutBits)]; e != 0 {
			rs, l = int(e&0xff), int(e>>8)
		} else if sym, sl := acT.slowSymbol(acc); sl != 0 {
			rs, l = int(sym), sl
		} else {
			b.acc, b.n = acc, n
			return 0, errBadCode
		}
		acc <<= l
		n -= l
		run, size := rs>>4, rs&15
		if size == 0 {
			if run != 15 {
				break
			}
			k += 16
			continue
		}
		v := extend(int32(acc>>(64-size)), size)
		acc <<= size
		n -= size
		if k += run; k > 63 {
			k = 63 // a run past the block ends it, at 63, as libjpeg reads it
		}
		z := unzig[k]
		blk[z] = v * q[z]
		last, k = k, k+1
	}
	b.acc, b.n = acc, n
	return last, nil
}
