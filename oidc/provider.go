package oidc

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/MicahParks/jwkset"
	gooidc "github.com/coreos/go-oidc/v3/oidc"
	gojwt "github.com/golang-jwt/jwt/v5"
	"golang.org/x/sync/singleflight"
	"golang.org/x/time/rate"

	"github.com/portraitsvc/portrait"
)

// provider is one configured issuer, discovered once.
type provider struct {
	issuer string
	v      *Verifier
	flight singleflight.Group // discoveries

	mu       sync.Mutex
	found    *discovered // nil until a discovery succeeds
	failedAt time.Time   // of the last failed discovery
	failure  error
}

// discovered is what a provider's discovery gave: its endpoints, and its
// key set, loaded.
type discovered struct {
	op      *gooidc.Provider
	jwksURI string
	keys    jwkset.Storage
}

// issuerMismatch is a discovery document that names another issuer.
type issuerMismatch struct{ err error }

func (e *issuerMismatch) Error() string { return e.err.Error() }
func (e *issuerMismatch) Unwrap() error { return e.err }

// ready returns the provider's discovery, discovering it first if no
// discovery succeeded yet. After a failure it answers EUNAVAILABLE at
// once, without calling the provider, until RetryInterval has passed.
// Concurrent callers share one discovery; each stops waiting when its own
// ctx ends.
func (p *provider) ready(ctx context.Context) (*discovered, error) {
	p.mu.Lock()
	found, failedAt, failure := p.found, p.failedAt, p.failure
	p.mu.Unlock()
	if found != nil {
		return found, nil
	}
	if failure != nil && p.v.cfg.Now().Sub(failedAt) < p.v.cfg.RetryInterval {
		return nil, portrait.Unavailable("identity provider", failure)
	}
	ch := p.flight.DoChan("", func() (any, error) { return p.discoverOnce() })
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case r := <-ch:
		if r.Err != nil {
			return nil, portrait.Unavailable("identity provider", r.Err)
		}
		return r.Val.(*discovered), nil
	}
}

// discoverOnce discovers the provider and records the outcome.
func (p *provider) discoverOnce() (*discovered, error) {
	d, err := p.discover()
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.failedAt, p.failure = p.v.cfg.Now(), err
		p.v.cfg.Log.Warn("identity provider discovery failed", "issuer", p.issuer, "err", err)
		return nil, err
	}
	p.found = d
	return d, nil
}

// discover fetches the provider's discovery document, then its key set.
// It runs apart from any request, within twice the timeout.
func (p *provider) discover() (*discovered, error) {
	ctx, cancel := context.WithTimeout(p.v.life, 2*p.v.cfg.Timeout)
	defer cancel()
	op, err := gooidc.NewProvider(gooidc.ClientContext(ctx, p.v.client), p.issuer)
	var mismatch *gooidc.IssuerMismatchError
	if errors.As(err, &mismatch) {
		return nil, &issuerMismatch{err}
	}
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	var meta struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := op.Claims(&meta); err != nil || meta.JWKSURI == "" {
		return nil, errors.Join(errors.New("discovery: no jwks_uri"), err)
	}
	keys, err := p.loadKeys(meta.JWKSURI)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	return &discovered{op: op, jwksURI: meta.JWKSURI, keys: keys}, nil
}

// loadKeys fetches the key set at uri and returns it as a store that
// fetches it again every KeysMaxAge (dropping the keys the provider no
// longer publishes) until the Verifier closes and, for a key id it does
// not hold, at most once per RetryInterval. If the first fetch fails,
// nothing is left running.
func (p *provider) loadKeys(uri string) (jwkset.Storage, error) {
	life, stop := context.WithCancel(p.v.life)
	store, err := jwkset.NewStorageFromHTTP(uri, jwkset.HTTPClientStorageOptions{
		Client: p.v.client, Ctx: life, HTTPTimeout: p.v.cfg.Timeout,
		RefreshInterval:     p.v.cfg.KeysMaxAge,
		RefreshErrorHandler: p.refreshFailed,
	})
	if err != nil {
		stop()
		return nil, err
	}
	context.AfterFunc(p.v.life, stop)
	return jwkset.NewHTTPClient(jwkset.HTTPClientOptions{
		HTTPURLs:          map[string]jwkset.Storage{uri: store},
		RefreshUnknownKID: rate.NewLimiter(rate.Every(p.v.cfg.RetryInterval), 1),
		// Long enough for a fetch, which runs under it; a caller that
		// would wait longer for the limiter is refused at once.
		RateLimitWaitMax: p.v.cfg.Timeout,
	})
}

// refreshFailed records a failed key-set fetch in the fetchResult of the
// verification that caused it, if any, and logs it.
func (p *provider) refreshFailed(ctx context.Context, err error) {
	if r, ok := ctx.Value(fetchResultKey{}).(*fetchResult); ok {
		r.err = err
	}
	p.v.cfg.Log.Warn("identity provider key set fetch failed", "issuer", p.issuer, "err", err)
}

type fetchResultKey struct{}

// fetchResult is where a verification learns that a key-set fetch it
// caused failed: a key unknown for want of the provider, not a forgery.
type fetchResult struct{ err error }

func withFetchResult(ctx context.Context) (context.Context, *fetchResult) {
	r := &fetchResult{}
	return context.WithValue(ctx, fetchResultKey{}, r), r
}

// keyfunc returns the golang-jwt key function of the provider's tokens:
// the public key that the token's kid names (the key set fetched again if
// none does, within the limit), or every key for a token without kid. A
// key meant for encryption, or for another algorithm, is refused.
func (d *discovered) keyfunc(ctx context.Context) gojwt.Keyfunc {
	return func(t *gojwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return d.allKeys(ctx, t.Method.Alg())
		}
		jwk, err := d.keys.KeyRead(ctx, kid)
		if err != nil {
			return nil, err
		}
		if !usableFor(jwk, t.Method.Alg()) {
			return nil, errors.New("the key is not for this algorithm or for signatures")
		}
		return publicKey(jwk), nil
	}
}

// allKeys returns every key held that is usable for alg.
func (d *discovered) allKeys(ctx context.Context, alg string) (any, error) {
	jwks, err := d.keys.KeyReadAll(ctx)
	if err != nil {
		return nil, err
	}
	var set gojwt.VerificationKeySet
	for _, jwk := range jwks {
		if usableFor(jwk, alg) {
			set.Keys = append(set.Keys, publicKey(jwk))
		}
	}
	return set, nil
}

// usableFor reports whether jwk may verify a signature made with alg.
func usableFor(jwk jwkset.JWK, alg string) bool {
	m := jwk.Marshal()
	return m.USE != jwkset.UseEnc && (m.ALG == "" || string(m.ALG) == alg)
}

// publicKey returns jwk's public key, even if the provider published its
// private part by mistake.
func publicKey(jwk jwkset.JWK) any {
	if k, ok := jwk.Key().(interface{ Public() crypto.PublicKey }); ok {
		return k.Public()
	}
	return jwk.Key()
}
