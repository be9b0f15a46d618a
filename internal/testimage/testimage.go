// Package testimage makes the synthetic pictures that tests and
// benchmarks encode and decode.
package testimage

import (
	"image"
	"math"
)

// Photo returns a w×h photograph-like YCbCr 4:2:0 image: gradients, waves
// and fine texture, so that JPEG has detail to encode.
func Photo(w, h int) *image.YCbCr {
	m := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	for y := range h {
		for x := range w {
			v := 110 + 50*math.Sin(float64(x)/37) + 40*math.Cos(float64(y)/23) + float64((x*y)%23)
			m.Y[y*m.YStride+x] = uint8(v)
		}
	}
	for y := range (h + 1) / 2 {
		for x := range (w + 1) / 2 {
			m.Cb[y*m.CStride+x] = uint8(x * 510 / w)
			m.Cr[y*m.CStride+x] = uint8(y * 510 / h)
		}
	}
	return m
}
