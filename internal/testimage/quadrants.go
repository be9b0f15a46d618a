package testimage

import (
	"encoding/binary"
	"image"
	"image/color"
)

// QuadrantColors are the colours of Quadrants' picture, upright: top left
// red, top right green, bottom left blue, bottom right yellow.
var QuadrantColors = [4]color.NRGBA{
	{220, 30, 30, 255}, {30, 200, 30, 255}, {30, 30, 220, 255}, {230, 220, 30, 255},
}

// Quadrants returns the pixels to store for a picture that shows, turned
// upright as Exif orientation o (1–8) says, w×h pixels in four quadrants
// of QuadrantColors. For o of 5 to 8 the stored image is h×w.
func Quadrants(w, h, o int) *image.NRGBA {
	sw, sh := w, h
	if o >= 5 {
		sw, sh = h, w
	}
	m := image.NewNRGBA(image.Rect(0, 0, sw, sh))
	for y := range h {
		for x := range w {
			q := 0
			if x >= w/2 {
				q++
			}
			if y >= h/2 {
				q += 2
			}
			sx, sy := stored(o, x, y, sw, sh)
			m.SetNRGBA(sx, sy, QuadrantColors[q])
		}
	}
	return m
}

// stored returns the pixel of a w×h stored image that is shown at (x, y)
// once turned as Exif orientation o says (Exif 2.32, tag 0x0112).
func stored(o, x, y, w, h int) (int, int) {
	switch o {
	case 2:
		return w - 1 - x, y
	case 3:
		return w - 1 - x, h - 1 - y
	case 4:
		return x, h - 1 - y
	case 5:
		return y, x
	case 6:
		return y, h - 1 - x
	case 7:
		return w - 1 - y, h - 1 - x
	case 8:
		return w - 1 - y, x
	}
	return x, y
}

// QuadrantsShown returns which of QuadrantColors a square made of a
// Quadrants picture shows at the left and at the right of its top quarter
// and at its bottom centre: each an index into QuadrantColors, or -1 when
// the colour there is none of them (within 40 in every channel).
func QuadrantsShown(m image.Image) [3]int {
	b := m.Bounds()
	points := [3]image.Point{{b.Dx() / 8, b.Dy() / 4}, {b.Dx() * 7 / 8, b.Dy() / 4}, {b.Dx() / 2, b.Dy() * 7 / 8}}
	var shown [3]int
	for i, p := range points {
		shown[i] = quadrantOf(m.At(b.Min.X+p.X, b.Min.Y+p.Y))
	}
	return shown
}

// QuadrantsMatch reports whether got, as QuadrantsShown returns it, is
// want, where want's -1 stands for any.
func QuadrantsMatch(got, want [3]int) bool {
	for i := range want {
		if want[i] >= 0 && got[i] != want[i] {
			return false
		}
	}
	return true
}

// quadrantOf returns the index of the colour of QuadrantColors within 40
// of c in every channel, or -1.
func quadrantOf(c color.Color) int {
	r, g, b, _ := c.RGBA()
	near := func(v uint32, w uint8) bool { return max(int(v>>8)-int(w), int(w)-int(v>>8)) < 40 }
	for i, q := range QuadrantColors {
		if near(r, q.R) && near(g, q.G) && near(b, q.B) {
			return i
		}
	}
	return -1
}

// WithOrientation returns the JPEG file jpg with an Exif APP1 segment,
// right after its SOI, whose only tag is the orientation o.
func WithOrientation(jpg []byte, o int) []byte {
	tiff := []byte("MM\x00*\x00\x00\x00\x08\x00\x01")         // big-endian, IFD0 at 8, one entry
	tiff = binary.BigEndian.AppendUint16(tiff, 0x0112)        // Orientation
	tiff = binary.BigEndian.AppendUint16(tiff, 3)             // SHORT
	tiff = binary.BigEndian.AppendUint32(tiff, 1)             // one value
	tiff = binary.BigEndian.AppendUint32(tiff, uint32(o)<<16) // left-justified
	tiff = binary.BigEndian.AppendUint32(tiff, 0)             // no IFD1
	payload := append([]byte("Exif\x00\x00"), tiff...)
	out := append([]byte{}, jpg[:2]...)
	out = append(out, 0xff, 0xe1, byte((len(payload)+2)>>8), byte(len(payload)+2))
	out = append(out, payload...)
	return append(out, jpg[2:]...)
}
