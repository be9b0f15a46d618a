package avatar

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"strings"
	"sync"
	"testing"

	xwebp "golang.org/x/image/webp"

	"github.com/portraitsvc/portrait"
	"github.com/portraitsvc/portrait/internal/testimage"
	"github.com/portraitsvc/portrait/webp"
)

var sharedWebP = sync.OnceValues(func() (*webp.Encoder, error) { return webp.New(0) })

// webpEncoder returns the process's WebP encoder, skipping the test if
// this build cannot have one (see package webp).
func webpEncoder(tb testing.TB) *webp.Encoder {
	tb.Helper()
	e, err := sharedWebP()
	if err != nil {
		tb.Skipf("no WebP encoder in this build: %v", err)
	}
	return e
}

// processSet runs p on data with o and fails the test on an error.
func processSet(tb testing.TB, p *Processor, data []byte, o Options) *Set {
	tb.Helper()
	s, err := p.Process(context.Background(), bytes.NewReader(data), o)
	if err != nil {
		tb.Fatalf("Process: %v", err)
	}
	return s
}

// decodeAny decodes an avatar of any of the three output formats and
// checks that it is the square it says it is.
func decodeAny(tb testing.TB, a *Avatar) image.Image {
	tb.Helper()
	if a.ContentType != "image/webp" {
		return checkAvatar(tb, a)
	}
	img, err := xwebp.Decode(bytes.NewReader(a.Data))
	if err != nil {
		tb.Fatalf("%s does not decode: %v", a.Name(), err)
	}
	if b := img.Bounds(); b.Dx() != a.Width || b.Dy() != a.Height || a.Width != a.Height {
		tb.Fatalf("%s is %v", a.Name(), b)
	}
	return img
}

// names lists the file names of a set, in order.
func names(s *Set) string {
	var n []string
	for _, a := range s.Avatars {
		n = append(n, a.Name())
	}
	return strings.Join(n, " ")
}

// TestSetHasEverySizeAndFormat: one upload becomes every configured size,
// largest first, each as JPEG and WebP that decode to the same picture,
// with a BlurHash placeholder and an average colour.
func TestSetHasEverySizeAndFormat(t *testing.T) {
	p := New(Config{WebP: webpEncoder(t)})
	s := processSet(t, p, encodeJPEG(t, pattern(1200, 900)), Options{})
	if got, want := names(s), "512.jpg 512.webp 256.jpg 256.webp 128.jpg 128.webp 64.jpg 64.webp"; got != want {
		t.Fatalf("set %q, want %q", got, want)
	}
	for i := 0; i < len(s.Avatars); i += 2 {
		jpg, wp := decodeAny(t, s.Avatars[i]), decodeAny(t, s.Avatars[i+1])
		if d := gridDistance(grid(jpg), grid(wp)); d > 8 {
			t.Errorf("%s and %s differ by %.1f grey levels", s.Avatars[i].Name(), s.Avatars[i+1].Name(), d)
		}
		if d := gridDistance(grid(jpg), grid(decodeAny(t, s.Avatars[0]))); d > 8 {
			t.Errorf("%s is not the picture of 512.jpg: distance %.1f", s.Avatars[i].Name(), d)
		}
	}
	if len(s.Placeholder) != 36 || len(s.Color) != 7 || s.Color[0] != '#' {
		t.Errorf("placeholder %q, colour %q; want a 36-character BlurHash and #rrggbb", s.Placeholder, s.Color)
	}
}

// TestSetSizes: WebP stops at WebPMaxSide, a picture smaller than a size
// gives one avatar at its own side instead of enlarged ones, and without
// a WebP encoder the set is JPEG only.
func TestSetSizes(t *testing.T) {
	e := webpEncoder(t)
	for _, tc := range []struct {
		cfg  Config
		w, h int
		want string
	}{
		{Config{WebP: e, WebPMaxSide: 256}, 800, 600, "512.jpg 256.jpg 256.webp 128.jpg 128.webp 64.jpg 64.webp"},
		{Config{WebP: e, WebPMaxSide: 256}, 300, 200, "200.jpg 200.webp 128.jpg 128.webp 64.jpg 64.webp"},
		{Config{WebP: e, WebPMaxSide: 256}, 256, 256, "256.jpg 256.webp 128.jpg 128.webp 64.jpg 64.webp"},
		{Config{WebP: e, WebPMaxSide: 256}, 40, 50, "40.jpg 40.webp"},
		{Config{Sizes: []int{96, 1024, 96, 40}}, 2000, 1500, "1024.jpg 96.jpg 40.jpg"},
		{Config{WebP: e, Sizes: []int{2048, 1024}}, 3000, 2500, "2048.jpg 1024.jpg 1024.webp"},
		{Config{}, 600, 600, "512.jpg 256.jpg 128.jpg 64.jpg"},
	} {
		t.Run(fmt.Sprintf("%v %dx%d", tc.cfg.Sizes, tc.w, tc.h), func(t *testing.T) {
			s := processSet(t, New(tc.cfg), encodeJPEG(t, pattern(tc.w, tc.h)), Options{})
			if got := names(s); got != tc.want {
				t.Fatalf("set %q, want %q", got, tc.want)
			}
			for _, a := range s.Avatars {
				decodeAny(t, a)
			}
		})
	}
}

