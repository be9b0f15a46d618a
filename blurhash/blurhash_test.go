package blurhash

import (
	"image"
	"image/color"
	"image/draw"
	_ "image/jpeg"
	"os"
	"path/filepath"
	"testing"

	lib "github.com/bbrks/go-blurhash"
	xdraw "golang.org/x/image/draw"
)

func fill(r image.Rectangle, c color.Color) *image.RGBA {
	m := image.NewRGBA(r)
	draw.Draw(m, r, image.NewUniform(c), image.Point{}, draw.Src)
	return m
}

func decode(t *testing.T, hash string, size int) *image.NRGBA {
	t.Helper()
	m, err := lib.Decode(hash, size, size, 1)
	if err != nil {
		t.Fatalf("the hash %q does not decode: %v", hash, err)
	}
	return m.(*image.NRGBA)
}

func diff(a, b color.RGBA) int {
	d := func(x, y uint8) int { return max(int(x)-int(y), int(y)-int(x)) }
	return max(d(a.R, b.R), d(a.G, b.G), d(a.B, b.B))
}

func rgba(c color.Color) color.RGBA { return color.RGBAModel.Convert(c).(color.RGBA) }

// TestSolid: a solid picture hashes to that colour and averages to it.
func TestSolid(t *testing.T) {
	for _, c := range []color.RGBA{{200, 30, 40, 255}, {0, 0, 0, 255}, {255, 255, 255, 255}, {18, 120, 200, 255}} {
		m := fill(image.Rect(0, 0, 64, 64), c)
		h, err := Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		if len(h) != 2+4+2*(Components*Components-1) {
			t.Errorf("%v: hash %q has %d characters", c, h, len(h))
		}
		if got := rgba(decode(t, h, 8).At(3, 3)); diff(got, c) > 5 {
			t.Errorf("%v: the hash decodes to %v", c, got)
		}
		if avg, err := Average(m); err != nil || diff(avg, c) > 0 {
			t.Errorf("%v: Average = %v, %v", c, avg, err)
		}
	}
	if got := Hex(color.RGBA{200, 30, 4, 255}); got != "#c81e04" {
		t.Errorf("Hex = %q", got)
	}
}

// TestQuadrants: a picture of four colours decodes to those colours in
// the right places.
func TestQuadrants(t *testing.T) {
	colours := [4]color.RGBA{{220, 40, 40, 255}, {40, 200, 60, 255}, {40, 60, 220, 255}, {240, 220, 40, 255}}
	m := image.NewRGBA(image.Rect(0, 0, 64, 64))
	for i, c := range colours {
		x, y := 32*(i%2), 32*(i/2)
		draw.Draw(m, image.Rect(x, y, x+32, y+32), image.NewUniform(c), image.Point{}, draw.Src)
	}
	h, err := Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	got := decode(t, h, 32)
	for i, want := range colours {
		p := rgba(got.At(8+16*(i%2), 8+16*(i/2)))
		for j, other := range colours {
			if j != i && diff(p, other) < diff(p, want) {
				t.Errorf("quadrant %d decodes to %v, nearer %v than its own %v", i, p, other, want)
			}
		}
	}
}

