package http

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"github.com/portraitsvc/portrait"
	"github.com/portraitsvc/portrait/jwt"
)

// authenticator says which bearer tokens act as a user: Portrait's own,
// unless tokens is nil (local accounts off), and those of the identity
// providers, if providers is not nil.
type authenticator struct {
	log       *slog.Logger
	users     portrait.UserStore
	tokens    *jwt.Issuer
	providers portrait.IdentityProviders
	// provision makes an account for a provider identity on its first
	// request; false leaves that to an operator (portrait link).
	provision bool
}

type providerKey struct{}

// viaProvider reports whether requireUser authenticated the request with
// an identity provider's token.
func viaProvider(ctx context.Context) bool {
	v, _ := ctx.Value(providerKey{}).(bool)
	return v
}

// authenticate returns the user that the request's bearer token acts as,
// and whether the token is an identity provider's.
func (a *authenticator) authenticate(r *http.Request) (*portrait.User, bool, error) {
	token, _ := bearerToken(r.Header.Get("Authorization"))
	switch {
	case a.tokens != nil && (a.providers == nil || jwt.Claimed(token)):
		u, err := authenticateToken(r, a.users, a.tokens)
		return u, false, err
	case a.providers == nil || token == "":
		return nil, false, portrait.Errorf(portrait.EINVALIDTOKEN, "A valid Bearer access token is required.")
	case jwt.Claimed(token):
		return nil, false, portrait.Errorf(portrait.EINVALIDTOKEN, "Local accounts are turned off on this server: send an access token of its identity provider.")
	}
	u, err := a.providerUser(r.Context(), token)
	return u, true, err
}

// providerUser returns the user linked to the identity that token proves,
// provisioning one on the identity's first request if allowed.
func (a *authenticator) providerUser(ctx context.Context, token string) (*portrait.User, error) {
	pt, err := a.providers.Verify(ctx, token)
	if err != nil {
		return nil, err
	}
	u, err := a.users.UserByIdentity(ctx, pt.Identity)
	if portrait.ErrorCode(err) != portrait.ENOTFOUND {
		return u, err
	}
	if !a.provision {
		return nil, portrait.Errorf(portrait.EIDENTITYNOTLINKED,
			"Your account at the identity provider is not linked to a Portrait user yet. Ask an operator to link it: issuer %q, subject %q.",
			pt.Identity.Issuer, pt.Identity.Subject)
	}
	return a.provisionUser(ctx, pt)
}

// provisionUser makes the account of pt's identity from the provider's
// profile. An address that a local account has is no merge: the identity
// is refused until an operator links it to that account, or not.
func (a *authenticator) provisionUser(ctx context.Context, pt *portrait.ProviderToken) (*portrait.User, error) {
	p, err := a.providers.Profile(ctx, pt)
	if err != nil {
		return nil, err
	}
	u := ProviderAccount(p)
	id := pt.Identity
	switch err := a.users.CreateProviderUser(ctx, u, id); portrait.ErrorCode(err) {
	case "":
		a.log.Info("user provisioned from an identity provider", "request_id", requestID(ctx),
			"issuer", id.Issuer, "subject", id.Subject, "user_id", u.ID)
		return u, nil
	case portrait.EIDENTITYLINKED: // a concurrent request provisioned it
		return a.users.UserByIdentity(ctx, id)
	case portrait.EEMAILTAKEN:
		a.log.Info("identity not provisioned: a local account has its email", "request_id", requestID(ctx),
			"issuer", id.Issuer, "subject", id.Subject)
		return nil, portrait.Errorf(portrait.EIDENTITYEMAILCONFLICT,
			"A Portrait account already has this email, and accounts are never merged on an email alone. Ask an operator to link your identity to it: issuer %q, subject %q.",
			id.Issuer, id.Subject)
	default:
		return nil, err
	}
}

// ProviderAccount returns a new account of a provider user described by p,
// keeping of each field only what registration would accept — names as
// cleanName cleans them, an address that could be registered, an E.164
// phone number — and "" otherwise: a provider's claims are input too.
func ProviderAccount(p portrait.Profile) *portrait.User {
	u := &portrait.User{ID: newUserID()}
	if name, ok := cleanName(p.FirstName); ok {
		u.FirstName = name
	}
	if name, ok := cleanName(p.LastName); ok {
		u.LastName = name
	}
	if email := strings.TrimSpace(p.Email); validEmail(email) && portrait.CheckEmail(email) == nil {
		u.Email = portrait.DisplayEmail(email)
	}
	if e164.MatchString(p.PhoneNumber) {
		u.PhoneNumber = p.PhoneNumber
	}
	return u
}

// authMiddleware returns the middleware of authenticated routes, auth
// (requireUser with the authenticator that cfg configures), and local,
// localAccountsOnly's for the routes of local accounts: outside auth it
// refuses them all when local accounts are off, whatever the token;
// inside, a request whose token turned out to be a provider's.
func authMiddleware(cfg Config) (auth, local func(http.Handler) http.Handler) {
	a := &authenticator{log: cfg.Log, users: cfg.Users, tokens: cfg.Tokens, providers: cfg.Providers, provision: cfg.Provision}
	if cfg.DisableLocalAccounts {
		a.tokens = nil
	}
	auth = func(h http.Handler) http.Handler { return requireUser(a, h) }
	local = func(h http.Handler) http.Handler { return localAccountsOnly(cfg, h) }
	return auth, local
}

// localAccountsOnly guards a route of local accounts: it answers 403
// local_accounts_disabled if they are off, and managed_by_provider to a
// request authenticated with an identity provider's token, which
// Portrait can neither revoke nor change the password of.
func localAccountsOnly(cfg Config, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case cfg.DisableLocalAccounts:
			writeError(w, r, cfg.Log, portrait.Errorf(portrait.ELOCALACCOUNTSOFF,
				"Local accounts are turned off on this server: sign in with its identity provider and send that provider's access token."))
		case viaProvider(r.Context()):
			writeError(w, r, cfg.Log, portrait.Errorf(portrait.EMANAGEDBYPROVIDER,
				"This request carries your identity provider's token: sign out, and change your password, at that provider."))
		default:
			next.ServeHTTP(w, r)
		}
	})
}
