package monogram

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strings"
	"sync"
	"testing"

	"github.com/portraitsvc/portrait"
)

func mustRender(tb testing.TB, id, first, last string, size int) []byte {
	tb.Helper()
	b, err := Render(id, first, last, size)
	if err != nil {
		tb.Fatalf("Render(%q, %q, %q, %d): %v", id, first, last, size, err)
	}
	return b
}

func decodePNG(tb testing.TB, b []byte) image.Image {
	tb.Helper()
	m, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		tb.Fatalf("not a PNG: %v", err)
	}
	return m
}

func TestRenderIsDeterministic(t *testing.T) {
	want := mustRender(t, "user-1", "Ada", "Lovelace", 128)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if got := mustRender(t, "user-1", "Ada", "Lovelace", 128); !bytes.Equal(got, want) {
				t.Error("the same arguments gave different bytes")
			}
		})
	}
	wg.Wait()
	if bytes.Equal(mustRender(t, "user-2", "Ada", "Lovelace", 128), want) {
		t.Error("two users with the same name got the same picture: the id changes nothing")
	}
	if bytes.Equal(mustRender(t, "user-1", "Bob", "Lovelace", 128), want) {
		t.Error("the initials change nothing")
	}
}

// TestRenderSizes decodes pictures of several sizes: the requested size,
// the background in the corners, and text of the text colour at the
// centre.
func TestRenderSizes(t *testing.T) {
	for _, size := range []int{MinSize, 17, 40, 64, 333, 512, MaxSize} {
		m := decodePNG(t, mustRender(t, "user-42", "Grace", "Hopper", size))
		if b := m.Bounds(); b.Dx() != size || b.Dy() != size {
			t.Fatalf("size %d: got %v", size, b)
		}
		bg := Background("user-42")
		fg := TextColor(bg)
		for _, p := range []image.Point{{0, 0}, {size - 1, 0}, {0, size - 1}, {size - 1, size - 1}} {
			if c := color.RGBAModel.Convert(m.At(p.X, p.Y)); c != bg {
				t.Errorf("size %d: corner %v is %v, want the background %v", size, p, c, bg)
			}
		}
		mid := image.Rect(size/5, size/4, size*4/5, size*3/4)
		if n, ink := countNear(m, fg, mid), mid.Dx()*mid.Dy()-countNear(m, bg, mid); n == 0 || ink < size*size/20 {
			t.Errorf("size %d: %d pixels of the text colour and %d of ink in the middle, want some and ≥ %d", size, n, ink, size*size/20)
		}
	}
}

// countNear counts the pixels of m in r within 16 levels of c.
func countNear(m image.Image, c color.RGBA, r image.Rectangle) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			p := color.RGBAModel.Convert(m.At(x, y)).(color.RGBA)
			if near(p.R, c.R) && near(p.G, c.G) && near(p.B, c.B) {
				n++
			}
		}
	}
	return n
}

func near(a, b uint8) bool { return abs(int(a)-int(b)) <= 16 }

func TestRenderRejectsSizes(t *testing.T) {
	for _, size := range []int{-1, 0, MinSize - 1, MaxSize + 1, 1 << 30} {
		b, err := Render("u", "A", "B", size)
		if portrait.ErrorCode(err) != portrait.EINVALID {
			t.Errorf("size %d: %d bytes, %v; want an %s error", size, len(b), err, portrait.EINVALID)
		}
	}
}

