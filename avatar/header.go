package avatar

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"io"

	"github.com/portraitsvc/portrait"
)

// Bounds of the container walk that precedes decoding.
const (
	maxChunks = 4096     // PNG or RIFF chunks looked at
	maxExif   = 64 << 10 // largest Exif block read into memory
	// worstBytesPerPixel is assumed when the header does not tell: 16-bit
	// RGBA, interlaced.
	worstBytesPerPixel = 12
)

// header is what an image's container says before its pixel data.
type header struct {
	exif     []byte // TIFF structure of the first Exif block; nil if none
	animated bool   // an animated WebP
	// width and height are the canvas a WebP VP8X chunk declares, which
	// x/image/webp rejects as invalid beyond 2³¹ pixels; 0 if none.
	width, height int
	bpp           float64 // decoder memory per pixel; 0 if the walk did not tell
}

// readHeader walks the container of r (PNG chunks, RIFF chunks; a JPEG's
// header is read by its decoder, see inspectJPEG) up to the pixel data,
// reading at most maxChunks headers and maxExif bytes of Exif. Damage
// that the decoder will judge anyway only
// stops the walk; it returns ECORRUPTIMAGE for a WebP whose declared sizes
// exceed the file, ctx.Err() if ctx ends, and a plain error if r fails.
func readHeader(ctx context.Context, r io.ReadSeeker, f format) (header, error) {
	size, err := r.Seek(0, io.SeekEnd)
	if err == nil {
		_, err = r.Seek(0, io.SeekStart)
	}
	if err != nil {
		return header{}, fmt.Errorf("avatar: seek upload: %w", err)
	}
	gr := &guardedReader{ctx: ctx, r: r}
	br := bufio.NewReaderSize(gr, 4096)
	var h header
	switch f {
	case formatPNG:
		err = h.walkPNG(br)
	case formatWebP:
		err = h.walkWebP(br, size)
	}
	if gr.err != nil {
		return header{}, gr.err
	}
	var pe *portrait.Error
	if errors.As(err, &pe) {
		return header{}, err
	}
	return h, nil
}

// walkPNG reads the chunks before the first IDAT, recording the first eXIf
// chunk and the decode memory implied by IHDR and tRNS.
func (h *header) walkPNG(r *bufio.Reader) error {
	if _, err := r.Discard(len(pngSignature)); err != nil {
		return err
	}
	var ihdr []byte
	trns := false
	for range maxChunks {
		var c [8]byte
		if _, err := io.ReadFull(r, c[:]); err != nil {
			return err
		}
		n := int64(binary.BigEndian.Uint32(c[:4]))
		var data []byte
		switch typ := string(c[4:]); {
		case typ == "IDAT":
			h.bpp = pngBytesPerPixel(ihdr, trns)
			return nil
		case typ == "tRNS":
			trns = true
		case typ == "IHDR" && n == 13, typ == "eXIf" && h.exif == nil && n <= maxExif:
			data = make([]byte, n)
			if _, err := io.ReadFull(r, data); err != nil {
				return err
			}
			if typ == "IHDR" {
				ihdr = data
			} else {
				h.exif = data
			}
		}
		if _, err := r.Discard(int(n - int64(len(data)) + 4)); err != nil { // rest and CRC
			return err
		}
	}
	return nil
}

// pngBytesPerPixel returns what image/png allocates per pixel for the
// image described by the 13-byte IHDR payload ihdr, or 0 if ihdr is nil.
func pngBytesPerPixel(ihdr []byte, trns bool) float64 {
	if ihdr == nil {
		return 0
	}
	depth, ctype, interlaced := ihdr[8], ihdr[9], ihdr[12] == 1
	wide := 1.0 // 16-bit samples double everything but palettes
	if depth == 16 {
		wide = 2
	}
	var bpp float64
	switch {
	case ctype == 3:
		bpp = 1
	case ctype == 0 && !trns:
		bpp = wide
	default: // colour, alpha, or grey made transparent by tRNS
		bpp = 4 * wide
	}
	if interlaced { // the full image plus the largest Adam7 pass
		bpp *= 1.5
	}
	return bpp
}

// walkWebP reads the RIFF chunks, recording VP8X flags, the first EXIF
// chunk and the kind of bitstream. size is the length of the file; a RIFF
// or chunk size beyond it is ECORRUPTIMAGE, as x/image/webp would otherwise
// allocate what the sizes claim before finding the data short.
func (h *header) walkWebP(r *bufio.Reader, size int64) error {
	var c [12]byte
	if _, err := io.ReadFull(r, c[:]); err != nil {
		return err
	}
	left := int64(binary.LittleEndian.Uint32(c[4:8])) - 4
	if left+12 > size {
		return errCorrupt()
	}
	var k webpKinds
	defer func() { h.bpp = k.bytesPerPixel() }()
	for i := 0; left >= 8 && i < maxChunks; i++ {
		if _, err := io.ReadFull(r, c[:8]); err != nil {
			return err
		}
		n := int64(binary.LittleEndian.Uint32(c[4:8]))
		if left -= 8; n > left {
			return errCorrupt()
		}
		got, err := h.webpChunk(r, string(c[:4]), n, &k)
		if err != nil {
			return err
		}
		padded := n + n&1
		if _, err := r.Discard(int(min(padded, left) - got)); err != nil {
			return err
		}
		left -= padded
	}
	return nil
}

// webpKinds records which bitstreams a WebP file holds.
type webpKinds struct{ lossy, lossless, alpha bool }

// bytesPerPixel returns what x/image/webp allocates per pixel: lossless
// images are decoded into NRGBA plus a transform buffer, lossy ones into
// YCbCr 4:2:0, with an alpha plane that may itself be decoded as lossless.
func (k webpKinds) bytesPerPixel() float64 {
	switch {
	case k.lossless:
		return 8
	case k.lossy && !k.alpha:
		return 1.5
	case k.lossy:
		return 1.5 + 1 + 8
	}
	return 0
}

// webpChunk reads what matters from the payload of an n-byte chunk and
// returns how many of its bytes it consumed.
func (h *header) webpChunk(r *bufio.Reader, id string, n int64, k *webpKinds) (int64, error) {
	switch id {
	case "VP8 ":
		k.lossy = true
	case "VP8L":
		k.lossless = true
	case "ALPH":
		k.alpha = true
	case "VP8X":
		if n >= 10 {
			var x [10]byte
			_, err := io.ReadFull(r, x[:])
			h.animated = x[0]&0x02 != 0
			h.width = 1 + (int(x[4]) | int(x[5])<<8 | int(x[6])<<16)
			h.height = 1 + (int(x[7]) | int(x[8])<<8 | int(x[9])<<16)
			return 10, err
		}
	case "EXIF":
		if h.exif == nil && n <= maxExif {
			data := make([]byte, n)
			_, err := io.ReadFull(r, data)
			h.exif, _ = bytes.CutPrefix(data, []byte("Exif\x00\x00"))
			return n, err
		}
	}
	return 0, nil
}

// decodeCost estimates the bytes a decoder allocates for a PNG, GIF or
// WebP image of format f with configuration cfg and header h.
func decodeCost(f format, cfg image.Config, h header) int64 {
	bpp := h.bpp
	switch {
	case f == formatGIF:
		bpp = 1 // only the first frame, paletted, within the logical screen
	case bpp == 0:
		bpp = worstBytesPerPixel
	}
	px := float64(cfg.Width+32) * float64(cfg.Height+32)
	return int64(bpp*px) + 256<<10 // plus tables, rows and read buffers
}