// TestSetKeepsTransparency: a picture with transparent pixels is PNG and
// WebP at every size, and both keep the transparency.
func TestSetKeepsTransparency(t *testing.T) {
	img := pattern(300, 300)
	for y := range 150 {
		for x := range 300 {
			img.Pix[img.PixOffset(x, y)+3] = 0 // the top half fully transparent
		}
	}
	s := processSet(t, New(Config{WebP: webpEncoder(t), Sizes: []int{256, 64}}), encodePNG(t, img), Options{})
	if got, want := names(s), "256.png 256.webp 64.png 64.webp"; got != want {
		t.Fatalf("set %q, want %q", got, want)
	}
	for _, a := range s.Avatars {
		m := decodeAny(t, a)
		b := m.Bounds()
		if _, _, _, top := m.At(b.Dx()/2, b.Dy()/8).RGBA(); top != 0 {
			t.Errorf("%s: the transparent half has alpha %d", a.Name(), top>>8)
		}
		if _, _, _, bottom := m.At(b.Dx()/2, b.Dy()*7/8).RGBA(); bottom != 0xffff {
			t.Errorf("%s: the opaque half has alpha %d", a.Name(), bottom>>8)
		}
	}
}

// TestCropRectangle: the client's rectangle, in pixels of the upright
// picture, decides what the avatar shows, whatever the Exif orientation
// the picture is stored with, in JPEG and PNG; a non-square rectangle
// gives its centred square.
func TestCropRectangle(t *testing.T) {
	const w, h = 400, 300
	cases := []struct {
		name string
		crop image.Rectangle
		want [3]int // quadrants at the top left, top right and bottom centre (-1: any)
	}{
		{"top left", image.Rect(0, 0, 200, 150), [3]int{0, 0, 0}},
		{"bottom right", image.Rect(200, 150, 400, 300), [3]int{3, 3, 3}},
		{"across the top", image.Rect(100, 0, 300, 150), [3]int{0, 1, -1}},
		{"down the right", image.Rect(250, 50, 350, 250), [3]int{1, 1, 3}},
		{"whole (centred square)", image.Rectangle{}, [3]int{0, 1, -1}},
	}
	for _, o := range []int{1, 3, 6, 8} {
		stored := testimage.Quadrants(w, h, o)
		files := map[string][]byte{
			"jpeg": withExif(encodeJPEG(t, stored), exifTIFF(o%2 == 0, uint16(o))),
			"png":  withPNGChunk(encodePNG(t, stored), "eXIf", exifTIFF(false, uint16(o))),
		}
		for format, data := range files {
			for _, c := range cases {
				t.Run(fmt.Sprintf("%s orientation %d %s", format, o, c.name), func(t *testing.T) {
					s := processSet(t, New(Config{Sizes: []int{64}}), data, Options{Crop: c.crop})
					checkQuadrants(t, decodeAny(t, s.Avatars[0]), c.want)
				})
			}
		}
	}
}

// checkQuadrants checks that m shows the quadrants want (see
// testimage.QuadrantsShown; -1 there: any).
func checkQuadrants(t *testing.T, m image.Image, want [3]int) {
	t.Helper()
	if got := testimage.QuadrantsShown(m); !testimage.QuadrantsMatch(got, want) {
		t.Errorf("the avatar shows quadrants %v at its top left, top right and bottom; want %v", got, want)
	}
}

// TestCropOutsideRefused: a rectangle that leaves the upright picture is
// refused with invalid_crop, measured after the orientation (a 400×300
// picture stored turned is 300×400 on disk).
func TestCropOutsideRefused(t *testing.T) {
	data := withExif(encodeJPEG(t, testimage.Quadrants(400, 300, 6)), exifTIFF(true, 6))
	for _, r := range []image.Rectangle{
		image.Rect(0, 0, 401, 300), image.Rect(0, 0, 300, 400), image.Rect(-1, 0, 100, 100), image.Rect(390, 290, 410, 310),
	} {
		_, err := New(Config{}).Process(context.Background(), bytes.NewReader(data), Options{Crop: r})
		if codeOf(err) != portrait.EINVALIDCROP || !strings.Contains(err.Error(), "400×300") {
			t.Errorf("crop %v: %v, want invalid_crop naming the 400×300 picture", r, err)
		}
	}
	if _, err := New(Config{}).Process(context.Background(), bytes.NewReader(data), Options{Crop: image.Rect(0, 0, 400, 300)}); err != nil {
		t.Errorf("the whole upright picture as the crop: %v", err)
	}
}

// TestHEICNamed: an iPhone's HEIC (and an AVIF) is refused with a message
// that names it and says what to send.
func TestHEICNamed(t *testing.T) {
	for name, data := range map[string]string{
		"HEIC": "\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic",
		"AVIF": "\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf",
	} {
		_, err := process([]byte(data))
		if codeOf(err) != portrait.EUNSUPPORTEDIMAGE || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "JPEG") {
			t.Errorf("%s: %v, want unsupported_image_type naming %s and asking for a JPEG", name, err, name)
		}
	}
	if _, err := process([]byte("\x00\x00\x00\x18ftypisom\x00\x00\x00\x00isomiso2")); strings.Contains(fmt.Sprint(err), "HEI") {
		t.Errorf("an MP4 is called HEIC: %v", err)
	}
}
