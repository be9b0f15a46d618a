package jpeg

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	stdjpeg "image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portraitsvc/portrait/internal/testimage"
)

var updateFixtures = flag.Bool("update-fixtures", false, "rewrite testdata/*.jpg with cjpeg")

// ppm encodes the RGB of m as a binary PPM, cjpeg's input.
func ppm(m image.Image) []byte {
	b := m.Bounds()
	out := fmt.Appendf(nil, "P6\n%d %d\n255\n", b.Dx(), b.Dy())
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bb, _ := m.At(x, y).RGBA()
			out = append(out, uint8(r>>8), uint8(g>>8), uint8(bb>>8))
		}
	}
	return out
}

// readPPM decodes a binary PPM as djpeg writes it (P6 colour or P5 grey).
func readPPM(tb testing.TB, data []byte) *image.RGBA {
	tb.Helper()
	var kind string
	var w, h, maxv int
	n, err := fmt.Fscan(bytes.NewReader(data), &kind, &w, &h, &maxv)
	if err != nil || n != 4 {
		tb.Fatalf("bad PPM header: %v", err)
	}
	ch := 3
	if kind == "P5" {
		ch = 1
	}
	pix := data[len(data)-w*h*ch:]
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range w * h {
		p := pix[i*ch : i*ch+ch]
		m.Pix[4*i], m.Pix[4*i+1], m.Pix[4*i+2], m.Pix[4*i+3] = p[0], p[ch/2], p[ch-1], 0xff
	}
	return m
}

// cjpeg runs cjpeg with args on the PPM of a w×h photo, skipping the test
// if cjpeg is not installed.
func cjpeg(tb testing.TB, w, h int, args ...string) []byte {
	tb.Helper()
	if _, err := exec.LookPath("cjpeg"); err != nil {
		tb.Skip("cjpeg absent (apt-get install libjpeg-turbo-progs)")
	}
	cmd := exec.Command("cjpeg", args...)
	cmd.Stdin = bytes.NewReader(ppm(testimage.Photo(w, h)))
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("cjpeg %v: %v", args, err)
	}
	return out
}

// djpeg decodes data with libjpeg-turbo, with the accurate integer IDCT
// and without smoothing chroma, as this package decodes.
func djpeg(tb testing.TB, data []byte) *image.RGBA {
	tb.Helper()
	cmd := exec.Command("djpeg", "-dct", "int", "-nosmooth", "-pnm")
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("djpeg: %v", err)
	}
	return readPPM(tb, out)
}

// samplings are the -sample arguments of cjpeg covered: every standard
// ratio, factors of 3 and 4, and chroma sampled unlike each other.
var samplings = []string{"1x1", "2x1", "1x2", "2x2", "4x1", "4x2", "1x4", "2x4", "3x1", "3x2", "1x3", "4x1,2x1,2x1", "2x2,1x1,2x2",
	"2x2,2x1,2x1", "2x2,1x2,1x1", "1x1,2x2,2x2"}

// modes are cjpeg options covering the scan structures.
var modes = map[string][]string{
	"baseline":          {"-baseline"},
	"optimized":         {"-optimize"},
	"progressive":       {"-progressive"},
	"restart":           {"-restart", "1"},
	"progressiverst":    {"-progressive", "-restart", "2"},
	"progressiverstblk": {"-progressive", "-restart", "3b"},
	"grey":              {"-grayscale", "-progressive"},
	"rgb":               {"-rgb", "-restart", "5b"},
}

// TestMatchesLibjpeg decodes cjpeg's files of every sampling, scan
// structure and many sizes, and compares them with image/jpeg (Y, Cb and
// Cr within 1) where it decodes them, and with djpeg (R, G, B within
// rgbTolerance) everywhere.
func TestMatchesLibjpeg(t *testing.T) {
	for _, size := range []image.Point{{1, 1}, {7, 9}, {17, 33}, {64, 48}, {101, 67}} {
		for name, args := range modes {
			for _, s := range samplings {
				if (name == "grey" || name == "rgb") && s != "2x2" {
					continue
				}
				t.Run(fmt.Sprintf("%dx%d/%s/%s", size.X, size.Y, name, s), func(t *testing.T) {
					data := cjpeg(t, size.X, size.Y, append([]string{"-quality", "90", "-sample", s}, args...)...)
					compareDecoders(t, data)
				})
			}
		}
	}
}

// rgbTolerance is the largest difference allowed from djpeg in R, G or B.
// Both decoders use the same integer IDCT factorisation (LLM, 13-bit
// constants) but round between passes differently, which moves a sample
// by at most 1, and the two RGB conversions round differently; on these
// files the largest difference is 1.
const rgbTolerance = 1

