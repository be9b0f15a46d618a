package avatar

import (
	"encoding/binary"
	"image"
)

// tagOrientation is the Exif/TIFF tag of the orientation in IFD0.
const tagOrientation = 0x0112

// orientation returns the Exif orientation (1–8) stored in IFD0 of the TIFF
// structure tiff (as found after "Exif\0\0" in a JPEG APP1 segment, or in a
// PNG eXIf or WebP EXIF chunk), and 1 if there is none, it is out of range,
// or tiff is malformed. It reads only IFD0's entries, follows no other
// offsets, and never reads outside tiff.
func orientation(tiff []byte) int {
	if len(tiff) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(tiff[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	if bo.Uint16(tiff[2:]) != 42 {
		return 1
	}
	off := uint64(bo.Uint32(tiff[4:]))
	if off+2 > uint64(len(tiff)) {
		return 1
	}
	count := uint64(bo.Uint16(tiff[off:]))
	entries := tiff[off+2:]
	count = min(count, uint64(len(entries))/12)
	for i := range count {
		e := entries[12*i : 12*i+12]
		if bo.Uint16(e) == tagOrientation {
			return orientationValue(bo, e)
		}
	}
	return 1
}

// orientationValue returns the value (1–8) of the 12-byte IFD entry e of
// the orientation tag, or 1 if it is not a single SHORT or LONG in range.
func orientationValue(bo binary.ByteOrder, e []byte) int {
	typ, count := bo.Uint16(e[2:]), bo.Uint32(e[4:])
	var v uint32
	switch {
	case count != 1:
		return 1
	case typ == 3: // SHORT, left-justified in the value field
		v = uint32(bo.Uint16(e[8:]))
	case typ == 4: // LONG
		v = bo.Uint32(e[8:])
	}
	if v < 1 || v > 8 {
		return 1
	}
	return int(v)
}

// orient returns img, an *image.RGBA or a 4:2:0 *image.YCbCr made by
// square, turned as Exif orientation o says the stored pixels must be
// turned to be displayed upright: 2 mirrors, 3 rotates 180°, 4 flips, 5
// transposes, 6 rotates 90° clockwise, 7 transverses, 8 rotates 90°
// anticlockwise. For 1, any other value, or another image type it returns
// img itself. The result's bounds start at (0,0); for 5–8 its sides are
// swapped.
func orient(img image.Image, o int) image.Image {
	if o < 2 || o > 8 {
		return img
	}
	switch m := img.(type) {
	case *image.RGBA:
		w, h := m.Rect.Dx(), m.Rect.Dy()
		pix, stride := turn(m.Pix[m.PixOffset(m.Rect.Min.X, m.Rect.Min.Y):], m.Stride, w, h, 4, o)
		if o >= 5 {
			w, h = h, w
		}
		return &image.RGBA{Pix: pix, Stride: stride, Rect: image.Rect(0, 0, w, h)}
	case *image.YCbCr: // square, so only the planes move
		n, c := m.Rect.Dx(), (m.Rect.Dx()+1)/2
		t := *m
		t.Y, t.YStride = turn(m.Y, m.YStride, n, n, 1, o)
		t.Cb, t.CStride = turn(m.Cb, m.CStride, c, c, 1, o)
		t.Cr, _ = turn(m.Cr, m.CStride, c, c, 1, o)
		return &t
	}
	return img
}

// turn returns the w×h plane of bpp-byte pixels pix, rows stride bytes
// apart, turned as orientation o (2–8) says, and its stride.
func turn(pix []uint8, stride, w, h, bpp, o int) ([]uint8, int) {
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	dst := make([]uint8, dw*dh*bpp)
	for dy := range dh {
		row := dst[dy*dw*bpp : (dy+1)*dw*bpp]
		for dx := range dw {
			sx, sy := sourceOf(o, dx, dy, w, h)
			i := sy*stride + sx*bpp
			copy(row[dx*bpp:dx*bpp+bpp], pix[i:i+bpp])
		}
	}
	return dst, dw * bpp
}

// sourceOf returns the pixel of a w×h stored image that lands at (dx, dy)
// once turned as orientation o (2–8) says.
func sourceOf(o, dx, dy, w, h int) (sx, sy int) {
	switch o {
	case 2:
		return w - 1 - dx, dy
	case 3:
		return w - 1 - dx, h - 1 - dy
	case 4:
		return dx, h - 1 - dy
	case 5:
		return dy, dx
	case 6:
		return dy, h - 1 - dx
	case 7:
		return w - 1 - dy, h - 1 - dx
	case 8:
		return w - 1 - dy, dx
	}
	return dx, dy
}
