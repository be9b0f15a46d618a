// Package http is Portrait's HTTP API: the contract's
// PATCH /users/image/upload, accounts and login, and serving the images.
package http

import (
	"context"
	_ "embed"
	"log/slog"
	"net/http"
	"time"

	"github.com/portraitsvc/portrait"
	"github.com/portraitsvc/portrait/argon2id"
	"github.com/portraitsvc/portrait/avatar"
	"github.com/portraitsvc/portrait/jwt"
)

// Config is what the API needs: its dependencies and its limits.
type Config struct {
	Users     portrait.UserStore
	Images    *portrait.Images
	Bucket    portrait.Bucket
	Avatars   *avatar.Processor
	Tokens    *jwt.Issuer
	Passwords *argon2id.Hasher
	Log       *slog.Logger
	// Metrics, if not nil, records Prometheus metrics of every request.
	Metrics *Metrics

	// PublicURL is the base URL clients reach this server at, for the
	// stable picture URLs.
	PublicURL string
	// ImageBaseURL is the base of the image URLs returned to clients, no
	// trailing slash: this server's public URL, or a CDN's.
	ImageBaseURL string
	Upload       UploadLimits
	// AllowedOrigins lists the browser origins allowed by CORS ("*": any).
	AllowedOrigins []string
	// LoginPerMinute bounds failed logins per (account, client address)
	// pair, and ten times as many attempts per address, and failed
	// current passwords of /auth/password per user; UploadPerMinute bounds
	// uploads per user; RegisterPerMinute registrations per client
	// address. Zero or less: no limit.
	LoginPerMinute    int
	UploadPerMinute   int
	RegisterPerMinute int
	// RateLimits keeps the counts of those limits; nil keeps them in this
	// node's memory.
	RateLimits portrait.RateLimits
	// BodyIdleTimeout is the longest a request body may pause between
	// bytes before its connection is closed (0: no limit); ReadTimeout is
	// the server's limit on the whole request, which it never extends.
	BodyIdleTimeout time.Duration
	ReadTimeout     time.Duration
	// Checks are the dependencies that /readyz (and /healthz) report on.
	Checks []Check

	// Providers, if not nil, verifies the bearer tokens of identity
	// providers, accepted on every authenticated route beside Portrait's
	// own. Provision makes the account of a provider identity on its
	// first request; without it, such a request is 403
	// identity_not_linked until an operator links the identity.
	Providers portrait.IdentityProviders
	Provision bool
	// DisableLocalAccounts answers register, login, logout and password
	// 403 local_accounts_disabled, and refuses Portrait's own tokens.
	DisableLocalAccounts bool
}

// NewHandler returns the whole API as one handler. It hashes a dummy
// password once, so that logins for unknown emails cost the same.
func NewHandler(ctx context.Context, cfg Config) (http.Handler, error) {
	dummy, err := cfg.Passwords.Hash(ctx, "portrait-dummy-password")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	if err := addRoutes(mux, cfg, dummy); err != nil {
		return nil, err
	}
	var h http.Handler = withBodyIdleTimeout(cfg.BodyIdleTimeout, cfg.ReadTimeout, mux)
	h = withCORS(cfg.Log, cfg.AllowedOrigins, h)
	h = withSecurityHeaders(h)
	h = withLogging(cfg.Log, cfg.Metrics, h)
	return withRequestID(h), nil
}

//go:embed openapi.json
var openAPI []byte

func handleOpenAPI() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(openAPI)
	})
}