// TestPhotograph: the hash of a real photograph decodes to something
// close to the photograph's own blur, and its first term is the average.
func TestPhotograph(t *testing.T) {
	f, err := os.Open(filepath.Join("../../shared/corpus", "exif-orientation", "Landscape_0.jpg"))
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skipf("corpus absent: %v", err)
	}
	defer f.Close()
	photo, _, err := image.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	small := image.NewRGBA(image.Rect(0, 0, 64, 64))
	xdraw.CatmullRom.Scale(small, small.Rect, photo, image.Rect(300, 0, 1500, 1200), draw.Src, nil)
	h, err := Encode(small)
	if err != nil {
		t.Fatal(err)
	}
	// Compare the means of 4×4 blocks of the picture with those of the
	// decoded hash, and with a flat placeholder of the average colour: the
	// hash must carry the picture's layout, not only its colour. (Four
	// components a side cannot draw the waterfall's edge: 18 levels.)
	avg, err := Average(small)
	if err != nil {
		t.Fatal(err)
	}
	want, got := blockMeans(small), blockMeans(decode(t, h, 64))
	var hashErr, flatErr int
	for i := range want {
		hashErr, flatErr = hashErr+diff(want[i], got[i]), flatErr+diff(want[i], avg)
	}
	if hashErr > 25*len(want) || 10*hashErr > 6*flatErr {
		t.Errorf("decoded blocks differ from the picture's by %d levels on average, a flat average colour by %d", hashErr/len(want), flatErr/len(want))
	}
	one, err := lib.Encode(1, 1, small)
	if err != nil {
		t.Fatal(err)
	}
	if d := rgba(decode(t, one, 1).At(0, 0)); diff(d, avg) > 2 {
		t.Errorf("Average = %v, BlurHash's first term %v", avg, d)
	}
}

// TestTransparency: transparency is composited over white for the hash,
// and does not darken the average colour.
func TestTransparency(t *testing.T) {
	clear := image.NewRGBA(image.Rect(0, 0, 16, 16))
	h, err := Encode(clear)
	if err != nil {
		t.Fatal(err)
	}
	if got := rgba(decode(t, h, 4).At(1, 1)); diff(got, color.RGBA{255, 255, 255, 255}) > 2 {
		t.Errorf("transparent picture decodes to %v, want white", got)
	}
	if avg, _ := Average(clear); avg != (color.RGBA{255, 255, 255, 255}) {
		t.Errorf("transparent picture averages to %v, want white", avg)
	}
	half := fill(image.Rect(0, 0, 16, 16), color.NRGBA{200, 20, 20, 128})
	if avg, _ := Average(half); diff(avg, color.RGBA{200, 20, 20, 255}) > 1 {
		t.Errorf("half-transparent red averages to %v, want its colour", avg)
	}
	disc := image.NewRGBA(image.Rect(0, 0, 32, 32))
	draw.Draw(disc, image.Rect(8, 8, 24, 24), image.NewUniform(color.RGBA{0, 0, 255, 255}), image.Point{}, draw.Src)
	if avg, _ := Average(disc); diff(avg, color.RGBA{0, 0, 255, 255}) > 0 {
		t.Errorf("blue on transparent averages to %v, want blue", avg)
	}
}

func TestRefusesSizes(t *testing.T) {
	for _, r := range []image.Rectangle{image.Rect(0, 0, 0, 0), image.Rect(0, 0, MaxSide+1, 8), image.Rect(0, 0, 8, MaxSide+1)} {
		if _, err := Encode(image.NewRGBA(r)); err == nil {
			t.Errorf("Encode of %v: no error", r)
		}
		if _, err := Average(image.NewRGBA(r)); err == nil {
			t.Errorf("Average of %v: no error", r)
		}
	}
	sub := fill(image.Rect(0, 0, 300, 300), color.RGBA{1, 2, 3, 255}).SubImage(image.Rect(200, 200, 300, 300))
	if _, err := Encode(sub); err != nil {
		t.Errorf("a 100×100 sub-image: %v", err)
	}
}

// blockMeans returns the mean colours of the 16×16 blocks of a 64×64
// picture, taken in linear light as BlurHash takes them.
func blockMeans(m image.Image) []color.RGBA {
	var out []color.RGBA
	for by := 0; by < 64; by += 16 {
		for bx := 0; bx < 64; bx += 16 {
			var sum [3]float64
			for y := by; y < by+16; y++ {
				for x := bx; x < bx+16; x++ {
					c := rgba(m.At(x, y))
					sum[0], sum[1], sum[2] = sum[0]+linear[c.R], sum[1]+linear[c.G], sum[2]+linear[c.B]
				}
			}
			out = append(out, color.RGBA{toSRGB(sum[0] / 256), toSRGB(sum[1] / 256), toSRGB(sum[2] / 256), 255})
		}
	}
	return out
}
