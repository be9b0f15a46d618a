// Package webp encodes WebP images without cgo: libwebp compiled to
// WebAssembly (github.com/gen2brain/webp) and run by wazero, in-process.
//
// Build every program that imports it with -tags nodynamic. Without that
// tag gen2brain/webp links purego, which makes even a CGO_ENABLED=0 binary
// dynamically linked, and at start-up it tries to dlopen a system
// libwebp.so; if one is found it encodes with that library instead of the
// WebAssembly one. New refuses to work in that case (ErrSystemLibwebp), so
// the bytes this package produces never depend on what the host has
// installed.
package webp

import (
	"context"
	"errors"
	"fmt"
	"image"
	"runtime"

	wasm "github.com/gen2brain/webp"
)

// MaxPixels bounds the images Encode accepts (1024×1024): each encode in
// flight holds its own WebAssembly memory, about 15 bytes a pixel for an
// opaque picture and 125 with an alpha channel (BENCHMARKS.md, "WebP").
const MaxPixels = 1 << 20

// ErrSystemLibwebp is returned by New when gen2brain/webp has loaded a
// system libwebp: the program was built without -tags nodynamic.
var ErrSystemLibwebp = errors.New("webp: a system libwebp was loaded; build with -tags nodynamic")

// Options are the encoding parameters.
type Options struct {
	// Quality is the lossy quality, 1 (smallest) to 100. 0 picks it by
	// the picture's size: the quality whose SSIM matched image/jpeg's at
	// quality 85 on the benchmark photographs (BENCHMARKS.md, "WebP").
	// It is ignored when Lossless is set.
	Quality int
	// Lossless selects VP8L, which keeps every pixel exactly. Without it,
	// the picture is lossy VP8 and its alpha channel, if any pixel is not
	// opaque, is kept losslessly beside it.
	Lossless bool
}

// Encoder encodes WebP images. It is safe for concurrent use; at most the
// number of encodes given to New run at once, each in its own WebAssembly
// instance of the module compiled once per process.
type Encoder struct {
	slots chan struct{}
}

// New returns an Encoder that runs at most concurrency encodes at once
// (GOMAXPROCS if concurrency < 1). The first call in a process compiles the
// WebAssembly module, about 0.33 s of CPU and 22 MB of memory
// (BENCHMARKS.md), so that no request pays for it: call it at start-up. It
// returns ErrSystemLibwebp if a system libwebp was loaded instead.
func New(concurrency int) (*Encoder, error) {
	if wasm.Dynamic() == nil {
		return nil, ErrSystemLibwebp
	}
	if concurrency < 1 {
		concurrency = runtime.GOMAXPROCS(0)
	}
	wasm.Init()
	return &Encoder{slots: make(chan struct{}, concurrency)}, nil
}

// Encode returns img as a WebP file. Opaque 4:2:0 *image.YCbCr images (as
// image/jpeg and the avatar pipeline make them) go to libwebp as planes,
// without a round trip through RGB; *image.RGBA is taken as premultiplied,
// as the image package defines it. It waits for a free slot until ctx is
// done, then runs to the end (a 512×512 encode takes tens of
// milliseconds). Images with no pixels or more than MaxPixels are refused.
func (e *Encoder) Encode(ctx context.Context, img image.Image, o Options) ([]byte, error) {
	b := img.Bounds()
	if b.Empty() || b.Dx()*b.Dy() > MaxPixels {
		return nil, fmt.Errorf("webp: cannot encode a %d×%d image (at most %d pixels)", b.Dx(), b.Dy(), MaxPixels)
	}
	select {
	case e.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-e.slots }()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return encode(img, o)
}

func encode(img image.Image, o Options) ([]byte, error) {
	b := img.Bounds()
	q, m := o.Quality, methodFor(b.Dx()*b.Dy())
	if q == 0 {
		q = qualityFor(max(b.Dx(), b.Dy()))
	}
	if q < 1 || q > 100 {
		return nil, fmt.Errorf("webp: quality %d is outside 1–100", q)
	}
	opts := wasm.Options{Quality: q, Method: m, Lossless: o.Lossless}
	if o.Lossless {
		opts.Quality, opts.Method = losslessEffort, losslessMethod
	}
	var buf sizedBuffer
	if err := wasm.Encode(&buf, libwebpInput(img, o.Lossless), opts); err != nil {
		return nil, fmt.Errorf("webp: %w", err)
	}
	return buf.b, nil
}

// qualityFor returns the lossy quality for a picture whose larger side is
// side: the median, over the benchmark photographs, of the lowest quality
// whose SSIM was at least image/jpeg's at quality 85, at the avatar size
// nearest to side.
func qualityFor(side int) int {
	switch {
	case side >= 384:
		return 85
	case side >= 192:
		return 82
	case side >= 96:
		return 78
	}
	return 75
}

// methodFor returns libwebp's speed/size trade-off (0 fastest … 6
// smallest) for a picture of that many pixels. Run as WebAssembly, method
// 4's rate-distortion mode decisions cost 3–5 times method 2's, for 10–20 %
// fewer bytes at the same SSIM: worth it up to 192×192, where an encode
// stays under 10 ms (BENCHMARKS.md, "WebP").
func methodFor(pixels int) int {
	if pixels <= 192*192 {
		return 4
	}
	return 2
}

// Lossless effort: libwebp's -z 2 preset (method 2, quality 25). On flat
// graphics (a monogram) the fastest effort, method 0, made files 7 to 14
// times larger than this, and larger than PNG; on photographs this costs
// 4–8 times method 0 for 10–15 % fewer bytes, but lossy with a lossless
// alpha channel is the better choice for them anyway (BENCHMARKS.md,
// "WebP").
const losslessMethod, losslessEffort = 2, 25

// sizedBuffer keeps the single write gen2brain/webp makes, without copying
// it again.
type sizedBuffer struct{ b []byte }

func (s *sizedBuffer) Write(p []byte) (int, error) {
	s.b = append(s.b, p...)
	return len(p), nil
}
