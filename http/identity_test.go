package http

import (
	"testing"

	"github.com/portraitsvc/portrait"
)

// TestProviderAccountCleansClaims: a provider's claims are input like a
// registration form, except that a value registration would refuse is
// dropped rather than refused (the token itself is valid).
func TestProviderAccountCleansClaims(t *testing.T) {
	cases := []struct {
		name string
		in   portrait.Profile
		want portrait.Profile
	}{
		{"kept", portrait.Profile{FirstName: " Ada ", LastName: "Lovelace", Email: "Ada@Example.com", PhoneNumber: "+15551234567"},
			portrait.Profile{FirstName: "Ada", LastName: "Lovelace", Email: "Ada@Example.com", PhoneNumber: "+15551234567"}},
		{"NFC", portrait.Profile{FirstName: "Jose\u0301"}, portrait.Profile{FirstName: "Jos\u00e9"}},
		{"bidi override", portrait.Profile{FirstName: "Ada\u202enimda"}, portrait.Profile{}},
		{"control character", portrait.Profile{LastName: "Love\x00lace"}, portrait.Profile{}},
		{"invisible only", portrait.Profile{FirstName: "\u200b\u200b"}, portrait.Profile{}},
		{"too long", portrait.Profile{FirstName: string(make([]rune, 101))}, portrait.Profile{}},
		{"display name as email", portrait.Profile{Email: "Ada <ada@example.com>"}, portrait.Profile{}},
		{"mixed-script email", portrait.Profile{Email: "\u0430dmin@example.com"}, portrait.Profile{}},
		{"phone not E.164", portrait.Profile{PhoneNumber: "+1 (425) 555-1212"}, portrait.Profile{}},
	}
	for _, c := range cases {
		u := ProviderAccount(c.in)
		got := portrait.Profile{FirstName: u.FirstName, LastName: u.LastName, Email: u.Email, PhoneNumber: u.PhoneNumber}
		if got != c.want || u.ID == "" || u.PasswordHash != "" {
			t.Errorf("%s: ProviderAccount(%+q) = %+q (id %q), want %+q with an id and no password", c.name, c.in, got, u.ID, c.want)
		}
	}
}
