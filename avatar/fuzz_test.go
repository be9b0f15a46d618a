package avatar

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"path/filepath"
	"testing"
	"time"

	"github.com/portraitsvc/portrait"
)

// FuzzProcess checks that no input makes Process panic, and that every
// input either fails with a *portrait.Error or yields a decodable square.
func FuzzProcess(f *testing.F) {
	alpha := image.NewNRGBA(image.Rect(0, 0, 9, 7))
	for i := range alpha.Pix {
		alpha.Pix[i] = uint8(i * 13)
	}
	gray := image.NewGray16(image.Rect(0, 0, 5, 11))
	gray.Pix[3] = 0x80
	f.Add(encodePNG(f, pattern(20, 13)))
	f.Add(encodePNG(f, alpha))
	f.Add(encodePNG(f, gray))
	f.Add(encodePNG(f, image.NewPaletted(image.Rect(0, 0, 3, 3), color.Palette{color.Transparent, color.White})))
	f.Add(encodeJPEG(f, pattern(17, 9)))
	f.Add(withExif(encodeJPEG(f, pattern(8, 16)), exifTIFF(true, 6)))
	f.Add(encodeGIF(f, 6, 4, 3))
	f.Add(pngHeader(100000, 100000, 8, 6, 0))
	f.Add(riff(vp8xChunk(0x10, 10, 10)))
	if b := xImageTestdata(f, "gopher-doc.1bpp.lossless.webp"); b != nil {
		f.Add(b)
		f.Add(xImageTestdata(f, "blue-purple-pink.lossy.webp"))
	}
	if dir := filepath.Join(corpus, "pngsuite"); dirExists(dir) {
		for _, name := range []string{"basi3p02.png", "tbbn2c16.png", "exif2c08.png", "xcsn0g01.png", "s09i3p02.png"} {
			f.Add(readFile(f, filepath.Join(dir, name)))
		}
	}
	p := New(Config{Sizes: []int{64}, MaxPixels: 1 << 22, MaxSide: 4096, MaxWait: time.Minute})
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := largest(p.Process(context.Background(), bytes.NewReader(data), Options{}))
		var pe *portrait.Error
		switch {
		case err != nil && !errors.As(err, &pe):
			t.Fatalf("error is not a *portrait.Error: %v", err)
		case err != nil && !clientError(pe.Code):
			t.Fatalf("unexpected code %q", pe.Code)
		case err == nil:
			img, _, derr := image.Decode(bytes.NewReader(a.Data))
			if derr != nil {
				t.Fatalf("avatar does not decode: %v", derr)
			}
			if b := img.Bounds(); b.Dx() != b.Dy() || b.Dx() > 64 || b.Dx() != a.Width {
				t.Fatalf("avatar is %v, declared %d×%d", b, a.Width, a.Height)
			}
		}
	})
}
