// Package avatar turns an untrusted uploaded file into a set of safe square
// avatars, one per configured size and format.
//
// The type is decided from the file's bytes, the dimensions are read from
// the header and bounded before anything large is allocated, decoding is
// admitted against a shared memory budget (a JPEG is decoded by package
// jpeg from the very header admission read, only the square to keep, at
// the smallest scale that covers the largest avatar), the square (the
// client's crop rectangle reduced to its centred square, or the centred
// square of the picture) is shrunk, then turned upright by its Exif
// orientation (the eight orientations commute with cropping a square and
// scaling, and turning the small result is cheap); every smaller size is
// made from that one result, and each is re-encoded from its pixels alone,
// which drops all metadata and any trailing payload.
package avatar

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/png"
	"io"
	"math"
	"runtime"
	"time"

	xwebp "golang.org/x/image/webp"
	"golang.org/x/sync/semaphore"

	"github.com/portraitsvc/portrait"
	"github.com/portraitsvc/portrait/webp"
)

// Defaults of Config.
const (
	DefaultMaxPixels    = 64_000_000
	DefaultMaxSide      = 16384
	DefaultMemoryBudget = 256 << 20
	DefaultMaxWait      = 10 * time.Second
	DefaultDecodeTime   = 5 * time.Second
	DefaultJPEGQuality  = 85
)

// DefaultSizes are the sides of the avatars of an upload by default.
var DefaultSizes = []int{512, 256, 128, 64}

// Config tunes a Processor. Zero fields take the defaults above.
type Config struct {
	// Sizes are the sides in pixels of the avatars made of each upload,
	// each 1 to 2048 (New panics otherwise). A picture smaller than a
	// size is not enlarged: that avatar keeps the picture's own side.
	Sizes []int
	// WebP, if set, encodes a WebP beside the JPEG or PNG of each size
	// up to WebPMaxSide (every size if WebPMaxSide is 0) and up to 1024
	// (webp.MaxPixels).
	WebP        *webp.Encoder
	WebPMaxSide int
	// MaxPixels and MaxSide bound the declared dimensions of an upload;
	// larger ones are refused with EIMAGETOOLARGE before decoding.
	MaxPixels int64
	MaxSide   int
	// MemoryBudget is how many bytes of decode memory may be in use at once
	// across all calls of Process. An image whose estimate alone exceeds it
	// is refused with EIMAGETOOLARGE.
	MemoryBudget int64
	// Workers is the number of decodes that may run at once; the default is
	// runtime.GOMAXPROCS(0).
	Workers int
	// MaxWait is how long Process waits for memory and a worker before it
	// gives up with EOVERLOADED.
	MaxWait time.Duration
	// DecodeTime bounds the time one image may take to decode once
	// admitted; beyond it Process gives up with EDECODETIMEOUT.
	DecodeTime time.Duration
	// JPEGQuality is the quality (1–100) of opaque avatars.
	JPEGQuality int
}

// withDefaults returns c with every zero or negative field set to its default.
func (c Config) withDefaults() Config {
	c.Sizes = sides(c.Sizes)
	if c.MaxPixels <= 0 {
		c.MaxPixels = DefaultMaxPixels
	}
	if c.MaxSide <= 0 {
		c.MaxSide = DefaultMaxSide
	}
	if c.MemoryBudget <= 0 {
		c.MemoryBudget = DefaultMemoryBudget
	}
	if c.Workers <= 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if c.MaxWait <= 0 {
		c.MaxWait = DefaultMaxWait
	}
	if c.DecodeTime <= 0 {
		c.DecodeTime = DefaultDecodeTime
	}
	if c.JPEGQuality <= 0 || c.JPEGQuality > 100 {
		c.JPEGQuality = DefaultJPEGQuality
	}
	return c
}

// Avatar is one processed image: square, without metadata.
type Avatar struct {
	Data        []byte
	ContentType string // "image/jpeg", "image/png" or "image/webp"
	Ext         string // "jpg", "png" or "webp"
	Width       int
	Height      int
}

// Name is the avatar's file name in its set: "<side>.<ext>".
func (a *Avatar) Name() string { return fmt.Sprintf("%d.%s", a.Width, a.Ext) }

// Options are what one upload asks for.
type Options struct {
	// Crop is a rectangle of the upright picture (after its Exif
	// orientation), in pixels, whose centred square becomes the avatar.
	// The empty rectangle means the centred square of the whole picture.
	// A rectangle not inside the picture is refused with EINVALIDCROP.
	Crop image.Rectangle
}

// Processor makes avatars. It is safe for concurrent use; all calls share
// its memory budget and worker slots.
type Processor struct {
	cfg     Config
	memory  *semaphore.Weighted
	workers *semaphore.Weighted
	// admitted, if set, is called after a call has been admitted and before
	// it decodes; tests use it to hold capacity deterministically.
	admitted func()
}

