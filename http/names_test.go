package http

import "testing"

func TestCleanName(t *testing.T) {
	for in, want := range map[string]string{
		"Ada":               "Ada",
		"  Zoë ":            "Zoë",
		"Zoe\u0308":         "Zoë", // NFD → NFC
		"محمد":              "محمد",
		"می\u200cخواهم":     "می\u200cخواهم", // ZWNJ inside a Persian word
		"👩\u200d💻":          "👩\u200d💻",      // ZWJ emoji sequence
		"O'Brien-Smith Jr.": "O'Brien-Smith Jr.",
		"李":                 "李",
	} {
		if got, ok := cleanName(in); !ok || got != want {
			t.Errorf("cleanName(%q) = %q, %v; want %q, true", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "   ", "Ada\x00", "Ada\x07", "Ada\u202enimda", "\u2066Ada\u2069", "\u200b\u200b",
		"\u200d", "\u3164", "\u115f\u1160", "\u2800", "\ufe0f", "\u0301", "Ada\u2028Lovelace", "\ue000", "bad\xffutf8"} {
		if got, ok := cleanName(bad); ok {
			t.Errorf("cleanName(%q) = %q, true; want refused", bad, got)
		}
	}
}
