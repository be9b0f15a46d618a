package jpeg

import "slices"

// lutBits is the number of bits a huffTable decodes by lookup.
const lutBits = 11

// huffTable is a Huffman table ready for decoding: codes of up to lutBits
// bits by one lookup, longer ones by canonical code ranges.
type huffTable struct {
	defined bool
	// maxSymbol is the largest symbol; a DC table's must be at most 15.
	maxSymbol uint8
	// lut[p], for the lutBits-bit prefix p, is length<<8 | symbol of the
	// code starting p, or 0 if that code is longer.
	lut [1 << lutBits]uint16
	// fast[p], for AC tables, is a whole coefficient decoded from the
	// prefix p when its code and magnitude bits fit in it: value<<16 |
	// run<<8 | bits consumed; 0 otherwise.
	fast [1 << lutBits]int32
	// maxCode[l] is the largest code of length l plus one (0 if none), and
	// first[l] the index in symbols of the first code of length l, minus
	// the smallest such code.
	maxCode [17]int32
	first   [17]int32
	symbols [256]uint8
}

// readDHT reads Huffman table definitions.
func (d *Decoder) readDHT(n int) error {
	p, err := d.payload(n)
	if err != nil {
		return err
	}
	for len(p) > 0 {
		if len(p) < 17 {
			return FormatError("DHT has wrong length")
		}
		class, id := p[0]>>4, p[0]&15
		if class > 1 || id > 3 {
			return FormatError("bad Tc or Th value")
		}
		var counts [17]int
		total := 0
		for l := 1; l <= 16; l++ {
			counts[l] = int(p[l])
			total += counts[l]
		}
		if total == 0 || total > 256 || len(p) < 17+total {
			return FormatError("bad Huffman table length")
		}
		t := &d.tables.dc[id]
		if class == 1 {
			t = &d.tables.ac[id]
		}
		if err := t.build(&counts, p[17:17+total], class == 1); err != nil {
			return err
		}
		p = p[17+total:]
	}
	return nil
}

// build makes t the table of the canonical code with counts[l] codes of
// each length l and the given symbols; ac adds the fast table.
func (t *huffTable) build(counts *[17]int, symbols []uint8, ac bool) error {
	*t = huffTable{defined: true, maxSymbol: slices.Max(symbols)}
	copy(t.symbols[:], symbols)
	code, k := int32(0), int32(0)
	for l := 1; l <= 16; l++ {
		t.first[l] = k - code
		for range counts[l] {
			if code >= 1<<l {
				return FormatError("bad Huffman table: too many codes")
			}
			if l <= lutBits {
				t.fill(code, l, t.symbols[k])
			}
			code, k = code+1, k+1
		}
		t.maxCode[l] = code
		code <<= 1
	}
	if ac {
		t.buildFast()
	}
	return nil
}

// fill sets the lookup entries of every prefix that starts with the
// l-bit code.
func (t *huffTable) fill(code int32, l int, symbol uint8) {
	shift := lutBits - l
	for p := code << shift; p < (code+1)<<shift; p++ {
		t.lut[p] = uint16(l)<<8 | uint16(symbol)
	}
}

// buildFast fills t.fast from t.lut.
func (t *huffTable) buildFast() {
	for p, e := range t.lut {
		l, rs := int(e>>8), e&0xff
		run, size := int32(rs>>4), int(rs&15)
		if e == 0 || size == 0 || l+size > lutBits {
			continue
		}
		v := int32(p>>(lutBits-l-size)) & (1<<size - 1)
		t.fast[p] = extend(v, size)<<16 | run<<8 | int32(l+size)
	}
}

// extend turns the size-bit magnitude v into the coefficient it codes.
func extend(v int32, size int) int32 {
	if v < 1<<(size-1) {
		return v - 1<<size + 1
	}
	return v
}

// errBadCode is the error for bits that are no code of their table.
var errBadCode = FormatError("bad Huffman code")

// lookup decodes the code at the top of the left-aligned bits acc,
// returning its symbol and length, or length 0 if there is none.
func (t *huffTable) lookup(acc uint64) (uint8, int) {
	if e := t.lut[acc>>(64-lutBits)]; e != 0 {
		return uint8(e), int(e >> 8)
	}
	return t.slowSymbol(acc)
}

// slowSymbol decodes a code longer than lutBits from the left-aligned bits
// acc, returning its symbol and length, or length 0 if there is none.
func (t *huffTable) slowSymbol(acc uint64) (uint8, int) {
	for l := lutBits + 1; l <= 16; l++ {
		code := int32(acc >> (64 - l))
		if code < t.maxCode[l] {
			return t.symbols[(t.first[l]+code)&0xff], l
		}
	}
	return 0, 0
}
