// Package oidc verifies the bearer tokens of OpenID Connect providers
// (Auth0, Keycloak, Okta, Cognito, Zitadel…), so that their users can use
// Portrait without an account of its own. It implements
// portrait.IdentityProviders.
//
// Each provider is found by OpenID Connect discovery (go-oidc), on first
// use or at Start; its keys come from its JWKS (jwkset), kept in memory
// and fetched again every KeysMaxAge, so that a key the provider removed
// stops verifying. Tokens are verified by golang-jwt with the algorithms
// pinned to asymmetric ones, and iss, aud, exp, nbf and iat checked with a
// small leeway. A token that names an unknown key makes the key set be
// fetched again, at most once per RetryInterval per provider, so that a
// provider's key rotation works without a restart while junk tokens
// cannot make Portrait hammer the provider; nothing a token says is kept
// unless its signature verified.
package oidc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"
	"unicode/utf8"

	gojwt "github.com/golang-jwt/jwt/v5"
	"github.com/hashicorp/golang-lru/v2/expirable"
	"golang.org/x/sync/singleflight"

	"github.com/portraitsvc/portrait"
)

// Config says which providers to trust and how to talk to them. Zero
// durations take the defaults below.
type Config struct {
	// Issuers are the providers' issuer URLs, exactly as their tokens'
	// iss claims spell them: https, or http on a loopback address only.
	Issuers []string
	// Audience must be one of every accepted token's aud values: the
	// identifier of Portrait's API at the providers.
	Audience string
	// Leeway is the clock skew allowed on exp, nbf and iat (30 s).
	Leeway time.Duration
	// Timeout bounds each call to a provider: discovery, keys, userinfo
	// (5 s).
	Timeout time.Duration
	// RetryInterval is the shortest time between two calls to a provider
	// that tokens can cause: a key-set fetch for an unknown key, a
	// discovery after a failed one (10 s).
	RetryInterval time.Duration
	// KeysMaxAge is how often each key set is fetched again regardless
	// (15 min).
	KeysMaxAge time.Duration
	// Log receives the providers' failures; nil discards them.
	Log *slog.Logger
	// Now returns the current time; tests replace it.
	Now func() time.Time
}

// Defaults of Config.
const (
	DefaultLeeway        = 30 * time.Second
	DefaultTimeout       = 5 * time.Second
	DefaultRetryInterval = 10 * time.Second
	DefaultKeysMaxAge    = 15 * time.Minute
)

// Bounds on what a token or a provider may make Portrait hold.
const (
	maxTokenBytes    = 16 << 10 // a bearer token
	maxSubjectBytes  = 255      // OpenID Connect Core, section 2
	maxResponseBytes = 1 << 20  // a provider's discovery, keys or userinfo
	userinfoEntries  = 1024     // userinfo answers cached, by identity
	userinfoTTL      = 10 * time.Minute
)

// asymmetricAlgs are the only signing algorithms accepted: never HS*
// (whose key would be the provider's public key, known to all) nor none.
var asymmetricAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// Verifier verifies provider tokens. It is safe for concurrent use.
type Verifier struct {
	cfg       Config
	client    *http.Client
	providers map[string]*provider // by issuer
	userinfo  *expirable.LRU[portrait.Identity, portrait.Profile]
	flights   singleflight.Group // userinfo calls, by identity
	// life is the context of the key sets' periodic refreshes; Close ends it.
	life  context.Context
	close context.CancelFunc
}

var _ portrait.IdentityProviders = (*Verifier)(nil)

// New returns a Verifier of cfg's providers. It checks cfg but calls no
// provider: each is discovered on first use, or by Start.
func New(cfg Config) (*Verifier, error) {
	cfg = withDefaults(cfg)
	if err := cfg.check(); err != nil {
		return nil, err
	}
	life, cancel := context.WithCancel(context.Background())
	v := &Verifier{cfg: cfg, client: newClient(cfg.Timeout), providers: map[string]*provider{},
		userinfo: expirable.NewLRU[portrait.Identity, portrait.Profile](userinfoEntries, nil, userinfoTTL),
		life:     life, close: cancel}
	for _, iss := range cfg.Issuers {
		v.providers[iss] = &provider{issuer: iss, v: v}
	}
	return v, nil
}

func withDefaults(cfg Config) Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.Leeway, DefaultLeeway)
	def(&cfg.Timeout, DefaultTimeout)
	def(&cfg.RetryInterval, DefaultRetryInterval)
	def(&cfg.KeysMaxAge, DefaultKeysMaxAge)
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return cfg
}

