package http

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// bidiControls are the characters that reorder the text around them
// (U+202A–U+202E embeddings and overrides, U+2066–U+2069 isolates, the
// marks LRM, RLM and ALM): in a name they can make "Ada‮nimda" display as
// "Adaadmin", or spoof what is shown beside it.
var bidiControls = &unicode.RangeTable{R16: []unicode.Range16{
	{Lo: 0x061c, Hi: 0x061c, Stride: 1},
	{Lo: 0x200e, Hi: 0x200f, Stride: 1},
	{Lo: 0x202a, Hi: 0x202e, Stride: 1},
	{Lo: 0x2066, Hi: 0x2069, Stride: 1},
}}

// cleanName trims name and puts it in NFC. It reports false for a name
// that is not 1 to maxNameChars characters of valid UTF-8, that holds a
// control character (NUL, BEL…), a line or paragraph separator, a private
// use or unassigned code point, or a bidi control, or that has no visible
// character at all (only spaces, zero-width characters, fillers, marks).
// Zero-width joiners and non-joiners stay allowed beside visible
// characters: emoji sequences and Persian or Indic names need them.
func cleanName(name string) (string, bool) {
	if !utf8.ValidString(name) {
		return "", false
	}
	name = norm.NFC.String(strings.TrimSpace(name))
	if n := utf8.RuneCountInString(name); n == 0 || n > maxNameChars {
		return "", false
	}
	visible := false
	for _, r := range name {
		if !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Zs, unicode.Cf) || unicode.Is(bidiControls, r) {
			return "", false
		}
		if unicode.In(r, unicode.L, unicode.N, unicode.P, unicode.S) && !unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r) && r != '\u2800' {
			visible = true
		}
	}
	return name, visible
}
