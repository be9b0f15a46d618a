package monogram

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/image/font/sfnt"
	"golang.org/x/text/unicode/norm"
)

// maxScan bounds how much of a name Initials reads: only its first letter
// matters, and a name can be long.
const maxScan = 64 // runes

// initialClasses are what may start an initial: letters with or without
// case and decimal digits; not modifier letters, marks, symbols (emoji),
// punctuation, spaces, or control and format characters (bidi marks).
var initialClasses = []*unicode.RangeTable{unicode.Lu, unicode.Ll, unicode.Lt, unicode.Lo, unicode.Nd}

// Initials returns what Render draws for a name: the first letter (or
// digit) of first and then of last, each in NFC and upper case, keeping
// only those Go Bold has a glyph for (Latin, Greek and Cyrillic letters;
// not CJK, Arabic, Hebrew, Devanagari…). A combining mark that NFC cannot
// join to its letter is left out. "" means Render draws a silhouette.
func Initials(first, last string) string {
	var out []rune
	for _, name := range []string{first, last} {
		if r, ok := initial(name); ok {
			out = append(out, r)
		}
	}
	return string(out)
}

// initial returns the upper-cased first letter of name, and whether the
// font can draw it.
func initial(name string) (rune, bool) {
	for _, r := range norm.NFC.String(prefix(name, maxScan)) {
		if unicode.IsOneOf(initialClasses, r) {
			u := unicode.ToUpper(r)
			return u, hasGlyph(u)
		}
	}
	return 0, false
}

// prefix returns the first n runes of s (invalid bytes count as one).
func prefix(s string, n int) string {
	i := 0
	for range n {
		if i >= len(s) {
			break
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:i]
}

func hasGlyph(r rune) bool {
	var b sfnt.Buffer
	x, err := goBold().GlyphIndex(&b, r)
	return err == nil && x != 0
}
