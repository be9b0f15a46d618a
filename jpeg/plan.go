package jpeg

import (
	"image"
	"unsafe"
)

// maxHelpers bounds the extra goroutines of one decode.
const maxHelpers = 7

// plan is what one Decode will produce and hold.
type plan struct {
	n      int // pixels per block side at the chosen scale: 8, 4, 2 or 1
	mcus   image.Rectangle
	bounds image.Rectangle // of the returned image, at scale
	region image.Rectangle // that the planes cover, at scale: whole MCUs
	helped bool            // restart intervals may be decoded in parallel
}

// plan checks o and lays out what Decode will produce for it.
func (d *Decoder) plan(o Options) (plan, error) {
	s := o.Scale
	switch s {
	case 0:
		s = 1
	case 1, 2, 4, 8:
	default:
		return plan{}, errScale
	}
	full := image.Rect(0, 0, d.h.Width, d.h.Height)
	crop := o.Crop.Intersect(full)
	if o.Crop.Empty() {
		crop = full
	} else if crop.Empty() {
		return plan{}, errCrop
	}
	f := &d.frame
	mw, mh := 8*f.hmax, 8*f.vmax
	p := plan{n: 8 / s, helped: o.Helpers != nil && d.tables.restart > 0}
	p.mcus = image.Rect(crop.Min.X/mw, crop.Min.Y/mh, ceilDiv(crop.Max.X, mw), ceilDiv(crop.Max.Y, mh))
	p.region = image.Rectangle{p.mcus.Min.Mul(mw / s), p.mcus.Max.Mul(mw / s)}
	p.region.Min.Y, p.region.Max.Y = p.mcus.Min.Y*mh/s, p.mcus.Max.Y*mh/s
	scaled := image.Rect(crop.Min.X/s, crop.Min.Y/s, ceilDiv(crop.Max.X, s), ceilDiv(crop.Max.Y, s))
	p.bounds = scaled.Intersect(image.Rect(0, 0, ceilDiv(d.h.Width, s), ceilDiv(d.h.Height, s)))
	return p, nil
}

var (
	errScale = errorString("jpeg: Options.Scale must be 1, 2, 4 or 8")
	errCrop  = errorString("jpeg: Options.Crop lies outside the image")
)

type errorString string

func (e errorString) Error() string { return string(e) }

// blocks returns the range of blocks of component c that the plan's MCUs
// cover.
func (p *plan) blocks(c *component) image.Rectangle {
	return image.Rect(p.mcus.Min.X*c.H, p.mcus.Min.Y*c.V, p.mcus.Max.X*c.H, p.mcus.Max.Y*c.V)
}

// decoderSize bounds what NewDecoder allocates: the Decoder itself (its
// tables and segment buffer), its read buffer, the Exif block and the
// components.
const decoderSize = int64(unsafe.Sizeof(Decoder{})) + sourceSize + MaxExif + 4<<10

// memory bounds the bytes the decoder holds while Decode runs for the
// plan: itself, the planes, the progressive coefficients, the conversion
// to the returned image type, and the buffers of helpers.
func (p *plan) memory(d *Decoder) int64 {
	const slack = 64 << 10 // run state and small slices
	total := decoderSize + slack
	for i := range d.frame.comps {
		c := &d.frame.comps[i]
		b := p.blocks(c)
		blocks := int64(b.Dx()) * int64(b.Dy())
		total += blocks * int64(p.n*p.n) // plane
		if d.h.Progressive {
			kept := int64(len(keptFreqs(p.n)))
			total += blocks*2*kept*kept + int64(c.bw)*int64(c.bh)*8
		}
	}
	px := int64(p.region.Dx()) * int64(p.region.Dy())
	if b := int64(d.convertBytes()); b > 0 {
		total += px*b + 4*4*int64(p.region.Dx()) // and each's column tables
	}
	if p.helped {
		mcus := int64(d.frame.mcusX) * int64(d.frame.mcusY)
		total += maxHelpers*(sourceSize+4<<10) + 16*(mcus/int64(d.tables.restart)+1)
	}
	return total
}