// New returns a Processor for cfg (zero fields take defaults).
func New(cfg Config) *Processor {
	cfg = cfg.withDefaults()
	return &Processor{
		cfg:     cfg,
		memory:  semaphore.NewWeighted(cfg.MemoryBudget),
		workers: semaphore.NewWeighted(int64(cfg.Workers)),
	}
}

// upload is what Process knows about a file before decoding it.
type upload struct {
	format      format
	config      image.Config
	orientation int
	square      image.Rectangle // of the stored pixels: what becomes the avatar
	cost        int64           // bytes of memory reserved for decoding and resizing
	jpeg        *jpegUpload     // JPEG only: the decoder that read the header
}

// Process reads an uploaded file from its start and returns its set of
// avatars. Errors are *portrait.Error with code EEMPTYFILE,
// EUNSUPPORTEDIMAGE, ECORRUPTIMAGE, EIMAGETOOLARGE, EINVALIDCROP,
// EDECODETIMEOUT or EOVERLOADED (RetryAfter set); ctx.Err() if ctx ends
// first; or a plain error if r fails to read or seek.
func (p *Processor) Process(ctx context.Context, r io.ReadSeeker, o Options) (*Set, error) {
	up, err := p.inspect(ctx, r, o.Crop)
	if err != nil {
		return nil, err
	}
	release, err := p.admit(ctx, up.cost)
	if err != nil {
		return nil, err
	}
	defer release()
	if p.admitted != nil {
		p.admitted()
	}
	img, err := p.decodeInTime(ctx, r, up)
	if err != nil {
		return nil, err
	}
	return p.makeSet(ctx, orient(square(img, p.cfg.Sizes[0]), up.orientation))
}

// errDecodeTime is the cause of the context of a decode that ran out of
// Config.DecodeTime.
var errDecodeTime = errors.New("avatar: decode deadline")

// decodeInTime decodes the admitted upload within Config.DecodeTime,
// returning EDECODETIMEOUT if that runs out first.
func (p *Processor) decodeInTime(ctx context.Context, r io.ReadSeeker, up *upload) (image.Image, error) {
	dctx, cancel := context.WithTimeoutCause(ctx, p.cfg.DecodeTime, errDecodeTime)
	defer cancel()
	var img image.Image
	var err error
	if up.jpeg != nil {
		img, err = decodeJPEG(dctx, up.jpeg)
	} else {
		img, err = decode(dctx, r, up)
	}
	if err != nil && ctx.Err() == nil && context.Cause(dctx) == errDecodeTime {
		return nil, portrait.Errorf(portrait.EDECODETIMEOUT,
			"The image took longer than %v to decode; save it again as a baseline JPEG or a PNG.", p.cfg.DecodeTime)
	}
	return img, err
}

// inspect identifies the format of r, reads its header and dimensions,
// checks them against the limits and places the square to keep (see
// Options.Crop), all without decoding pixels.
func (p *Processor) inspect(ctx context.Context, r io.ReadSeeker, crop image.Rectangle) (*upload, error) {
	f, err := sniff(r)
	if err != nil {
		return nil, err
	}
	up, err := p.inspectFormat(ctx, r, f, crop)
	if err != nil {
		return nil, err
	}
	if up.cost > p.cfg.MemoryBudget {
		return nil, portrait.Errorf(portrait.EIMAGETOOLARGE,
			"The image is %d×%d pixels, too large to process in this format.", up.config.Width, up.config.Height)
	}
	return up, nil
}

// inspectFormat reads the header of an image of format f and estimates
// the memory decoding it takes.
func (p *Processor) inspectFormat(ctx context.Context, r io.ReadSeeker, f format, crop image.Rectangle) (*upload, error) {
	if f == formatJPEG {
		return p.inspectJPEG(ctx, r, crop)
	}
	h, err := readHeader(ctx, r, f)
	if err != nil {
		return nil, err
	}
	if h.animated {
		return nil, portrait.Errorf(portrait.EUNSUPPORTEDIMAGE, "Animated WebP images are not supported.")
	}
	if h.width > 0 {
		if err := p.checkDims(h.width, h.height); err != nil {
			return nil, err
		}
	}
	cfg, err := decodeConfig(ctx, r, f)
	if err != nil {
		return nil, err
	}
	if err := p.checkDims(cfg.Width, cfg.Height); err != nil {
		return nil, err
	}
	up := &upload{format: f, config: cfg, orientation: orientation(h.exif)}
	if up.square, err = cropSquare(cfg.Width, cfg.Height, up.orientation, crop); err != nil {
		return nil, err
	}
	up.cost = decodeCost(f, cfg, h) + p.setCost(true)
	return up, nil
}

// checkDims returns EIMAGETOOLARGE if a w×h image exceeds MaxSide or
// MaxPixels, and ECORRUPTIMAGE if it has no pixels.
func (p *Processor) checkDims(w, h int) error {
	if w <= 0 || h <= 0 {
		return errCorrupt()
	}
	if w > p.cfg.MaxSide || h > p.cfg.MaxSide || int64(w)*int64(h) > p.cfg.MaxPixels {
		return portrait.Errorf(portrait.EIMAGETOOLARGE,
			"The image is %d×%d pixels; at most %d pixels and %d on a side are accepted.",
			w, h, p.cfg.MaxPixels, p.cfg.MaxSide)
	}
	return nil
}

