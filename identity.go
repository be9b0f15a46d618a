package portrait

import (
	"context"
	"strings"
)

// Identity names a user of an identity provider (an OpenID provider whose
// bearer tokens Portrait accepts): the provider's issuer URL and the
// user's subject there. A provider user is known by its Identity only,
// never by its email: an address is what a provider says, not who a user
// is.
type Identity struct {
	Issuer  string
	Subject string
}

// Profile is what an identity provider says about its user, from the
// standard claims given_name, family_name, email and phone_number. Any
// field may be "".
type Profile struct {
	FirstName   string
	LastName    string
	Email       string
	PhoneNumber string
}

// Empty reports whether p holds nothing.
func (p Profile) Empty() bool { return p == Profile{} }

// ProviderToken is what a verified bearer token of an identity provider
// proves: the identity it was issued to, and the profile claims it
// carries (often none: many providers send bare access tokens).
type ProviderToken struct {
	Identity Identity
	Profile  Profile
	// Raw is the token itself, which the provider's userinfo endpoint
	// takes.
	Raw string
}

// IdentityProviders verifies the bearer tokens of the identity providers
// Portrait is configured to trust.
type IdentityProviders interface {
	// Verify checks token's signature and claims against the provider
	// that its issuer names. It returns EINVALIDTOKEN for a token that no
	// configured provider issued, that is forged, expired or meant for
	// another audience; EUNAVAILABLE if the provider could not be reached
	// to check it.
	Verify(ctx context.Context, token string) (*ProviderToken, error)

	// Profile returns the profile of t's user: t's own claims if it
	// carries any, else what the provider's userinfo endpoint answers for
	// t (an empty Profile if the provider has no such endpoint). It
	// returns EUNAVAILABLE if the provider could not be reached, and
	// EINVALIDTOKEN if it refused t.
	Profile(ctx context.Context, t *ProviderToken) (Profile, error)
}

// ProviderEmail is the normalised address stored for a user made for a
// provider identity (see UserStore.CreateProviderUser). No address
// normalises to it (normalised addresses never begin with a space), so no
// password login reaches the user by email, and the address it shows
// neither takes nor needs a place among the unique normalised addresses.
func ProviderEmail(userID string) string { return " identity:" + userID }

// IsProviderEmail reports whether normalized is a ProviderEmail.
func IsProviderEmail(normalized string) bool { return strings.HasPrefix(normalized, " identity:") }
