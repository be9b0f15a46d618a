package blurhash

import (
	"fmt"
	"image"
	"image/color"
	"testing"
)

// BenchmarkEncode measures the hash and the average colour of the small
// copy the pipeline would pass, at three sizes.
func BenchmarkEncode(b *testing.B) {
	for _, side := range []int{32, 64, 100} {
		m := image.NewRGBA(image.Rect(0, 0, side, side))
		for i := range m.Pix {
			m.Pix[i] = uint8(i * 7)
		}
		b.Run(fmt.Sprintf("side=%d", side), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Encode(m); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("average/side=%d", side), func(b *testing.B) {
			b.ReportAllocs()
			var c color.RGBA
			for b.Loop() {
				c, _ = Average(m)
			}
			_ = c
		})
	}
}