// admit waits at most MaxWait for a worker slot and cost bytes of the
// memory budget. It returns the function that gives them back, or
// ctx.Err() if ctx ended, or EOVERLOADED.
func (p *Processor) admit(ctx context.Context, cost int64) (release func(), err error) {
	wait, cancel := context.WithTimeout(ctx, p.cfg.MaxWait)
	defer cancel()
	if err := p.workers.Acquire(wait, 1); err != nil {
		return nil, p.busy(ctx)
	}
	if err := p.memory.Acquire(wait, cost); err != nil {
		p.workers.Release(1)
		return nil, p.busy(ctx)
	}
	return func() {
		p.memory.Release(cost)
		p.workers.Release(1)
	}, nil
}

// busy returns ctx's error if it has one, and EOVERLOADED otherwise.
func (p *Processor) busy(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return &portrait.Error{
		Code:       portrait.EOVERLOADED,
		Message:    "The server is busy processing other images. Please try again shortly.",
		RetryAfter: max(1, int(math.Ceil(p.cfg.MaxWait.Seconds()))),
	}
}

// decodeConfig reads the dimensions and colour model of r without decoding
// its pixels.
func decodeConfig(ctx context.Context, r io.ReadSeeker, f format) (cfg image.Config, err error) {
	err = guarded(ctx, r, func(br io.Reader) (err error) {
		cfg, err = f.decodeConfig(br)
		return err
	})
	return cfg, err
}

// decode decodes the image of r, which inspect described as up. The image
// never extends beyond the dimensions up declared.
func decode(ctx context.Context, r io.ReadSeeker, up *upload) (img image.Image, err error) {
	err = guarded(ctx, r, func(br io.Reader) (err error) {
		img, err = up.format.decode(br)
		return err
	})
	if err != nil {
		return nil, err
	}
	b := img.Bounds()
	if b.Empty() || b.Dx() > up.config.Width || b.Dy() > up.config.Height || !up.square.Add(b.Min).In(b) {
		return nil, errCorrupt()
	}
	return subImage(img, up.square.Add(b.Min)), nil
}

// guarded runs fn on the contents of r from its start. It turns a panic of
// fn into ECORRUPTIMAGE, stops reading once ctx ends (returning ctx.Err()),
// returns read errors of r as they are, and maps other errors of fn with
// decodeError.
func guarded(ctx context.Context, r io.ReadSeeker, fn func(io.Reader) error) (err error) {
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("avatar: seek upload: %w", err)
	}
	gr := &guardedReader{ctx: ctx, r: r}
	defer func() {
		if v := recover(); v != nil {
			err = errCorrupt()
		}
	}()
	if err := fn(bufio.NewReaderSize(gr, 64<<10)); err != nil {
		if gr.err != nil {
			return gr.err
		}
		return decodeError(err)
	}
	return nil
}

// guardedReader reads from r until ctx ends, and records in err why reading
// stopped when the reason is not the data: ctx's error or a read error of r.
type guardedReader struct {
	ctx context.Context
	r   io.Reader
	err error
}

func (g *guardedReader) Read(b []byte) (int, error) {
	if err := g.ctx.Err(); err != nil {
		g.err = err
		return 0, err
	}
	n, err := g.r.Read(b)
	if err != nil && err != io.EOF {
		g.err = fmt.Errorf("avatar: read upload: %w", err)
	}
	return n, err
}

// decodeError maps an error of a PNG, GIF or WebP decoder to ECORRUPTIMAGE:
// they reject only data that breaks their format's rules.
func decodeError(err error) error {
	var pe *portrait.Error
	if errors.As(err, &pe) {
		return err
	}
	return errCorrupt()
}

// errCorrupt is the error for data that breaks its image format's rules.
func errCorrupt() error {
	return portrait.Errorf(portrait.ECORRUPTIMAGE, "The image is corrupt or truncated.")
}

// decode decodes a whole PNG, GIF (only its first frame) or WebP image.
func (f format) decode(r io.Reader) (image.Image, error) {
	switch f {
	case formatPNG:
		return png.Decode(r)
	case formatGIF:
		return gif.Decode(r)
	case formatWebP:
		return xwebp.Decode(r)
	}
	return nil, errUnsupported()
}

// decodeConfig reads the dimensions and colour model of a PNG, GIF or WebP
// image.
func (f format) decodeConfig(r io.Reader) (image.Config, error) {
	switch f {
	case formatPNG:
		return png.DecodeConfig(r)
	case formatGIF:
		return gif.DecodeConfig(r)
	case formatWebP:
		return xwebp.DecodeConfig(r)
	}
	return image.Config{}, errUnsupported()
}
