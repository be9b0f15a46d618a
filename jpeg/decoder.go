// Package jpeg decodes baseline and progressive Huffman-coded 8-bit JPEG
// images, straight to the scale and the region a caller needs, within
// bounds that a hostile file cannot raise.
//
// A Decoder is made in two steps, so that a caller can decide whether to
// pay for the pixels before any of them is allocated: NewDecoder reads
// the markers up to the first scan, and Header and Memory tell what the
// image is and what decoding it at a given scale and crop will allocate;
// Decode then continues from exactly where NewDecoder stopped, with the
// same parsed frame. There is no second marker walk that could disagree.
//
// Decode works in the DCT domain at 1/1, 1/2, 1/4 or 1/8 of full size
// (DC only at 1/8), skips the inverse DCT of blocks outside the crop, keeps
// for progressive files only the coefficients the scale needs, and may
// decode restart intervals on several goroutines. To make several sizes
// from one decode, decode at the scale of the largest and resize the one
// image it returns. Work is bounded: at most
// MaxScans scans, at most MaxWorkFactor coefficient visits per coefficient
// of the image, and the context is checked every scan and every MCU row.
package jpeg

import (
	"context"
	"errors"
	"image"
	"io"
)

// Bounds a file cannot raise.
const (
	// MaxScans is the most scans an image may have. libjpeg's progressive
	// scripts write 10 scans for YCbCr and 18 for four components,
	// mozjpeg's optimised scripts fewer than 20; 64 leaves room for any
	// hand-tuned script while cutting a flood of scans off early.
	MaxScans = 64
	// MaxWorkFactor bounds the coefficients the scans may visit, as a
	// multiple of the image's own coefficient count. Every real script
	// visits each coefficient at most three times (a first pass and two
	// refinements); eight allows successive approximation of every bit
	// but the sign.
	MaxWorkFactor = 8
	// MaxSegments bounds the marker segments read, scans excepted.
	MaxSegments = 4096
	// MaxExif is the largest Exif block kept.
	MaxExif = 64 << 10
)

// FormatError reports data that breaks the JPEG format's rules.
type FormatError string

func (e FormatError) Error() string { return "jpeg: invalid data: " + string(e) }

// UnsupportedError reports a valid JPEG that this package does not decode
// (arithmetic coding, lossless, hierarchical or 12-bit); its text says what
// to send instead.
type UnsupportedError string

func (e UnsupportedError) Error() string { return "jpeg: unsupported: " + string(e) }

// LimitError reports a file that exceeds one of the bounds above.
type LimitError string

func (e LimitError) Error() string { return "jpeg: over a limit: " + string(e) }

// ColorSpace is how the components of an image are to be read.
type ColorSpace int

const (
	Gray  ColorSpace = iota + 1 // one component
	YCbCr                       // three components, JFIF
	RGB                         // three components, Adobe transform 0 or ids 'R','G','B'
	CMYK                        // four components, Adobe transform 0 (inverted, as Adobe writes them)
	YCCK                        // four components, Adobe transform 2
)

// Component is one colour component of a frame.
type Component struct {
	ID   uint8
	H, V int // sampling factors, 1–4
}

// Header is what the markers before the first scan declare.
type Header struct {
	Width, Height int
	Progressive   bool
	ColorSpace    ColorSpace
	Components    []Component
	// Exif is the TIFF structure of the first Exif APP1 segment (after
	// "Exif\0\0"), at most MaxExif bytes; nil if there is none.
	Exif []byte
}

// Options choose what one Decode produces.
type Options struct {
	// Scale is the denominator of the size to decode at: 1, 2, 4 or 8.
	// Zero means 1.
	Scale int
	// Crop is the part of the image wanted, any rectangle, in full-size
	// pixel coordinates of the image as stored (before any Exif
	// orientation: a caller maps an upright rectangle to stored pixels
	// first). The empty rectangle means the whole image. Only the blocks
	// that cover it are transformed and kept; the returned image covers
	// exactly Crop at 1/Scale, rounded out to whole pixels (see Bounds).
	Crop image.Rectangle
	// Helpers, if set, is asked for up to n extra goroutines to decode
	// restart intervals with; it returns how many it grants and a function
	// to give them back. Nil means one goroutine.
	Helpers func(n int) (granted int, release func())
}

// Decoder decodes one JPEG image from its reader. It is not safe for
// concurrent use, and Decode may be called once.
type Decoder struct {
	src    *source
	ra     io.ReaderAt // the reader, if it reads at offsets too
	h      Header
	frame  frame
	tables tables
	used   bool
	broken error // why NewDecoder failed after the frame header
}

// NewDecoder reads r from the start of a JPEG file up to its first scan.
// If r is also an io.ReaderAt, helpers (see Options) read the file through
// it at the offsets where restart intervals start.
// Errors are FormatError, UnsupportedError, LimitError, or errors of r.
// An error that comes after the frame header still returns the Decoder,
// whose Header tells the dimensions (a caller may prefer to refuse an
// image for its size); its Decode returns that error.
func NewDecoder(r io.Reader) (*Decoder, error) {
	d := &Decoder{src: newSource(r)}
	d.ra, _ = r.(io.ReaderAt)
	if err := d.readHeader(); err != nil {
		if d.frame.comps == nil {
			return nil, err
		}
		d.broken = err
		return d, err
	}
	return d, nil
}

// Header returns what the file declares before its first scan.
func (d *Decoder) Header() Header { return d.h }

// Bounds returns the bounds of the image Decode returns for o: o.Crop
// scaled by 1/o.Scale, rounded out to whole pixels and clipped to the
// scaled image, whose full bounds are (0,0)–(⌈W/s⌉,⌈H/s⌉).
func (d *Decoder) Bounds(o Options) image.Rectangle {
	p, err := d.plan(o)
	if err != nil {
		return image.Rectangle{}
	}
	return p.bounds
}

// Memory returns an upper bound of the bytes the Decoder holds once Decode
// has run for o: what NewDecoder allocated, and everything Decode
// allocates, the returned image included. It is 0 for invalid options.
func (d *Decoder) Memory(o Options) int64 {
	p, err := d.plan(o)
	if err != nil {
		return 0
	}
	return p.memory(d)
}

// Decode decodes the image as o asks. The result is an *image.Gray, an
// *image.YCbCr, an *image.RGBA (RGB files) or an *image.CMYK, with the
// bounds Bounds(o) returns. It returns ctx.Err() if ctx ends first.
func (d *Decoder) Decode(ctx context.Context, o Options) (image.Image, error) {
	if d.broken != nil {
		return nil, d.broken
	}
	if d.used {
		return nil, errors.New("jpeg: Decode called twice")
	}
	d.used = true
	p, err := d.plan(o)
	if err != nil {
		return nil, err
	}
	run := newRun(ctx, d, p)
	run.opts = o
	if err := run.scans(); err != nil {
		return nil, err
	}
	return run.image(), nil
}

// ScaleFor returns the largest denominator s (1, 2, 4 or 8) at which a
// crop of side px pixels still has at least want pixels a side.
func ScaleFor(side, want int) int {
	s := 8
	for s > 1 && side/s < want {
		s /= 2
	}
	return s
}
