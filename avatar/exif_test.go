package avatar

import (
	"bytes"
	"context"
	"encoding/binary"
	"image"
	"image/color"
	"testing"
)

// exifTIFF returns a TIFF structure whose IFD0 holds a software tag and
// then the orientation o (as a SHORT), in big- or little-endian order.
func exifTIFF(bigEndian bool, o uint16) []byte {
	var bo binary.AppendByteOrder = binary.LittleEndian
	b := []byte("II*\x00")
	if bigEndian {
		bo, b = binary.BigEndian, []byte("MM\x00*")
	}
	b = bo.AppendUint32(b, 8)
	b = bo.AppendUint16(b, 2)
	b = appendEntry(bo, b, 0x0131, 2, 4, 0x41424300) // Software "ABC"
	v := uint32(o)                                   // a SHORT is left-justified in the 4-byte value field
	if bigEndian {
		v <<= 16
	}
	b = appendEntry(bo, b, tagOrientation, 3, 1, v)
	return bo.AppendUint32(b, 0) // no IFD1
}

// appendEntry appends a 12-byte IFD entry whose value field holds v as it
// would be read back with bo.Uint32.
func appendEntry(bo binary.AppendByteOrder, b []byte, tag, typ uint16, count, v uint32) []byte {
	b = bo.AppendUint16(b, tag)
	b = bo.AppendUint16(b, typ)
	b = bo.AppendUint32(b, count)
	return bo.AppendUint32(b, v)
}

// withExif inserts an APP1 Exif segment holding tiff after the SOI of jpg.
func withExif(jpg, tiff []byte) []byte {
	payload := append([]byte("Exif\x00\x00"), tiff...)
	seg := []byte{0xff, 0xe1, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)}
	out := append([]byte{}, jpg[:2]...)
	out = append(append(out, seg...), payload...)
	return append(out, jpg[2:]...)
}

func TestOrientation(t *testing.T) {
	long := appendEntry(binary.BigEndian, []byte("MM\x00*\x00\x00\x00\x08\x00\x01"), tagOrientation, 4, 1, 8)
	for _, tc := range []struct {
		name string
		tiff []byte
		want int
	}{
		{"big-endian 6", exifTIFF(true, 6), 6},
		{"little-endian 6", exifTIFF(false, 6), 6},
		{"big-endian 8", exifTIFF(true, 8), 8},
		{"little-endian 3", exifTIFF(false, 3), 3},
		{"zero", exifTIFF(true, 0), 1},
		{"nine", exifTIFF(false, 9), 1},
		{"LONG value", long, 8},
		{"nil", nil, 1},
		{"short", []byte("MM\x00*\x00\x00"), 1},
		{"bad order mark", []byte("MI\x00*\x00\x00\x00\x08\x00\x00"), 1},
		{"bad magic", []byte("MM\x00+\x00\x00\x00\x08\x00\x00"), 1},
		{"IFD offset past end", []byte("MM\x00*\xff\xff\xff\xf0\x00\x00"), 1},
		{"IFD offset at end", []byte("MM\x00*\x00\x00\x00\x0a\x00\x00"), 1},
		{"entry count past end", exifTIFF(true, 6)[:20], 1},
		{"huge entry count", append([]byte("II*\x00\x08\x00\x00\x00\xff\xff"), exifTIFF(false, 6)[10:]...), 6},
		{"count 2", appendEntry(binary.BigEndian, []byte("MM\x00*\x00\x00\x00\x08\x00\x01"), tagOrientation, 3, 2, 6<<16), 1},
		{"ASCII type", appendEntry(binary.BigEndian, []byte("MM\x00*\x00\x00\x00\x08\x00\x01"), tagOrientation, 2, 1, 6<<16), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := orientation(tc.tiff); got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
		})
	}
}

func FuzzOrientation(f *testing.F) {
	f.Add(exifTIFF(true, 6))
	f.Add(exifTIFF(false, 8))
	f.Add([]byte("II*\x00\x08\x00\x00\x00\xff\xff"))
	f.Fuzz(func(t *testing.T, tiff []byte) {
		if o := orientation(tiff); o < 1 || o > 8 {
			t.Fatalf("orientation %d", o)
		}
	})
}

// TestOrientationFromContainers finds the orientation in a JPEG APP1, a
// PNG eXIf chunk and a WebP EXIF chunk.
func TestOrientationFromContainers(t *testing.T) {
	jpg := withExif(encodeJPEG(t, pattern(8, 8)), exifTIFF(false, 6))
	pngFile := withPNGChunk(encodePNG(t, pattern(8, 8)), "eXIf", exifTIFF(true, 3))
	webp := appendRIFFChunk(lossyWebP(t), "EXIF", append([]byte("Exif\x00\x00"), exifTIFF(true, 8)...))
	for _, tc := range []struct {
		name string
		f    format
		data []byte
		want int
	}{
		{"jpeg", formatJPEG, jpg, 6},
		{"png", formatPNG, pngFile, 3},
		{"webp", formatWebP, webp, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var exif []byte
			if tc.f == formatJPEG {
				exif = jpegExif(t, tc.data)
			} else {
				h, err := readHeader(context.Background(), bytes.NewReader(tc.data), tc.f)
				if err != nil {
					t.Fatal(err)
				}
				exif = h.exif
			}
			if got := orientation(exif); got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
			if _, err := process(tc.data); err != nil {
				t.Errorf("Process: %v", err)
			}
		})
	}
}

// TestOrient turns a 3×2 image whose pixels are numbered and checks where
// the stored top-left and top-right pixels land.
func TestOrient(t *testing.T) {
	src := image.NewRGBA(image.Rect(10, 20, 13, 22)) // not at the origin
	for i := range 6 {
		src.SetRGBA(10+i%3, 20+i/3, color.RGBA{uint8(i), 0, 0, 255})
	}
	for _, tc := range []struct {
		o                 int
		w, h              int
		topLeft, topRight uint8 // stored pixel numbers displayed there
	}{
		{1, 3, 2, 0, 2}, {2, 3, 2, 2, 0}, {3, 3, 2, 5, 3}, {4, 3, 2, 3, 5},
		{5, 2, 3, 0, 3}, {6, 2, 3, 3, 0}, {7, 2, 3, 5, 2}, {8, 2, 3, 2, 5},
	} {
		got := orient(src, tc.o).(*image.RGBA)
		b := got.Bounds()
		if b.Dx() != tc.w || b.Dy() != tc.h {
			t.Errorf("orientation %d: bounds %v, want %d×%d", tc.o, b, tc.w, tc.h)
			continue
		}
		tl, tr := got.RGBAAt(b.Min.X, b.Min.Y).R, got.RGBAAt(b.Max.X-1, b.Min.Y).R
		if tl != tc.topLeft || tr != tc.topRight {
			t.Errorf("orientation %d: top corners show %d, %d; want %d, %d", tc.o, tl, tr, tc.topLeft, tc.topRight)
		}
	}
}
