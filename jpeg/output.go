package jpeg

import (
	"image"
	"image/color"
)

// ratios maps the chroma subsampling of a frame, as Y's sampling factors
// over the chroma's, to the image.YCbCr ratio that stores it as it is.
var ratios = map[[2]int]image.YCbCrSubsampleRatio{
	{1, 1}: image.YCbCrSubsampleRatio444, {2, 1}: image.YCbCrSubsampleRatio422,
	{2, 2}: image.YCbCrSubsampleRatio420, {1, 2}: image.YCbCrSubsampleRatio440,
	{4, 1}: image.YCbCrSubsampleRatio411, {4, 2}: image.YCbCrSubsampleRatio410,
}

// ratio returns the image.YCbCr ratio of a three-component frame, and
// false if image.YCbCr has none for it.
func (f *frame) ratio() (image.YCbCrSubsampleRatio, bool) {
	y, cb, cr := f.comps[0], f.comps[1], f.comps[2]
	if y.H != f.hmax || y.V != f.vmax || cb.H != cr.H || cb.V != cr.V || f.hmax%cb.H != 0 || f.vmax%cb.V != 0 {
		return 0, false
	}
	r, ok := ratios[[2]int{f.hmax / cb.H, f.vmax / cb.V}]
	return r, ok
}

// convertBytes is how many bytes per pixel the returned image takes
// beyond the decoded planes.
func (d *Decoder) convertBytes() int {
	switch d.h.ColorSpace {
	case Gray:
		return 0
	case YCbCr:
		if _, ok := d.frame.ratio(); ok {
			return 0
		}
		return 3
	}
	return 4
}

// plane is the decoded samples of one component over the plan's region.
type plane struct {
	pix    []uint8
	stride int
	blocks image.Rectangle // the blocks it holds, in the component's grid
}

// image wraps or converts the decoded planes into the returned image.
func (r *run) image() image.Image {
	d, p := r.d, &r.p
	reg := p.region
	var m interface {
		image.Image
		SubImage(image.Rectangle) image.Image
	}
	switch d.h.ColorSpace {
	case Gray:
		m = &image.Gray{Pix: r.planes[0].pix, Stride: r.planes[0].stride, Rect: reg}
	case YCbCr:
		m = r.ycbcr()
	case RGB:
		m = r.rgba()
	default:
		m = r.cmyk()
	}
	return m.SubImage(p.bounds)
}

// ycbcr returns the YCbCr planes as they are, or upsampled to 4:4:4 if
// image.YCbCr cannot store their sampling.
func (r *run) ycbcr() *image.YCbCr {
	pl := &r.planes
	if ratio, ok := r.d.frame.ratio(); ok {
		return &image.YCbCr{Y: pl[0].pix, Cb: pl[1].pix, Cr: pl[2].pix, YStride: pl[0].stride,
			CStride: pl[1].stride, SubsampleRatio: ratio, Rect: r.p.region}
	}
	m := image.NewYCbCr(r.p.region, image.YCbCrSubsampleRatio444)
	r.each(func(i int, s [4]uint8) { m.Y[i], m.Cb[i], m.Cr[i] = s[0], s[1], s[2] })
	return m
}

// rgba converts RGB planes.
func (r *run) rgba() *image.RGBA {
	m := image.NewRGBA(r.p.region)
	r.each(func(i int, s [4]uint8) { copy(m.Pix[4*i:4*i+4], []uint8{s[0], s[1], s[2], 0xff}) })
	return m
}

// cmyk converts Adobe CMYK or YCCK planes as image/jpeg does: Adobe
// stores CMYK inverted, and YCCK's YCbCr part gives the inverted CMY.
func (r *run) cmyk() *image.CMYK {
	m := image.NewCMYK(r.p.region)
	ycck := r.d.h.ColorSpace == YCCK
	r.each(func(i int, s [4]uint8) {
		if ycck {
			s[0], s[1], s[2] = color.YCbCrToRGB(s[0], s[1], s[2])
			s[0], s[1], s[2] = 255-s[0], 255-s[1], 255-s[2]
		}
		copy(m.Pix[4*i:4*i+4], []uint8{255 - s[0], 255 - s[1], 255 - s[2], 255 - s[3]})
	})
	return m
}

// each calls fn for every pixel of the region, in order, with the samples
// of every component there (replicated where a component is subsampled).
func (r *run) each(fn func(i int, s [4]uint8)) {
	f, reg := &r.d.frame, r.p.region
	var cols [4][]int32 // sample column of each pixel, per component
	for c := range f.comps {
		cols[c] = make([]int32, reg.Dx())
		for x := range cols[c] {
			cols[c][x] = int32(x * f.comps[c].H / f.hmax)
		}
	}
	var s [4]uint8
	for y := range reg.Dy() {
		for x := range reg.Dx() {
			for c := range f.comps {
				pl := &r.planes[c]
				s[c] = pl.pix[(y*f.comps[c].V/f.vmax)*pl.stride+int(cols[c][x])]
			}
			fn(y*reg.Dx()+x, s)
		}
	}
}