// check returns an error naming the first invalid setting.
func (cfg Config) check() error {
	if len(cfg.Issuers) == 0 {
		return errors.New("oidc: no issuer")
	}
	if cfg.Audience == "" {
		return errors.New("oidc: an audience is required: the identifier of Portrait's API at the provider")
	}
	for _, iss := range cfg.Issuers {
		if err := checkIssuer(iss); err != nil {
			return fmt.Errorf("oidc: issuer %q: %w", iss, err)
		}
	}
	return nil
}

// checkIssuer accepts an absolute https URL without query or fragment,
// or an http one on a loopback address (a provider run for tests): keys
// fetched over plain http from elsewhere could be anyone's.
func checkIssuer(iss string) error {
	u, err := url.Parse(iss)
	switch {
	case err != nil:
		return err
	case u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return errors.New("want a URL such as https://idp.example.com/realms/main, without query, fragment or user")
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	}
	return errors.New("want https (http only on a loopback address)")
}

func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

// Start discovers every provider, logging each outcome. A provider that
// cannot be reached is no error (its tokens get EUNAVAILABLE until it
// answers); one whose discovery document names another issuer is, since
// no token of it could ever verify.
func (v *Verifier) Start(ctx context.Context) error {
	for _, p := range v.providers {
		d, err := p.ready(ctx)
		var mismatch *issuerMismatch
		switch {
		case errors.As(err, &mismatch):
			return err
		case err != nil:
			v.cfg.Log.Warn("identity provider unavailable; its tokens are answered 503 until it answers", "issuer", p.issuer, "err", err)
		default:
			v.cfg.Log.Info("identity provider ready", "issuer", p.issuer, "jwks_uri", d.jwksURI, "userinfo", d.op.UserInfoEndpoint() != "")
		}
	}
	return nil
}

// Close stops the key sets' periodic refreshes.
func (v *Verifier) Close() error {
	v.close()
	return nil
}

// claims are the claims of a provider token that Portrait reads.
type claims struct {
	gojwt.RegisteredClaims
	profileClaims
}

// profileClaims are the standard claims of a profile, in a token or a
// userinfo answer.
type profileClaims struct {
	GivenName   string `json:"given_name"`
	FamilyName  string `json:"family_name"`
	Email       string `json:"email"`
	PhoneNumber string `json:"phone_number"`
}

func (c profileClaims) profile() portrait.Profile {
	return portrait.Profile{FirstName: c.GivenName, LastName: c.FamilyName, Email: c.Email, PhoneNumber: c.PhoneNumber}
}

// Verify returns what token proves, if one of the configured providers
// signed it for the audience and it is within its validity. It returns
// EINVALIDTOKEN otherwise, without calling any provider for a token whose
// issuer is not configured; EUNAVAILABLE if its provider could not be
// discovered, or its key set fetched for a key not yet known.
func (v *Verifier) Verify(ctx context.Context, token string) (*portrait.ProviderToken, error) {
	p := v.providers[unverifiedIssuer(token)]
	if p == nil {
		return nil, invalidToken()
	}
	d, err := p.ready(ctx)
	if err != nil {
		return nil, err
	}
	var c claims
	ctx, fetch := withFetchResult(ctx)
	_, err = v.parser(p.issuer).ParseWithClaims(token, &c, d.keyfunc(ctx))
	if err != nil && fetch.err != nil {
		return nil, portrait.Unavailable("identity provider", fetch.err)
	}
	if err != nil || !validSubject(c.Subject) {
		return nil, invalidToken()
	}
	return &portrait.ProviderToken{Identity: portrait.Identity{Issuer: p.issuer, Subject: c.Subject},
		Profile: c.profile(), Raw: token}, nil
}

// unverifiedIssuer returns the iss claim of token without checking
// anything else, "" if it has none or is too large to be a token.
func unverifiedIssuer(token string) string {
	if len(token) > maxTokenBytes {
		return ""
	}
	var c gojwt.RegisteredClaims
	if _, _, err := gojwt.NewParser().ParseUnverified(token, &c); err != nil {
		return ""
	}
	return c.Issuer
}

// parser returns the parser of issuer's tokens.
func (v *Verifier) parser(issuer string) *gojwt.Parser {
	return gojwt.NewParser(
		gojwt.WithValidMethods(asymmetricAlgs),
		gojwt.WithIssuer(issuer),
		gojwt.WithAudience(v.cfg.Audience),
		gojwt.WithExpirationRequired(),
		gojwt.WithIssuedAt(),
		gojwt.WithLeeway(v.cfg.Leeway),
		gojwt.WithTimeFunc(v.cfg.Now),
	)
}

// validSubject accepts what OpenID Connect allows a subject to be.
func validSubject(sub string) bool {
	return sub != "" && len(sub) <= maxSubjectBytes && utf8.ValidString(sub)
}

func invalidToken() error {
	return portrait.Errorf(portrait.EINVALIDTOKEN, "The access token is invalid or has expired.")
}
