package portrait

import (
	"errors"
	"strings"
	"unicode"

	"golang.org/x/net/idna"
	"golang.org/x/text/secure/precis"
	"golang.org/x/text/unicode/norm"
)

// The email rules. An address is compared under a stated normalisation:
// its local part under the UsernameCaseMapped profile of RFC 8265 (PRECIS:
// full-width and half-width forms folded, lower-cased, NFC), its domain
// under IDNA's lookup mapping (UTS #46: lower-cased, NFC, as A-labels,
// "xn--…"). So "josé" typed in NFC or NFD, "Ｋate" and "KATE" are one
// address each; the Kelvin sign U+212A is canonically equivalent to "K"
// (NFC maps it), so "\u212Aate@" is kate@'s address, and cannot become a
// second account.

// emailDomain is the strict IDNA profile that registration applies to
// domains: UTS #46 mapping, valid labels (no leading or trailing hyphen,
// no disallowed code points), the bidi rule, DNS lengths.
var emailDomain = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.ValidateLabels(true),
	idna.StrictDomainName(true), idna.VerifyDNSLength(true), idna.Transitional(false))

// normalizeEmail returns the normalised form of email, or ok false if one
// of its parts is refused by its rule.
func normalizeEmail(email string) (string, bool) {
	at := strings.LastIndexByte(email, '@')
	if at <= 0 {
		return "", false
	}
	local, err := precis.UsernameCaseMapped.String(email[:at])
	if err != nil {
		return "", false
	}
	domain, err := idna.Lookup.ToASCII(email[at+1:])
	if err != nil {
		return "", false
	}
	return local + "@" + strings.ToLower(domain), true
}

// DisplayEmail returns the form of a valid address (one CheckEmail
// accepts) that is stored and shown: its local part width-folded and in
// NFC with its case kept (RFC 8265's UsernameCasePreserved), its domain in
// NFC. No compatibility character (a Kelvin sign, a full-width letter)
// and no decomposed accent is kept.
func DisplayEmail(email string) string {
	at := strings.LastIndexByte(email, '@')
	local, err := precis.UsernameCasePreserved.String(email[:at])
	if err != nil {
		return email
	}
	return local + "@" + norm.NFC.String(email[at+1:])
}

// CheckEmail returns an error saying why email cannot be registered, or
// nil. On top of its syntax (checked by the caller), each part must pass
// its rule, and the local part and each domain label must each be written
// in one script, or in one of the script mixes of Unicode's "highly
// restrictive" level (UTS #39): Latin with Han and kana, Bopomofo or
// Hangul. That refuses look-alikes such as "аdmin@" with a Cyrillic "а";
// an address wholly in another script (иван@пример.рф) is accepted.
func CheckEmail(email string) error {
	at := strings.LastIndexByte(email, '@')
	if _, ok := normalizeEmail(email); !ok || at <= 0 {
		return errors.New("has characters an email address may not have")
	}
	local, _ := precis.UsernameCaseMapped.String(email[:at])
	domain, err := emailDomain.ToUnicode(email[at+1:])
	if err != nil {
		return errors.New("has a domain that is not a valid internationalised domain name")
	}
	for _, part := range append([]string{local}, strings.Split(domain, ".")...) {
		if !singleScript(part) {
			return errors.New("mixes letters of different scripts (look-alike characters)")
		}
	}
	return nil
}

// restrictiveMixes are the sets of scripts that UTS #39's "highly
// restrictive" level allows in one identifier beside single scripts.
var restrictiveMixes = [][]*unicode.RangeTable{
	{unicode.Latin, unicode.Han, unicode.Hiragana, unicode.Katakana},
	{unicode.Latin, unicode.Han, unicode.Bopomofo},
	{unicode.Latin, unicode.Han, unicode.Hangul},
}

// singleScript reports whether the letters of s, leaving aside the
// characters common to all scripts (digits, punctuation) and marks that
// inherit their letter's script, are of one script or of one of the
// restrictiveMixes.
func singleScript(s string) bool {
	var scripts []*unicode.RangeTable
	for _, r := range s {
		if t := scriptOf(r); t != nil && !containsTable(scripts, t) {
			scripts = append(scripts, t)
		}
	}
	if len(scripts) <= 1 {
		return true
	}
	for _, mix := range restrictiveMixes {
		if allIn(scripts, mix) {
			return true
		}
	}
	return false
}

// scriptOf returns the script of r, or nil for Common and Inherited.
func scriptOf(r rune) *unicode.RangeTable {
	if unicode.Is(unicode.Common, r) || unicode.Is(unicode.Inherited, r) {
		return nil
	}
	for _, t := range unicode.Scripts {
		if unicode.Is(t, r) {
			return t
		}
	}
	return nil
}

func containsTable(ts []*unicode.RangeTable, t *unicode.RangeTable) bool {
	for _, x := range ts {
		if x == t {
			return true
		}
	}
	return false
}

func allIn(ts, set []*unicode.RangeTable) bool {
	for _, t := range ts {
		if !containsTable(set, t) {
			return false
		}
	}
	return true
}

// StoredEmail is a stored user's address, for RenormalizeEmails.
type StoredEmail struct {
	ID         string
	Email      string
	Normalized string // as stored
}

// EmailChange is a stored user whose normalised address must change.
type EmailChange struct {
	ID         string
	Normalized string
	// KeptBy, if not "", is the older user that keeps the address this
	// user's normalises to: Normalized is then ParkedEmail(ID).
	KeptBy string
}

// ParkedEmail is the normalised address given to a user parked by
// RenormalizeEmails. No address normalises to it (normalised addresses
// never begin with a space), so no login can reach the user by email.
func ParkedEmail(id string) string { return " conflict:" + id }

// RenormalizeEmails returns the changes that bring stored users, given
// oldest first, under NormalizeEmail. Of users whose addresses normalise
// to the same one, the oldest keeps it and the others are parked (their
// data, image and sessions stay; they cannot log in by email until an
// operator changes their address). A store applies the changes in two
// passes, every changed row first set to a unique temporary value, so
// that no step breaks the uniqueness of normalised addresses. Users made
// for provider identities keep their ProviderEmail.
func RenormalizeEmails(users []StoredEmail) []EmailChange {
	owner := make(map[string]string, len(users))
	var changes []EmailChange
	for _, u := range users {
		if IsProviderEmail(u.Normalized) {
			continue // shown only, never a login: it keeps its ProviderEmail
		}
		want := NormalizeEmail(u.Email)
		if kept, taken := owner[want]; taken {
			changes = append(changes, EmailChange{ID: u.ID, Normalized: ParkedEmail(u.ID), KeptBy: kept})
			continue
		}
		owner[want] = u.ID
		if want != u.Normalized {
			changes = append(changes, EmailChange{ID: u.ID, Normalized: want})
		}
	}
	return changes
}
