// Package monogram renders the default picture of a user who has not
// uploaded one: the initials of their name in Go Bold
// (golang.org/x/image/font/gofont) on a colour derived from their id, or a
// silhouette where the font cannot draw the initials.
package monogram

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"

	"github.com/portraitsvc/portrait"
)

// The sizes Render accepts, in pixels a side.
const (
	MinSize = 16
	MaxSize = 1024
)

// goBold is the parsed font; sfnt.Font is safe for concurrent use, its
// faces are not, so each Render makes its own.
var goBold = sync.OnceValue(func() *sfnt.Font {
	f, err := opentype.Parse(gobold.TTF)
	if err != nil {
		panic(fmt.Sprintf("monogram: the embedded Go Bold font does not parse: %v", err))
	}
	return f
})

// Render returns a size×size PNG for the user with that id and name:
// Initials(first, last) centred on Background(id) in TextColor of it, or a
// silhouette when there are no initials. The same arguments always give
// the same bytes (on one CPU architecture: the rasteriser's arithmetic is
// the architecture's). A size outside MinSize–MaxSize is an EINVALID
// error; there is no other.
func Render(id, first, last string, size int) ([]byte, error) {
	if size < MinSize || size > MaxSize {
		return nil, portrait.Errorf(portrait.EINVALID, "The size must be between %d and %d pixels.", MinSize, MaxSize)
	}
	coverage := image.NewAlpha(image.Rect(0, 0, size, size))
	if s := Initials(first, last); s != "" {
		drawText(coverage, s)
	} else {
		drawSilhouette(coverage)
	}
	bg := Background(id)
	var buf bytes.Buffer
	if err := encoder.Encode(&buf, blend(coverage, bg, TextColor(bg))); err != nil {
		return nil, fmt.Errorf("monogram: encode: %w", err) // cannot happen: writes to memory
	}
	return buf.Bytes(), nil
}

// encoder reuses its compression state across pictures: allocating it is
// most of the cost of a small one.
var encoder = png.Encoder{CompressionLevel: png.DefaultCompression, BufferPool: &bufferPool{}}

type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() *png.EncoderBuffer {
	e, _ := b.p.Get().(*png.EncoderBuffer)
	return e
}

func (b *bufferPool) Put(e *png.EncoderBuffer) { b.p.Put(e) }

// levels is the number of shades between background and text: coverage is
// quantised to it, so that the picture is a small palette image. 64
// levels look the same as 256 on an edge of anti-aliased text.
const levels = 64

// blend returns the picture as a palette image whose index i is the
// background mixed with fg at i/(levels-1).
func blend(coverage *image.Alpha, bg, fg color.RGBA) *image.Paletted {
	pal := make(color.Palette, levels)
	mix := func(a, b uint8, i int) uint8 {
		return uint8((int(a)*(levels-1-i) + int(b)*i + (levels-1)/2) / (levels - 1))
	}
	for i := range pal {
		pal[i] = color.RGBA{mix(bg.R, fg.R, i), mix(bg.G, fg.G, i), mix(bg.B, fg.B, i), 0xff}
	}
	m := image.NewPaletted(coverage.Rect, pal)
	for i, a := range coverage.Pix {
		m.Pix[i] = uint8((int(a)*(levels-1) + 127) / 255)
	}
	return m
}

// drawText draws s, at most two letters the font has, into dst: capitals
// 40 % of the picture's height, narrowed to fit 72 % of its width, centred
// on their ink.
func drawText(dst *image.Alpha, s string) {
	side := float64(dst.Rect.Dx())
	f := goBold()
	var b sfnt.Buffer
	capHeight := 0.0
	if m, err := f.Metrics(&b, fixed.I(1000), font.HintingNone); err == nil {
		capHeight = float64(m.CapHeight) / 64 / 1000
	}
	if capHeight <= 0 {
		capHeight = 0.7
	}
	points := 0.40 * side / capHeight
	face := newFace(f, points)
	ink, _ := font.BoundString(face, s)
	if w := float64(ink.Max.X-ink.Min.X) / 64; w > 0.72*side {
		face = newFace(f, points*0.72*side/w)
		ink, _ = font.BoundString(face, s)
	}
	size := fixed.I(dst.Rect.Dx())
	d := font.Drawer{Dst: dst, Src: image.Opaque, Face: face}
	d.Dot = fixed.Point26_6{
		X: (size-(ink.Max.X-ink.Min.X))/2 - ink.Min.X,
		Y: (size-(ink.Max.Y-ink.Min.Y))/2 - ink.Min.Y,
	}
	d.DrawString(s)
}

func newFace(f *sfnt.Font, points float64) font.Face {
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: points, DPI: 72, Hinting: font.HintingNone})
	if err != nil {
		panic(fmt.Sprintf("monogram: %v", err)) // opentype.NewFace has no error to return
	}
	return face
}

// drawSilhouette draws a head and shoulders into dst.
func drawSilhouette(dst *image.Alpha) {
	s := float32(dst.Rect.Dx())
	r := vector.NewRasterizer(dst.Rect.Dx(), dst.Rect.Dy())
	ellipse(r, 0.5*s, 0.39*s, 0.17*s, 0.17*s)
	ellipse(r, 0.5*s, 1.0*s, 0.34*s, 0.32*s)
	r.Draw(dst, dst.Rect, image.Opaque, image.Point{})
}

// ellipse adds to r the ellipse of centre (cx, cy) and radii rx, ry, as
// four cubic Béziers.
func ellipse(r *vector.Rasterizer, cx, cy, rx, ry float32) {
	const k = 0.5522848 // control-point distance of a quarter circle
	kx, ky := k*rx, k*ry
	r.MoveTo(cx+rx, cy)
	r.CubeTo(cx+rx, cy+ky, cx+kx, cy+ry, cx, cy+ry)
	r.CubeTo(cx-kx, cy+ry, cx-rx, cy+ky, cx-rx, cy)
	r.CubeTo(cx-rx, cy-ky, cx-kx, cy-ry, cx, cy-ry)
	r.CubeTo(cx+kx, cy-ry, cx+rx, cy-ky, cx+rx, cy)
	r.ClosePath()
}
