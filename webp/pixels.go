package webp

import (
	"image"
	"image/draw"
)

// libwebpInput returns img in a layout gen2brain/webp hands to libwebp
// as it is: an *image.NYCbCrA whose four planes are one contiguous block
// at the origin (what it passes as YUV420A), or an *image.NRGBA at the
// origin with no padding between rows.
func libwebpInput(img image.Image, lossless bool) image.Image {
	if m, ok := img.(*image.YCbCr); ok && !lossless && m.SubsampleRatio == image.YCbCrSubsampleRatio420 {
		return videoRange(m)
	}
	if m, ok := img.(*image.RGBA); ok {
		return unpremultiply(m)
	}
	b := img.Bounds()
	dst := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Rect, img, b.Min, draw.Src)
	return dst
}

// The image package's YCbCr is JFIF's, full range (0–255); VP8 codes
// BT.601 video range (luma 16–235, chroma 16–240), which is how browsers
// decode it. Same coefficients, so the planes map sample by sample.
var lumaRange, chromaRange = rangeTables()

func rangeTables() (luma, chroma [256]uint8) {
	for v := range 256 {
		luma[v] = uint8(16 + (v*219+127)/255)
		c := (v-128)*224 + 128*255 // shifted so the division rounds non-negative values
		chroma[v] = uint8((c + 127) / 255)
	}
	return luma, chroma
}

// videoRange copies m into a new opaque NYCbCrA in video range.
func videoRange(m *image.YCbCr) *image.NYCbCrA {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	dst := image.NewNYCbCrA(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	for y := range h {
		src := m.Y[m.YOffset(m.Rect.Min.X, m.Rect.Min.Y+y):]
		row := dst.Y[y*dst.YStride : y*dst.YStride+w]
		for x := range row {
			row[x] = lumaRange[src[x]]
		}
	}
	cw, ch := (w+1)/2, (h+1)/2
	for y := range ch {
		i := m.COffset(m.Rect.Min.X, m.Rect.Min.Y+2*y)
		cb, cr := m.Cb[i:i+cw], m.Cr[i:i+cw]
		o := y * dst.CStride
		for x := range cw {
			dst.Cb[o+x] = chromaRange[cb[x]]
			dst.Cr[o+x] = chromaRange[cr[x]]
		}
	}
	for i := range dst.A {
		dst.A[i] = 0xff
	}
	return dst
}

// unpremultiply copies the premultiplied m into a new NRGBA, which is what
// libwebp takes.
func unpremultiply(m *image.RGBA) *image.NRGBA {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		i := m.PixOffset(m.Rect.Min.X, m.Rect.Min.Y+y)
		src, row := m.Pix[i:i+4*w], dst.Pix[y*dst.Stride:y*dst.Stride+4*w]
		for x := 0; x < len(row); x += 4 {
			s, d := src[x:x+4:x+4], row[x:x+4:x+4]
			switch a := uint32(s[3]); a {
			case 0xff:
				copy(d, s)
			case 0:
				d[0], d[1], d[2], d[3] = 0, 0, 0, 0
			default:
				d[0] = uint8(min((uint32(s[0])*0xff+a/2)/a, 0xff))
				d[1] = uint8(min((uint32(s[1])*0xff+a/2)/a, 0xff))
				d[2] = uint8(min((uint32(s[2])*0xff+a/2)/a, 0xff))
				d[3] = s[3]
			}
		}
	}
	return dst
}