func compareDecoders(t *testing.T, data []byte) {
	t.Helper()
	got, err := decode(t, data, Options{})
	if err != nil {
		t.Fatalf("this package: %v", err)
	}
	if want, err := stdjpeg.Decode(bytes.NewReader(data)); err == nil {
		if worst, _ := maxDiff(got, want); worst > 1 || got.Bounds() != want.Bounds() {
			t.Errorf("against image/jpeg: max diff %d, bounds %v and %v", worst, got.Bounds(), want.Bounds())
		}
	}
	ref := djpeg(t, data)
	rgb := toRGBA(got)
	if worst, mean := maxDiff(rgb, ref); worst > rgbTolerance || rgb.Bounds() != ref.Bounds() {
		t.Errorf("against djpeg: max diff %d (mean %.2f), bounds %v and %v", worst, mean, rgb.Bounds(), ref.Bounds())
	}
}

// toRGBA converts m to RGBA with the standard library's conversions.
func toRGBA(m image.Image) *image.RGBA {
	b := m.Bounds()
	out := image.NewRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			out.Set(x, y, color.RGBAModel.Convert(m.At(x, y)))
		}
	}
	return out
}

// fixtures are small files committed so that their cases run without
// cjpeg: made by go test -run TestFixtures -update-fixtures.
var fixtures = map[string][]string{
	"progressive-restart.jpg": {"-progressive", "-restart", "2"},
	"sample-3x2.jpg":          {"-sample", "3x2,1x1,1x1", "-progressive"},
	"sample-1x4.jpg":          {"-sample", "1x4", "-restart", "1"},
	"arithmetic.jpg":          {"-arithmetic"},
	"sample-4x1-restart.jpg":  {"-sample", "4x1", "-restart", "1b"},
	"grey-restart.jpg":        {"-grayscale", "-restart", "3b"},
}

// TestFixtures decodes the committed files: those image/jpeg rejects
// although they are valid are decoded, and arithmetic coding is refused
// with a message that says what to send instead.
func TestFixtures(t *testing.T) {
	for name, args := range fixtures {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", name)
			if *updateFixtures {
				if err := os.WriteFile(path, cjpeg(t, 45, 31, args...), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			m, err := decode(t, data, Options{})
			if name == "arithmetic.jpg" {
				if _, ok := err.(UnsupportedError); !ok || !strings.Contains(err.Error(), "send") {
					t.Fatalf("got %v, want an UnsupportedError saying what to send", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Bounds() != image.Rect(0, 0, 45, 31) {
				t.Errorf("bounds %v", m.Bounds())
			}
			if _, err := stdjpeg.Decode(bytes.NewReader(data)); err == nil {
				t.Logf("image/jpeg decodes it too")
			}
			if _, err := exec.LookPath("djpeg"); err == nil {
				compareDecoders(t, data)
			}
		})
	}
}

// TestFilesImageJPEGRefuses decodes valid files that image/jpeg refuses:
// progressive with restart intervals, and sampling factors of 3.
func TestFilesImageJPEGRefuses(t *testing.T) {
	for _, name := range []string{"progressive-restart.jpg", "sample-3x2.jpg"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := stdjpeg.Decode(bytes.NewReader(data)); err == nil {
			t.Errorf("%s: image/jpeg decodes it now; this test needs another file", name)
		}
		if _, err := decode(t, data, Options{}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestUnsupportedSaysWhatToSend checks the errors for valid JPEGs this
// package does not decode: each names the kind and what to send instead.
func TestUnsupportedSaysWhatToSend(t *testing.T) {
	base := benchFileT(t, 16, 16)
	sof := bytes.Index(base, []byte{0xff, 0xc0})
	for _, tc := range []struct {
		name  string
		patch func(b []byte)
		want  string
	}{
		{"12-bit", func(b []byte) { b[sof+4] = 12 }, "12-bit"},
		{"lossless", func(b []byte) { b[sof+1] = 0xc3 }, "lossless"},
		{"hierarchical", func(b []byte) { b[sof+1] = 0xc5 }, "hierarchical"},
		{"arithmetic", func(b []byte) { b[sof+1] = 0xc9 }, "arithmetic"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := bytes.Clone(base)
			tc.patch(data)
			_, err := NewDecoder(bytes.NewReader(data))
			var u UnsupportedError
			if !errors.As(err, &u) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "send") {
				t.Errorf("got %v, want an UnsupportedError about %s saying what to send", err, tc.want)
			}
		})
	}
}
