//go:build linux

package blurhash

import (
	"fmt"
	"image"
	"testing"

	xdraw "golang.org/x/image/draw"

	"github.com/portraitsvc/portrait/internal/cpubench"
)

// BenchmarkEncode measures the hash and the average colour of the small
// copy the pipeline would pass, at three sizes, against a 512×512 JPEG
// encode.
func BenchmarkEncode(b *testing.B) {
	src := cpubench.PhotoLike(512)
	for _, side := range []int{32, 64, 100} {
		m := image.NewRGBA(image.Rect(0, 0, side, side))
		xdraw.ApproxBiLinear.Scale(m, m.Rect, src, src.Rect, xdraw.Src, nil)
		b.Run(fmt.Sprintf("hash/side=%d", side), func(b *testing.B) {
			cpubench.PairJPEG512(b, "hash", func() error {
				_, err := Encode(m)
				return err
			})
		})
		b.Run(fmt.Sprintf("average/side=%d", side), func(b *testing.B) {
			cpubench.PairJPEG512(b, "average", func() error {
				_, err := Average(m)
				return err
			})
		})
	}
}
