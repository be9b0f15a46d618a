package monogram

import (
	"crypto/sha256"
	"encoding/binary"
	"image/color"
	"math"
)

// Background returns the colour of a user's picture: a hue taken from the
// SHA-256 of id, at 55 % saturation and 45 % lightness (HSL), so that
// every user has a steady colour of the same strength. It is computed in
// integers: the same id gives the same colour on every machine.
func Background(id string) color.RGBA {
	sum := sha256.Sum256([]byte(id))
	return hsl(int(binary.BigEndian.Uint64(sum[:8])%360), 550, 450)
}

// hsl converts a hue in degrees and a saturation and lightness in
// thousandths to RGB.
func hsl(h, s, l int) color.RGBA {
	c := (1000 - abs(2*l-1000)) * s / 1000
	hp := h * 1000 / 60 // position in sextants, in thousandths
	x := c * (1000 - abs(hp%2000-1000)) / 1000
	m := l - c/2
	var r, g, b int
	switch hp / 1000 {
	case 0:
		r, g = c, x
	case 1:
		r, g = x, c
	case 2:
		g, b = c, x
	case 3:
		g, b = x, c
	case 4:
		r, b = x, c
	default:
		r, b = c, x
	}
	v := func(p int) uint8 { return uint8(((p+m)*255 + 500) / 1000) }
	return color.RGBA{v(r), v(g), v(b), 0xff}
}

func abs(v int) int { return max(v, -v) }

// TextColor returns white, the usual colour of initials, if it contrasts
// with bg by at least 4.5:1 (WCAG 2's level AA for normal text), and black
// otherwise, which then contrasts by at least 4.58:1 (the ratio at which
// white and black contrast equally with a colour).
func TextColor(bg color.RGBA) color.RGBA {
	if white := (color.RGBA{0xff, 0xff, 0xff, 0xff}); contrast(bg, white) >= minContrast {
		return white
	}
	return color.RGBA{0, 0, 0, 0xff}
}

// minContrast is WCAG 2's level AA for normal text.
const minContrast = 4.5

// contrast is WCAG 2's contrast ratio of two opaque colours, 1 to 21.
func contrast(a, b color.RGBA) float64 {
	la, lb := luminance(a), luminance(b)
	return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
}

// luminance is WCAG 2's relative luminance of an sRGB colour.
func luminance(c color.RGBA) float64 {
	lin := func(v uint8) float64 {
		s := float64(v) / 255
		if s <= 0.04045 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(c.R) + 0.7152*lin(c.G) + 0.0722*lin(c.B)
}
