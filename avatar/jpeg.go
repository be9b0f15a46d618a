package avatar

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"runtime"

	"github.com/portraitsvc/portrait"
	"github.com/portraitsvc/portrait/jpeg"
)

// jpegUpload is what inspect keeps of a JPEG for decoding: the decoder
// that parsed its header, positioned at its first scan, and what to ask
// of it. Admission and decoding read the same parsed frame.
type jpegUpload struct {
	dec    *jpeg.Decoder
	reader *guardedReader
	opts   jpeg.Options
}

// inspectJPEG reads the markers of a JPEG up to its first scan, checks its
// dimensions, and plans a decode of the square to keep (see Options.Crop)
// at the smallest scale that still covers the largest avatar.
func (p *Processor) inspectJPEG(ctx context.Context, r io.ReadSeeker, crop image.Rectangle) (*upload, error) {
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("avatar: seek upload: %w", err)
	}
	gr := &guardedReader{ctx: ctx, r: r}
	var src io.Reader = gr
	if ra, ok := r.(io.ReaderAt); ok {
		src = guardedReaderAt{gr, ra}
	}
	dec, err := jpeg.NewDecoder(src)
	if dec != nil && gr.err == nil { // the frame was read: its size first
		if err := p.checkDims(dec.Header().Width, dec.Header().Height); err != nil {
			return nil, err
		}
	}
	if err != nil {
		return nil, jpegError(gr, err)
	}
	h := dec.Header()
	up := &upload{format: formatJPEG, config: image.Config{Width: h.Width, Height: h.Height},
		orientation: orientation(h.Exif)}
	if up.square, err = cropSquare(h.Width, h.Height, up.orientation, crop); err != nil {
		return nil, err
	}
	up.jpeg = &jpegUpload{dec: dec, reader: gr, opts: p.jpegOptions(up.square)}
	up.cost = dec.Memory(up.jpeg.opts) + p.setCost(false)
	return up, nil
}

// jpegOptions asks for the square sq of the stored pixels at the smallest
// scale at which it still covers the largest avatar.
func (p *Processor) jpegOptions(sq image.Rectangle) jpeg.Options {
	side := sq.Dx()
	return jpeg.Options{Scale: jpeg.ScaleFor(side, min(side, p.cfg.Sizes[0])), Crop: sq, Helpers: p.helpers}
}

// storedRect maps the rectangle r of the upright picture to the stored
// pixels of a w×h image with Exif orientation o.
func storedRect(r image.Rectangle, o, w, h int) image.Rectangle {
	x0, y0 := sourceOf(o, r.Min.X, r.Min.Y, w, h)
	x1, y1 := sourceOf(o, r.Max.X-1, r.Max.Y-1, w, h)
	return image.Rect(min(x0, x1), min(y0, y1), max(x0, x1)+1, max(y0, y1)+1)
}

// helpers grants up to n extra decoding goroutines from the worker slots
// that no other upload holds, without waiting.
func (p *Processor) helpers(n int) (int, func()) {
	n = min(n, runtime.GOMAXPROCS(0)-1)
	got := 0
	for got < n && p.workers.TryAcquire(1) {
		got++
	}
	return got, func() { p.workers.Release(int64(got)) }
}

// decodeJPEG decodes the JPEG that inspectJPEG planned.
func decodeJPEG(ctx context.Context, j *jpegUpload) (img image.Image, err error) {
	defer func() {
		if v := recover(); v != nil {
			img, err = nil, errCorrupt()
		}
	}()
	img, err = j.dec.Decode(ctx, j.opts)
	if err != nil {
		return nil, jpegError(j.reader, err)
	}
	return img, nil
}

// jpegError maps an error of the jpeg package: why reading stopped if it
// was not the data, ctx's error as it is, and the package's own errors to
// 400-class codes that say what to send instead.
func jpegError(gr *guardedReader, err error) error {
	var unsupported jpeg.UnsupportedError
	var limit jpeg.LimitError
	var read readError
	switch {
	case gr.err != nil:
		return gr.err
	case errors.As(err, &read), errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.As(err, &unsupported):
		return portrait.Errorf(portrait.EUNSUPPORTEDIMAGE, "This JPEG is not supported: %s.", string(unsupported))
	case errors.As(err, &limit):
		return portrait.Errorf(portrait.EUNSUPPORTEDIMAGE, "This JPEG takes too much work to decode: %s.", string(limit))
	}
	return errCorrupt()
}

// guardedReaderAt is a guardedReader that also reads at offsets, for the
// goroutines that decode restart intervals. It records nothing: its
// errors reach the decoder's caller through the decoder.
type guardedReaderAt struct {
	*guardedReader
	ra io.ReaderAt
}

func (g guardedReaderAt) ReadAt(b []byte, off int64) (int, error) {
	if err := g.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := g.ra.ReadAt(b, off)
	if err != nil && err != io.EOF {
		err = readError{err}
	}
	return n, err
}

// readError is a failure to read the upload itself (not its data).
type readError struct{ err error }

func (e readError) Error() string { return "avatar: read upload: " + e.err.Error() }
func (e readError) Unwrap() error { return e.err }
