package jpeg

import "bytes"

// Marker codes.
const (
	markerSOF0 = 0xc0 // baseline
	markerSOF1 = 0xc1 // extended sequential, Huffman
	markerSOF2 = 0xc2 // progressive, Huffman
	markerDHT  = 0xc4
	markerDAC  = 0xcc // arithmetic conditioning
	markerRST0 = 0xd0
	markerRST7 = 0xd7
	markerSOI  = 0xd8
	markerEOI  = 0xd9
	markerSOS  = 0xda
	markerDQT  = 0xdb
	markerDRI  = 0xdd
	markerAPP0 = 0xe0
	markerAPP1 = 0xe1
	markerAPPE = 0xee
	markerAPPF = 0xef
	markerCOM  = 0xfe
)

// tables is the decoding state that segments between scans may change.
type tables struct {
	quant    [4][64]int32 // natural order
	hasQuant [4]bool
	dc, ac   [4]huffTable
	restart  int // MCUs per restart interval; 0 if none
	jfif     bool
	adobe    bool
	adobeXfm byte
	segments int
}

// readHeader reads SOI and the segments up to the first SOS, which it
// parses into d.frame.next.
func (d *Decoder) readHeader() error {
	var soi [2]byte
	if err := d.src.full(soi[:]); err != nil {
		return err
	}
	if soi[0] != 0xff || soi[1] != markerSOI {
		return FormatError("missing SOI marker")
	}
	eoi, err := d.nextScan()
	switch {
	case err != nil:
		return err
	case eoi:
		return FormatError("missing SOS marker")
	}
	d.h.ColorSpace, err = d.colorSpace()
	return err
}

// nextScan reads segments up to the next SOS, whose header it parses into
// d.frame.next, or up to EOI, when it returns true.
func (d *Decoder) nextScan() (eoi bool, err error) {
	for {
		if d.tables.segments++; d.tables.segments > MaxSegments {
			return false, LimitError("too many marker segments")
		}
		marker, err := d.src.nextMarker()
		if err != nil {
			return false, err
		}
		switch {
		case marker == markerEOI:
			return true, nil
		case marker >= markerRST0 && marker <= markerRST7:
			continue // a stray restart marker has no length: harmless
		}
		n, err := d.src.segmentLength()
		if err != nil {
			return false, err
		}
		if marker == markerSOS {
			return false, d.readSOS(n)
		}
		if err := d.segment(marker, n); err != nil {
			return false, err
		}
	}
}

// segment processes the n-byte payload of a segment other than SOS.
func (d *Decoder) segment(marker byte, n int) error {
	switch {
	case marker == markerSOF0 || marker == markerSOF1 || marker == markerSOF2:
		return d.readSOF(marker, n)
	case marker == markerDHT:
		return d.readDHT(n)
	case marker == markerDQT:
		return d.readDQT(n)
	case marker == markerDRI:
		return d.readDRI(n)
	case marker == markerAPP0 || marker == markerAPP1 || marker == markerAPPE:
		return d.readApp(marker, n)
	case marker > markerAPP0 && marker <= markerAPPF || marker == markerCOM:
		return d.src.skip(n)
	case marker >= 0xc3 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8:
		return unsupportedFrame(marker)
	case marker < 0xc0:
		return FormatError("unknown marker")
	}
	return UnsupportedError("unknown marker; save the image again as an ordinary JPEG")
}

// unsupportedFrame is the error for a valid kind of JPEG frame this
// package does not decode.
func unsupportedFrame(marker byte) error {
	switch marker {
	case 0xc3, 0xc7, 0xcb, 0xcf:
		return UnsupportedError("lossless JPEG; send a baseline or progressive JPEG, or a PNG")
	case 0xc5, 0xc6, 0xcd, 0xce:
		return UnsupportedError("hierarchical JPEG; send a baseline or progressive JPEG")
	}
	return UnsupportedError("arithmetic-coded JPEG; save it again with ordinary (Huffman) coding, or send a PNG")
}

// payload reads an n-byte segment payload into a buffer of d's.
func (d *Decoder) payload(n int) ([]byte, error) {
	b := d.frame.scratch[:n]
	return b, d.src.full(b)
}

// readApp keeps what matters of APP0 (JFIF), APP1 (Exif) and APP14
// (Adobe) segments.
func (d *Decoder) readApp(marker byte, n int) error {
	p, err := d.payload(n)
	if err != nil {
		return err
	}
	switch {
	case marker == markerAPP0 && bytes.HasPrefix(p, []byte("JFIF\x00")):
		d.tables.jfif = true
	case marker == markerAPPE && n >= 12 && bytes.HasPrefix(p, []byte("Adobe")):
		d.tables.adobe, d.tables.adobeXfm = true, p[11]
	case marker == markerAPP1 && d.h.Exif == nil && bytes.HasPrefix(p, []byte("Exif\x00\x00")):
		d.h.Exif = bytes.Clone(p[6:min(n, 6+MaxExif)])
	}
	return nil
}

// readDRI reads a restart interval definition.
func (d *Decoder) readDRI(n int) error {
	if n != 2 {
		return FormatError("DRI has wrong length")
	}
	p, err := d.payload(n)
	if err != nil {
		return err
	}
	d.tables.restart = int(p[0])<<8 | int(p[1])
	return nil
}

// readDQT reads quantisation tables of 8- or 16-bit values.
func (d *Decoder) readDQT(n int) error {
	p, err := d.payload(n)
	if err != nil {
		return err
	}
	for len(p) > 0 {
		pq, tq := p[0]>>4, p[0]&15
		size := 1 + 64*(1+int(pq))
		if pq > 1 || tq > 3 || len(p) < size {
			return FormatError("bad DQT segment")
		}
		q := &d.tables.quant[tq]
		d.tables.hasQuant[tq] = true
		for k := range 64 {
			v := int32(p[1+k])
			if pq == 1 {
				v = int32(p[1+2*k])<<8 | int32(p[2+2*k])
			}
			q[unzig[k]] = v
		}
		p = p[size:]
	}
	return nil
}

// unzig maps the zig-zag index of a coefficient to its natural index
// (row·8 + column).
var unzig = zigzag()

// zigzag walks the anti-diagonals of an 8×8 block alternately up and
// down, as the JPEG standard orders coefficients.
func zigzag() (z [64]uint8) {
	k := 0
	for s := range 15 {
		for i := range s + 1 {
			r := i
			if s%2 == 0 {
				r = s - i
			}
			if c := s - r; r < 8 && c < 8 {
				z[k] = uint8(8*r + c)
				k++
			}
		}
	}
	return z
}
