package avatar

import (
	"context"
	"fmt"
	"image"
	"slices"

	"golang.org/x/sync/errgroup"

	"github.com/portraitsvc/portrait"
	"github.com/portraitsvc/portrait/blurhash"
	"github.com/portraitsvc/portrait/webp"
)

// Set is what one upload becomes: its avatar at every size of
// Config.Sizes, largest first, each as JPEG (PNG if it has transparent
// pixels) followed by its WebP if configured; and what a front-end shows
// while they load.
type Set struct {
	Avatars []*Avatar
	// Placeholder is the BlurHash of the picture, Color its average
	// colour as #rrggbb (package blurhash).
	Placeholder string
	Color       string
}

// MaxSize bounds Config.Sizes: the largest avatar side made.
const MaxSize = 2048

// placeholderSide is the side of the copy that the placeholder and the
// colour are computed from: BlurHash keeps 4×4 components, so more
// pixels would only cost time.
const placeholderSide = 32

// sides returns sizes sorted largest first without repeats, or
// DefaultSizes if there are none. It panics on a size outside 1–MaxSize:
// configuration is checked before it reaches here.
func sides(sizes []int) []int {
	if len(sizes) == 0 {
		return slices.Clone(DefaultSizes)
	}
	s := slices.Clone(sizes)
	for _, n := range s {
		if n < 1 || n > MaxSize {
			panic(fmt.Sprintf("avatar: size %d outside 1–%d", n, MaxSize))
		}
	}
	slices.SortFunc(s, func(a, b int) int { return b - a })
	return slices.Compact(s)
}

// cropSquare returns the square of a picture stored as w×h pixels with
// Exif orientation o that becomes the avatar, in stored pixels: the
// centred square of crop, a rectangle of the upright picture, or of the
// whole picture if crop is empty. It returns EINVALIDCROP if crop is not
// inside the upright picture.
func cropSquare(w, h, o int, crop image.Rectangle) (image.Rectangle, error) {
	upright := image.Rect(0, 0, w, h)
	if o >= 5 {
		upright = image.Rect(0, 0, h, w)
	}
	if crop.Empty() {
		crop = upright
	} else if !crop.In(upright) {
		return image.Rectangle{}, portrait.Errorf(portrait.EINVALIDCROP,
			"The crop rectangle (x %d, y %d, %d×%d) is not inside the %d×%d picture (measured upright, after its Exif orientation).",
			crop.Min.X, crop.Min.Y, crop.Dx(), crop.Dy(), upright.Dx(), upright.Dy())
	}
	return storedRect(centred(crop, min(crop.Dx(), crop.Dy())), o, w, h), nil
}

// subImage returns the part r of img, without copying, for the image
// types of the standard library (all that the decoders return).
func subImage(img image.Image, r image.Rectangle) image.Image {
	if m, ok := img.(interface {
		SubImage(image.Rectangle) image.Image
	}); ok {
		return m.SubImage(r)
	}
	return img
}

// setCost bounds the bytes that making the set allocates besides
// decoding: the sizes, their encodings, and the WebP encoder's memory,
// about 15 bytes a pixel for an opaque picture and 125 with alpha
// (package webp), which an upload of a format with transparency may need.
func (p *Processor) setCost(alpha bool) int64 {
	var cost int64
	for _, side := range p.cfg.Sizes {
		cost += resizeCost(side)
	}
	if side := p.largestWebP(); side > 0 {
		perPixel := int64(15)
		if alpha {
			perPixel = 125
		}
		cost += perPixel * int64(side) * int64(side)
	}
	return cost
}

// largestWebP returns the largest size encoded as WebP, or 0 if none is.
func (p *Processor) largestWebP() int {
	for _, side := range p.cfg.Sizes {
		if p.webpAt(side) {
			return side
		}
	}
	return 0
}

// webpAt reports whether an avatar of that side is encoded as WebP too: if
// there is an encoder, up to WebPMaxSide, and within what it encodes.
func (p *Processor) webpAt(side int) bool {
	return p.cfg.WebP != nil && (p.cfg.WebPMaxSide == 0 || side <= p.cfg.WebPMaxSide) && side*side <= webp.MaxPixels
}

// makeSet encodes top, the upright square avatar at the largest size, and
// every smaller size made from it. The encodes run at once on as many
// worker slots as no other upload holds (one at least).
func (p *Processor) makeSet(ctx context.Context, top image.Image) (*Set, error) {
	jobs := p.encodes(top)
	out := make([]*Avatar, len(jobs))
	n, release := p.helpers(len(jobs) - 1)
	defer release()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(n + 1)
	for i, job := range jobs {
		g.Go(func() (err error) {
			out[i], err = job(gctx)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	set := &Set{Avatars: out}
	return set, p.describe(top, set)
}

// encodes returns the encodings of the set, in its order: for each size,
// the JPEG or PNG and then, where webpAt says so, the WebP. The smaller
// sizes are made from top here, before any encode runs.
func (p *Processor) encodes(top image.Image) []func(context.Context) (*Avatar, error) {
	var jobs []func(context.Context) (*Avatar, error)
	side := top.Bounds().Dx()
	for _, size := range p.cfg.Sizes {
		if size >= side && size != p.cfg.Sizes[0] {
			continue // the picture is no larger than this size: the first avatar is already its own side
		}
		img := top
		if size < side {
			img = square(top, size)
		}
		jobs = append(jobs, func(context.Context) (*Avatar, error) { return encode(img, p.cfg.JPEGQuality) })
		if p.webpAt(img.Bounds().Dx()) {
			jobs = append(jobs, func(ctx context.Context) (*Avatar, error) { return p.encodeWebP(ctx, img) })
		}
	}
	return jobs
}

// encodeWebP encodes img as WebP: lossy, with its alpha channel kept
// losslessly if it has one.
func (p *Processor) encodeWebP(ctx context.Context, img image.Image) (*Avatar, error) {
	data, err := p.cfg.WebP.Encode(ctx, img, webp.Options{})
	if err != nil {
		return nil, fmt.Errorf("avatar: %w", err)
	}
	side := img.Bounds().Dx()
	return &Avatar{Data: data, ContentType: "image/webp", Ext: "webp", Width: side, Height: side}, nil
}

// describe sets the placeholder and the colour of set from top.
func (p *Processor) describe(top image.Image, set *Set) error {
	small := top
	if top.Bounds().Dx() > placeholderSide {
		small = square(top, placeholderSide)
	}
	hash, err := blurhash.Encode(small)
	if err != nil {
		return fmt.Errorf("avatar: placeholder: %w", err)
	}
	c, err := blurhash.Average(small)
	if err != nil {
		return fmt.Errorf("avatar: colour: %w", err)
	}
	set.Placeholder, set.Color = hash, blurhash.Hex(c)
	return nil
}
