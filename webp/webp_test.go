package webp

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"sync"
	"testing"
	"time"

	xwebp "golang.org/x/image/webp"
)

// solid returns a w×h image of c in each layout Encode takes.
func solid(w, h int, c color.NRGBA) map[string]image.Image {
	r := image.Rect(0, 0, w, h)
	rgba, nrgba := image.NewRGBA(r), image.NewNRGBA(r)
	draw.Draw(rgba, r, image.NewUniform(c), image.Point{}, draw.Src)
	draw.Draw(nrgba, r, image.NewUniform(c), image.Point{}, draw.Src)
	return map[string]image.Image{"RGBA": rgba, "NRGBA": nrgba, "YCbCr": toYCbCr(rgba)}
}

// TestEncodeKeepsColours encodes solid colours from every layout and
// checks what a browser would show: the image package's full-range YCbCr
// must be mapped to VP8's video range, premultiplied RGBA unpremultiplied.
func TestEncodeKeepsColours(t *testing.T) {
	colours := []color.NRGBA{{200, 50, 50, 255}, {20, 200, 90, 255}, {10, 10, 10, 255}, {250, 250, 245, 255}, {200, 50, 50, 128}}
	for _, c := range colours {
		for name, m := range solid(48, 32, c) {
			if c.A != 0xff && name == "YCbCr" {
				continue
			}
			for _, lossless := range []bool{false, true} {
				got := decodeWebP(t, mustEncode(t, m, Options{Lossless: lossless}))
				if got.Rect.Dx() != 48 || got.Rect.Dy() != 32 {
					t.Fatalf("%v %s: decoded %v, want 48×32", c, name, got.Rect)
				}
				p := got.NRGBAAt(24, 16)
				if d := maxChannelDiff(p, c); d > 3 {
					t.Errorf("%v from %s (lossless %v): decoded %v, %d off", c, name, lossless, p, d)
				}
			}
		}
	}
}

func maxChannelDiff(a, b color.NRGBA) int {
	return max(absInt(int(a.R)-int(b.R)), absInt(int(a.G)-int(b.G)), absInt(int(a.B)-int(b.B)), absInt(int(a.A)-int(b.A)))
}

// TestEncodePhotograph checks dimensions and closeness on a real picture
// at every avatar size, from the pipeline's two layouts, and on
// sub-images whose pixels do not start at the origin.
func TestEncodePhotograph(t *testing.T) {
	photo := photographs(t)["Landscape_0.jpg"]
	big := squareRGBA(photo, 300)
	for _, size := range append(sizes, 200) {
		rgba := squareRGBA(photo, size)
		inputs := map[string]image.Image{"YCbCr": toYCbCr(rgba), "RGBA": rgba}
		if size == 200 { // sub-images: pixels that do not start at the origin
			r := image.Rect(38, 52, 238, 252)
			inputs = map[string]image.Image{"YCbCr": toYCbCr(big).SubImage(r), "RGBA": big.SubImage(r)}
		}
		for name, m := range inputs {
			want := toNRGBA(m)
			want.Rect = want.Rect.Sub(want.Rect.Min) // the encoding starts at the origin
			got := decodeWebP(t, mustEncode(t, m, Options{}))
			if got.Rect != want.Rect {
				t.Fatalf("%d %s: decoded %v, want %v", size, name, got.Rect, want.Rect)
			}
			// As close as the pipeline's JPEG, give or take a quarter.
			jpg, err := jpeg.Decode(bytes.NewReader(jpegBytes(t, m, jpegQuality)))
			if err != nil {
				t.Fatal(err)
			}
			d, _ := meanAbsDiff(want, got, 0)
			ref, _ := meanAbsDiff(want, toNRGBA(jpg), 0)
			t.Logf("%d %s: mean difference %.2f levels, JPEG q85's %.2f", size, name, d, ref)
			if d > 1.25*ref {
				t.Errorf("%d %s: mean difference %.2f levels, JPEG q85's %.2f", size, name, d, ref)
			}
		}
	}
	sub := big.SubImage(image.Rect(37, 51, 237, 251)).(*image.RGBA)
	got, want := decodeWebP(t, mustEncode(t, sub, Options{Lossless: true})), toNRGBA(sub)
	if got.Rect.Dx() != 200 || got.Rect.Dy() != 200 || !bytes.Equal(got.Pix, want.Pix) {
		t.Errorf("lossless sub-image: decoded %v, want the 200×200 pixels exactly", got.Rect)
	}
}

