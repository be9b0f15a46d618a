package jpeg

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBoxConstants(t *testing.T) {
	want2 := [4][8]int32{{boxA, b21, 0, b23, 0, b25, 0, b27}, {boxA, -b21, 0, -b23, 0, -b25, 0, -b27}}
	want4 := [4][8]int32{
		{boxA, b401, b42, b403, 0, b405, b46, b407},
		{boxA, b411, -b42, b413, 0, b415, -b46, b417},
		{boxA, -b411, -b42, -b413, 0, -b415, -b46, -b417},
		{boxA, -b401, b42, -b403, 0, -b405, b46, -b407},
	}
	if got := box(2); got != want2 {
		t.Errorf("box(2) = %v; the constants say %v", got, want2)
	}
	if got := box(4); got != want4 {
		t.Errorf("box(4) = %v; the constants say %v", got, want4)
	}
}

// decodePlanes decodes data at 1/s and returns the plane of every
// component, with the number of its samples that hold the image (the rest
// is padding to whole MCUs).
func decodePlanes(tb testing.TB, data []byte, s int) ([]plane, []image.Point) {
	tb.Helper()
	d, err := NewDecoder(bytes.NewReader(data))
	if err != nil {
		tb.Fatal(err)
	}
	p, err := d.plan(Options{Scale: s})
	if err != nil {
		tb.Fatal(err)
	}
	r := newRun(context.Background(), d, p)
	if err := r.scans(); err != nil {
		tb.Fatal(err)
	}
	var sizes []image.Point
	for _, c := range d.frame.comps {
		w := ceilDiv(d.h.Width*c.H, d.frame.hmax)
		h := ceilDiv(d.h.Height*c.V, d.frame.vmax)
		sizes = append(sizes, image.Pt(w, h))
	}
	return r.planes[:len(d.frame.comps)], sizes
}

// planePSNR compares the plane got, decoded at 1/s, with the plane full,
// decoded in full and averaged over s×s boxes, over the first size
// samples of full (those that hold the image).
func planePSNR(got, full plane, size image.Point, s int) float64 {
	var se float64
	n := 0
	for y := 0; y*s+s <= size.Y; y++ {
		for x := 0; x*s+s <= size.X; x++ {
			var sum float64
			for j := range s {
				for i := range s {
					sum += float64(full.pix[(y*s+j)*full.stride+x*s+i])
				}
			}
			d := float64(got.pix[y*got.stride+x]) - sum/float64(s*s)
			se += d * d
			n++
		}
	}
	if se == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/(se/float64(n)))
}

// TestScaledMatchesBoxDownscale decodes files at 1/2, 1/4 and 1/8 and
// compares them with the full decode averaged over 2×2, 4×4 and 8×8 boxes.
func TestScaledMatchesBoxDownscale(t *testing.T) {
	names, _ := filepath.Glob(filepath.Join(goTestdata, "*.jpeg"))
	for _, path := range names {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(path, "truncated") {
			continue
		}
		full, sizes := decodePlanes(t, data, 1)
		for _, s := range []int{2, 4, 8} {
			t.Run(fmt.Sprintf("%s/1:%d", filepath.Base(path), s), func(t *testing.T) {
				got, _ := decodePlanes(t, data, s)
				for c := range got {
					if p := planePSNR(got[c], full[c], sizes[c], s); p < 40 {
						t.Errorf("component %d: PSNR %.1f dB against the full decode box-averaged", c, p)
					} else {
						t.Logf("component %d: PSNR %.1f dB", c, p)
					}
				}
			})
		}
	}
}
