package portrait

import "testing"

func TestNormalizeEmail(t *testing.T) {
	for in, want := range map[string]string{
		"jos\u00e9@example.com":  "jos\u00e9@example.com", // NFC
		"jose\u0301@example.com": "jos\u00e9@example.com", // NFD: the same address
		"Ada@Example.COM":        "ada@example.com",
		" ada@example.com\t":     "ada@example.com",
		"\u212Aate@example.com":  "kate@example.com", // Kelvin sign: canonically K
		"ｋａｔｅ@ｅxample.com":       "kate@example.com", // full-width forms
		"ada@BÜCHER.de":          "ada@xn--bcher-kva.de",
		"ada@xn--bcher-kva.de":   "ada@xn--bcher-kva.de",
		"a b@example.com":        "a b@example.com", // refused by PRECIS: the old rule
		"ADA B@example.com":      "ada b@example.com",
	} {
		if got := NormalizeEmail(in); got != want {
			t.Errorf("NormalizeEmail(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCheckEmail(t *testing.T) {
	for _, ok := range []string{"ada@example.com", "jos\u00e9@b\u00fccher.de", "иван@пример.рф", "δημήτρης@example.gr",
		"山田たろう@example.jp", "o'neil+tag@example.com", "ada2024@example.com"} {
		if err := CheckEmail(ok); err != nil {
			t.Errorf("CheckEmail(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{
		"\u0430dmin@example.com",  // Cyrillic а + Latin
		"admin@\u0435xample.com",  // Cyrillic е in the domain
		"admin@\u0440aypal.com",   // Cyrillic р in the domain
		"ad\u200bmin@example.com", // zero-width space
		"admin@-example.com",      // invalid label
		"ad\u202emin@example.com", // bidi override
	} {
		if err := CheckEmail(bad); err == nil {
			t.Errorf("CheckEmail(%q) = nil, want an error", bad)
		}
	}
}

func TestDisplayEmail(t *testing.T) {
	for in, want := range map[string]string{
		"Ada@Example.com":        "Ada@Example.com",
		"jose\u0301@example.com": "jos\u00e9@example.com",
		"\u212Aate@example.com":  "Kate@example.com",
		"Ｋate@example.com":       "Kate@example.com",
	} {
		if got := DisplayEmail(in); got != want {
			t.Errorf("DisplayEmail(%q) = %q, want %q", in, got, want)
		}
	}
}