// TestEncodeTransparency checks that alpha survives lossy encoding exactly
// and that the colour of the visible pixels stays close.
func TestEncodeTransparency(t *testing.T) {
	for _, size := range []int{256, 64} {
		src := disc(squareRGBA(photographs(t)["Portrait_0.jpg"], size))
		for _, lossless := range []bool{false, true} {
			b := mustEncode(t, src, Options{Lossless: lossless})
			got, want := decodeWebP(t, b), toNRGBA(src)
			d, alpha := meanAbsDiff(want, got, 0xff)
			if alpha != 0 {
				t.Errorf("%d lossless=%v: alpha off by up to %d, want exact", size, lossless, alpha)
			}
			if lossless && d != 0 || d > 5 {
				t.Errorf("%d lossless=%v: opaque pixels off by %.2f levels on average", size, lossless, d)
			}
		}
	}
}

// TestEncodeOpaqueHasNoAlpha: an opaque picture is plain VP8, which every
// WebP decoder reads, with no alpha chunk.
func TestEncodeOpaqueHasNoAlpha(t *testing.T) {
	for name, m := range solid(16, 16, color.NRGBA{90, 120, 150, 255}) {
		b := mustEncode(t, m, Options{})
		cfg, err := xwebp.DecodeConfig(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if string(b[12:16]) != "VP8 " || cfg.ColorModel != color.YCbCrModel {
			t.Errorf("%s: first chunk %q, colour model %T: want a plain VP8 picture", name, b[12:16], cfg.ColorModel)
		}
	}
}

// TestEncodeConcurrently runs more encodes than slots from many
// goroutines (run with -race): each result must equal the serial one.
func TestEncodeConcurrently(t *testing.T) {
	e, err := New(2)
	if err != nil {
		t.Fatal(err)
	}
	src := squareYCbCr(photographs(t)["Portrait_0.jpg"], 128)
	want := mustEncode(t, src, Options{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			got, err := e.Encode(context.Background(), src, Options{})
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("concurrent encode: %d bytes, %v; want the %d bytes of a serial one", len(got), err, len(want))
			}
		})
	}
	wg.Wait()
}

// TestEncodeWaitsOnlyAsLongAsTheContext: with every slot taken, Encode
// gives up when its context is done, and does not start when it already
// is.
func TestEncodeWaitsOnlyAsLongAsTheContext(t *testing.T) {
	e, err := New(1)
	if err != nil {
		t.Fatal(err)
	}
	src := image.NewRGBA(image.Rect(0, 0, 8, 8))
	e.slots <- struct{}{}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := e.Encode(ctx, src, Options{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("all slots busy: got %v, want context.DeadlineExceeded", err)
	}
	<-e.slots
	done, stop := context.WithCancel(context.Background())
	stop()
	if _, err := e.Encode(done, src, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: got %v, want context.Canceled", err)
	}
	if _, err := e.Encode(context.Background(), src, Options{}); err != nil {
		t.Errorf("after the slot is free: %v", err)
	}
}

func TestEncodeRefusesBadInput(t *testing.T) {
	e, err := New(1)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		img image.Image
		o   Options
	}{
		"empty":                  {image.NewRGBA(image.Rect(0, 0, 0, 10)), Options{}},
		"too large":              {image.NewGray(image.Rect(0, 0, 2049, 2048)), Options{}},
		"quality 101":            {image.NewGray(image.Rect(0, 0, 8, 8)), Options{Quality: 101}},
		"quality -1":             {image.NewGray(image.Rect(0, 0, 8, 8)), Options{Quality: -1}},
		"wider than WebP allows": {image.NewGray(image.Rect(0, 0, 16384, 1)), Options{Lossless: true}},
	}
	for name, c := range cases {
		if b, err := e.Encode(context.Background(), c.img, c.o); err == nil {
			t.Errorf("%s: got %d bytes, want an error", name, len(b))
		}
	}
	if _, err := e.Encode(context.Background(), image.NewGray(image.Rect(0, 0, 1024, 1024)), Options{Quality: 10}); err != nil {
		t.Errorf("1024×1024, exactly MaxPixels: %v", err)
	}
}
