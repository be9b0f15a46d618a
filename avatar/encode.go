package avatar

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
)

// encode writes img afresh, from its pixels alone, so that no metadata or
// trailing bytes of the upload survive: as PNG if it is an *image.RGBA
// with any pixel not fully opaque, and as JPEG of the given quality
// otherwise. Its only errors are internal.
func encode(img image.Image, quality int) (*Avatar, error) {
	var buf bytes.Buffer
	b := img.Bounds()
	a := &Avatar{Width: b.Dx(), Height: b.Dy()}
	buf.Grow(a.Width * a.Height / 2)
	var err error
	if m, ok := img.(*image.RGBA); !ok || opaque(m) {
		a.ContentType, a.Ext = "image/jpeg", "jpg"
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality})
	} else {
		a.ContentType, a.Ext = "image/png", "png"
		enc := png.Encoder{CompressionLevel: png.BestSpeed}
		err = enc.Encode(&buf, img)
	}
	if err != nil {
		return nil, fmt.Errorf("avatar: encode %s: %w", a.Ext, err)
	}
	a.Data = buf.Bytes()
	return a, nil
}

// opaque reports whether every pixel of img has full alpha.
func opaque(img *image.RGBA) bool {
	for y := img.Rect.Min.Y; y < img.Rect.Max.Y; y++ {
		i := img.PixOffset(img.Rect.Min.X, y)
		row := img.Pix[i : i+4*img.Rect.Dx()]
		for x := 3; x < len(row); x += 4 {
			if row[x] != 0xff {
				return false
			}
		}
	}
	return true
}
