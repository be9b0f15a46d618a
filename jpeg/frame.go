package jpeg

// frame is the parsed SOF segment, the scan being read, and scratch space.
type frame struct {
	comps        []component
	hmax, vmax   int
	mcusX, mcusY int
	next         scan // the scan whose header was read last
	scratch      [1 << 16]byte
}

// component is one component of the frame.
type component struct {
	Component
	tq     uint8
	bw, bh int // blocks in the MCU grid: mcusX·H × mcusY·V
	cw, ch int // blocks covering the component's own samples
}

// scan is a parsed SOS header.
type scan struct {
	n              int // components in the scan
	comp           [4]int
	td, ta         [4]uint8
	ss, se, ah, al int
}

// readSOF reads the frame header. The frame cannot change afterwards.
func (d *Decoder) readSOF(marker byte, n int) error {
	if d.frame.comps != nil {
		return FormatError("multiple SOF markers")
	}
	p, err := d.payload(n)
	if err != nil {
		return err
	}
	if n < 6 || n != 6+3*int(p[5]) {
		return FormatError("SOF has wrong length")
	}
	if p[0] != 8 {
		return UnsupportedError("12-bit JPEG; save it again with 8-bit samples, or send a PNG")
	}
	h, w, nc := int(p[1])<<8|int(p[2]), int(p[3])<<8|int(p[4]), int(p[5])
	switch {
	case nc != 1 && nc != 3 && nc != 4:
		return UnsupportedError("JPEG with neither 1, 3 nor 4 components; send a greyscale, colour or CMYK JPEG")
	case w == 0:
		return FormatError("zero width")
	case h == 0:
		return UnsupportedError("JPEG whose height is set by a DNL marker; save it again as an ordinary JPEG")
	}
	d.h.Width, d.h.Height, d.h.Progressive = w, h, marker == markerSOF2
	return d.readComponents(p[6:], nc)
}

// readComponents reads the nc component specifications of a frame header
// and lays out the MCU grid.
func (d *Decoder) readComponents(p []byte, nc int) error {
	f := &d.frame
	f.comps = make([]component, nc)
	for i := range f.comps {
		c := &f.comps[i]
		c.ID, c.H, c.V, c.tq = p[3*i], int(p[3*i+1]>>4), int(p[3*i+1]&15), p[3*i+2]
		if c.H < 1 || c.H > 4 || c.V < 1 || c.V > 4 {
			return FormatError("bad sampling factor")
		}
		if c.tq > 3 {
			return FormatError("bad Tq value")
		}
		for j := range i {
			if f.comps[j].ID == c.ID {
				return FormatError("repeated component identifier")
			}
		}
		if nc == 1 { // a single component is never interleaved
			c.H, c.V = 1, 1
		}
		f.hmax, f.vmax = max(f.hmax, c.H), max(f.vmax, c.V)
	}
	f.mcusX = ceilDiv(d.h.Width, 8*f.hmax)
	f.mcusY = ceilDiv(d.h.Height, 8*f.vmax)
	for i := range f.comps {
		c := &f.comps[i]
		c.bw, c.bh = f.mcusX*c.H, f.mcusY*c.V
		c.cw = ceilDiv(ceilDiv(d.h.Width*c.H, f.hmax), 8)
		c.ch = ceilDiv(ceilDiv(d.h.Height*c.V, f.vmax), 8)
		d.h.Components = append(d.h.Components, c.Component)
	}
	return nil
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// colorSpace decides how the components are to be read, as libjpeg and
// image/jpeg do.
func (d *Decoder) colorSpace() (ColorSpace, error) {
	t, c := &d.tables, d.frame.comps
	switch {
	case len(c) == 1:
		return Gray, nil
	case len(c) == 3 && t.jfif:
		return YCbCr, nil
	case len(c) == 3 && (t.adobe && t.adobeXfm == 0 || c[0].ID == 'R' && c[1].ID == 'G' && c[2].ID == 'B'):
		return RGB, nil
	case len(c) == 3:
		return YCbCr, nil
	case !t.adobe:
		return 0, UnsupportedError("4-component JPEG without Adobe marker; send an RGB JPEG")
	case t.adobeXfm == 0:
		return CMYK, nil
	}
	return YCCK, nil
}

// readSOS reads a scan header into d.frame.next.
func (d *Decoder) readSOS(n int) error {
	f := &d.frame
	if f.comps == nil {
		return FormatError("missing SOF marker")
	}
	p, err := d.payload(n)
	if err != nil {
		return err
	}
	if n < 1 || p[0] < 1 || int(p[0]) > len(f.comps) || n != 4+2*int(p[0]) {
		return FormatError("SOS has wrong length")
	}
	s := scan{n: int(p[0])}
	units := 0
	for i := range s.n {
		ci := f.component(p[1+2*i])
		if ci < 0 {
			return FormatError("unknown component selector")
		}
		for j := range i {
			if s.comp[j] == ci {
				return FormatError("repeated component selector")
			}
		}
		s.comp[i], s.td[i], s.ta[i] = ci, p[2+2*i]>>4, p[2+2*i]&15
		if s.td[i] > 3 || s.ta[i] > 3 {
			return FormatError("bad Td or Ta value")
		}
		units += f.comps[ci].H * f.comps[ci].V
	}
	if s.n > 1 && units > 10 {
		return FormatError("total sampling factors too large")
	}
	q := p[1+2*s.n:]
	s.ss, s.se, s.ah, s.al = int(q[0]), int(q[1]), int(q[2]>>4), int(q[2]&15)
	f.next = s
	return d.checkSpectral()
}

// component returns the index of the component with the given id, or -1.
func (f *frame) component(id byte) int {
	for i := range f.comps {
		if f.comps[i].ID == id {
			return i
		}
	}
	return -1
}

// checkSpectral checks the band and successive approximation of a
// progressive scan; sequential scans always cover every coefficient.
func (d *Decoder) checkSpectral() error {
	s := &d.frame.next
	if !d.h.Progressive {
		s.ss, s.se, s.ah, s.al = 0, 63, 0, 0
		return nil
	}
	switch {
	case s.ss > s.se || s.se > 63 || s.ss == 0 && s.se != 0:
		return FormatError("bad spectral selection bounds")
	case s.ss > 0 && s.n != 1:
		return FormatError("progressive AC coefficients for more than one component")
	case s.al > 13 || s.ah != 0 && s.ah != s.al+1:
		return FormatError("bad successive approximation values")
	}
	return nil
}
