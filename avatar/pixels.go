package avatar

import "image"

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
