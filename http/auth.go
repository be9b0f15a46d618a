package http

import (
	"context"
	"net/http"
	"strings"

	"github.com/portraitsvc/portrait"
	"github.com/portraitsvc/portrait/jwt"
)

type userKey struct{}

// currentUser returns the user that requireUser authenticated.
func currentUser(ctx context.Context) *portrait.User {
	return ctx.Value(userKey{}).(*portrait.User)
}

// requireUser lets a request through only with a valid Bearer token: one
// of Portrait's whose user exists and whose token version is current (not
// logged out since), or an identity provider's whose identity is linked
// to a user (see authenticator). Everything else is 401 with
// WWW-Authenticate: Bearer (a revoked token is told it was revoked), or 403 for a valid provider token that no user
// may be linked to yet.
func requireUser(a *authenticator, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, provider, err := a.authenticate(r)
		if err != nil {
			writeError(w, r, a.log, err)
			return
		}
		ctx := context.WithValue(r.Context(), userKey{}, u)
		if provider {
			ctx = context.WithValue(ctx, providerKey{}, true)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func authenticateToken(r *http.Request, users portrait.UserStore, tokens *jwt.Issuer) (*portrait.User, error) {
	invalid := portrait.Errorf(portrait.EINVALIDTOKEN, "A valid Bearer access token is required.")
	token, ok := bearerToken(r.Header.Get("Authorization"))
	if !ok {
		return nil, invalid
	}
	claims, err := tokens.Verify(token)
	if err != nil {
		return nil, err
	}
	u, err := users.UserByID(r.Context(), claims.UserID)
	switch {
	case portrait.ErrorCode(err) == portrait.ENOTFOUND:
		return nil, invalid
	case err == nil && claims.Version < u.TokenVersion:
		return nil, errRevoked
	case err == nil && claims.Version != u.TokenVersion:
		return nil, invalid
	}
	return u, err
}

// errRevoked answers a token older than its user's last logout or password
// change: still EINVALIDTOKEN, since the client must log in again either
// way, but saying why, so that the user is not left guessing.
var errRevoked = portrait.Errorf(portrait.EINVALIDTOKEN,
	"This access token was revoked by a logout or a password change. Log in again to get a new one.")

// bearerToken extracts the token of an "Authorization: Bearer <token>"
// header; the scheme is case-insensitive (RFC 9110, section 11.1).
func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(header, " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}