// TestRenderFallsBack: names whose initials Go Bold cannot draw, in every
// script class it lacks, get exactly the silhouette, without error; the
// scripts it has get their letters.
func TestRenderFallsBack(t *testing.T) {
	silhouette := mustRender(t, "u", "", "", 64)
	lacking := map[string][2]string{
		"CJK":        {"山田", "太郎"},
		"Japanese":   {"さくら", "カタカナ"},
		"Hangul":     {"민준", "김"},
		"Arabic":     {"محمد", "علي"},
		"Hebrew":     {"דוד", "כהן"},
		"Devanagari": {"अनिल", "शर्मा"},
		"Thai":       {"สมชาย", "ใจดี"},
		"Ethiopic":   {"አበበ", "ቢቂላ"},
		"emoji":      {"😀", "👩‍👩‍👧"},
		"flags":      {"🇫🇷", "🏳️‍🌈"},
		"symbols":    {"★", "♥"},
	}
	for class, n := range lacking {
		if got := mustRender(t, "u", n[0], n[1], 64); !bytes.Equal(got, silhouette) {
			t.Errorf("%s (%q %q): not the silhouette; Initials = %q", class, n[0], n[1], Initials(n[0], n[1]))
		}
	}
	having := map[string][2]string{"Latin": {"Zoë", "Ångström"}, "Greek": {"Ωμέγα", "Αλφα"}, "Cyrillic": {"Жанна", "Щукина"}}
	for class, n := range having {
		if got := mustRender(t, "u", n[0], n[1], 64); bytes.Equal(got, silhouette) || len([]rune(Initials(n[0], n[1]))) != 2 {
			t.Errorf("%s (%q %q): Initials = %q, want two letters drawn", class, n[0], n[1], Initials(n[0], n[1]))
		}
	}
}

func TestInitials(t *testing.T) {
	cases := []struct{ first, last, want string }{
		{"ada", "lovelace", "AL"},
		{"Ada", "", "A"},
		{"", "Lovelace", "L"},
		{"", "", ""},
		{"   ", "\t\n", ""},
		{"  jean-luc ", " picard", "JP"},
		{"e\u0301mile", "zola", "ÉZ"},           // combining acute, joined by NFC
		{"\u0301\u0301anna", "b", "AB"},         // leading combining marks are skipped
		{"q\u0303uentin", "x", "QX"},            // a mark NFC cannot join is left out
		{"élan", "ßmith", "Éß"},                 // upper case rune by rune: ß has none
		{"\u200fAnna", "\u202eBell", "AB"},      // bidi marks
		{"\x00\x1b\aAnna", "\x7f\u0085B", "AB"}, // control characters
		{"🦊 Fox", "✨Star", "FS"},                // emoji before a letter
		{"'O'Brien", "(Ed)", "OE"},
		{"2pac", "", "2"},
		{"\xff\xfeAnna", "B", "AB"}, // invalid UTF-8
		{"محمد", "Smith", "S"},      // one script the font lacks
		{"John", "山田", "J"},
		{strings.Repeat("x", 1<<20), strings.Repeat(" ", 1<<20) + "Y", "X"}, // very long: only the start is read
	}
	for _, c := range cases {
		if got := Initials(c.first, c.last); got != c.want {
			t.Errorf("Initials(%q, %q) = %q, want %q", trunc(c.first), trunc(c.last), got, c.want)
		}
	}
}

func trunc(s string) string {
	if len(s) > 20 {
		return s[:20] + fmt.Sprintf("…(%d bytes)", len(s))
	}
	return s
}

// TestContrast: over many ids, the text colour contrasts with the
// background by at least WCAG AA's 4.5:1, and the backgrounds vary.
func TestContrast(t *testing.T) {
	seen := map[color.RGBA]bool{}
	for i := range 5000 {
		bg := Background(fmt.Sprintf("user-%d", i))
		if c := contrast(bg, TextColor(bg)); c < minContrast {
			t.Errorf("background %v, text %v: contrast %.2f:1, want ≥ %.1f:1", bg, TextColor(bg), c, minContrast)
		}
		seen[bg] = true
	}
	if len(seen) < 300 {
		t.Errorf("%d distinct backgrounds for 5000 ids, want ≥ 300", len(seen))
	}
	for _, c := range []struct {
		hue  int
		want color.RGBA
	}{{0, color.RGBA{178, 52, 52, 255}}, {120, color.RGBA{52, 178, 52, 255}}, {240, color.RGBA{52, 52, 178, 255}}, {60, color.RGBA{178, 178, 52, 255}}} {
		if got := hsl(c.hue, 550, 450); got != c.want {
			t.Errorf("hsl(%d°, 55%%, 45%%) = %v, want %v", c.hue, got, c.want)
		}
	}
}
