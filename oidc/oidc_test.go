package oidc_test

import (
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portraitsvc/portrait"
	"github.com/portraitsvc/portrait/oidc"
	"github.com/portraitsvc/portrait/oidc/oidctest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	oidctest.Cleanup()
	os.Exit(code)
}

// newVerifier returns a Verifier of the providers, closed at cleanup.
func newVerifier(t *testing.T, cfg oidc.Config, ops ...*oidctest.Provider) *oidc.Verifier {
	t.Helper()
	for _, op := range ops {
		cfg.Issuers = append(cfg.Issuers, op.Issuer)
	}
	if cfg.Audience == "" {
		cfg.Audience = oidctest.Audience
	}
	v, err := oidc.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

func mustVerify(t *testing.T, v *oidc.Verifier, token string) *portrait.ProviderToken {
	t.Helper()
	pt, err := v.Verify(t.Context(), token)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return pt
}

func assertCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := portrait.ErrorCode(err); got != code {
		t.Errorf("error %v has code %q, want %q", err, got, code)
	}
}

var ada = oidctest.User{Subject: "248289761001", GivenName: "Ada", FamilyName: "Lovelace",
	Email: "ada@example.com", PhoneNumber: "+15551234567", ClaimsInToken: true}

// TestVerifyTokenEndpointToken verifies an access token that the
// provider's token endpoint issued, profile claims included.
func TestVerifyTokenEndpointToken(t *testing.T) {
	op := oidctest.Start(t)
	op.AddUser(t, ada)
	v := newVerifier(t, oidc.Config{}, op)
	pt := mustVerify(t, v, op.Token(t, ada.Subject))
	want := portrait.ProviderToken{Identity: portrait.Identity{Issuer: op.Issuer, Subject: ada.Subject},
		Profile: portrait.Profile{FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.com", PhoneNumber: "+15551234567"}}
	if pt.Identity != want.Identity || pt.Profile != want.Profile {
		t.Errorf("Verify = %+v, want %+v", *pt, want)
	}
	p, err := v.Profile(t.Context(), pt)
	if err != nil || p != want.Profile || op.Hits(t, "/userinfo") != 0 {
		t.Errorf("Profile = %+v, %v after %d userinfo calls; want the token's claims, no call", p, err, op.Hits(t, "/userinfo"))
	}
}

// TestProfileFromUserinfo provisions from userinfo when the token is bare,
// once per identity.
func TestProfileFromUserinfo(t *testing.T) {
	op := oidctest.Start(t)
	bare := ada
	bare.ClaimsInToken = false
	op.AddUser(t, bare)
	v := newVerifier(t, oidc.Config{}, op)
	for range 3 {
		pt := mustVerify(t, v, op.Token(t, ada.Subject))
		if !pt.Profile.Empty() {
			t.Fatalf("bare token has a profile: %+v", pt.Profile)
		}
		p, err := v.Profile(t.Context(), pt)
		if err != nil || p.FirstName != "Ada" || p.Email != "ada@example.com" {
			t.Fatalf("Profile = %+v, %v; want userinfo's", p, err)
		}
	}
	if n := op.Hits(t, "/userinfo"); n != 1 {
		t.Errorf("userinfo called %d times for one identity, want 1 (cached)", n)
	}
}

// TestRefused checks the tokens that must be refused, each 401
// invalid_token, none making the verifier fetch keys again.
func TestRefused(t *testing.T) {
	op := oidctest.Start(t)
	op.AddUser(t, ada)
	expired := ada
	expired.Subject, expired.LifetimeSeconds = "expired", -120
	other := ada
	other.Subject, other.Audience = "other-api", []string{"another-api"}
	op.AddUser(t, expired)
	op.AddUser(t, other)
	v := newVerifier(t, oidc.Config{}, op)
	good := op.Token(t, ada.Subject)
	mustVerify(t, v, good)
	now := time.Now().Unix()
	valid := func(extra map[string]any) map[string]any {
		c := map[string]any{"sub": "x", "aud": oidctest.Audience, "iat": now, "exp": now + 300}
		for k, val := range extra {
			c[k] = val
		}
		return c
	}
	cases := map[string]string{
		"expired":            op.Token(t, expired.Subject),
		"wrong audience":     op.Token(t, other.Subject),
		"not yet valid":      op.Mint(t, valid(map[string]any{"nbf": now + 120})),
		"issued in future":   op.Mint(t, valid(map[string]any{"iat": now + 120})),
		"no exp":             op.Mint(t, map[string]any{"sub": "x", "aud": oidctest.Audience, "iat": now}),
		"no sub":             op.Mint(t, valid(map[string]any{"sub": ""})),
		"long sub":           op.Mint(t, valid(map[string]any{"sub": strings.Repeat("s", 256)})),
		"other issuer":       op.Mint(t, valid(map[string]any{"iss": op.Issuer + "/other"})),
		"alg none":           oidctest.Unsigned(good),
		"tampered":           oidctest.Tampered(good),
		"garbage":            "not.a.token",
		"empty":              "",
		"huge":               strings.Repeat("a", 20<<10),
		"unknown kid, valid": oidctest.Junk(op.Issuer, "no-such-key"),
	}
	for _, enc := range oidctest.PublicKeyEncodings {
		cases["hs256 keyed with the public key, "+enc] = op.HMACWithPublicKey(t, good, enc)
	}
	keysBefore := op.Hits(t, "/keys")
	for name, token := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := v.Verify(t.Context(), token)
			assertCode(t, err, portrait.EINVALIDTOKEN)
		})
	}
	if n := op.Hits(t, "/keys") - keysBefore; n > 1 {
		t.Errorf("refused tokens made %d key-set fetches, want at most 1", n)
	}
}

// TestLeeway accepts tokens just out of their validity, within the
// leeway, as clocks disagree by a few seconds.
func TestLeeway(t *testing.T) {
	op := oidctest.Start(t)
	v := newVerifier(t, oidc.Config{Leeway: 30 * time.Second}, op)
	now := time.Now().Unix()
	for name, c := range map[string]map[string]any{
		"expired 10 s ago":   {"sub": "x", "aud": oidctest.Audience, "iat": now - 60, "exp": now - 10},
		"valid in 10 s":      {"sub": "x", "aud": oidctest.Audience, "iat": now, "nbf": now + 10, "exp": now + 300},
		"expired 60 s ago":   {"sub": "x", "aud": oidctest.Audience, "iat": now - 120, "exp": now - 60},
		"valid in 60 s":      {"sub": "x", "aud": oidctest.Audience, "iat": now, "nbf": now + 60, "exp": now + 300},
		"audience in a list": {"sub": "x", "aud": []string{"a", oidctest.Audience}, "iat": now, "exp": now + 300},
	} {
		_, err := v.Verify(t.Context(), op.Mint(t, c))
		want := ""
		if strings.HasSuffix(name, "60 s ago") || strings.HasSuffix(name, "in 60 s") {
			want = portrait.EINVALIDTOKEN
		}
		if portrait.ErrorCode(err) != want {
			t.Errorf("%s: error %v, want code %q", name, err, want)
		}
	}
}

// TestKeyRotation rotates the provider's signing key under a running
// verifier: tokens of the new key verify at once, with one fetch of the
// key set, and the old key's tokens keep verifying while the provider
// publishes it. A second rotation that retires every other key is picked
// up once RetryInterval has passed since the first, after which the old
// key's tokens are refused.
func TestKeyRotation(t *testing.T) {
	op := oidctest.Start(t)
	op.AddUser(t, ada)
	v := newVerifier(t, oidc.Config{RetryInterval: 200 * time.Millisecond}, op)
	old := op.Token(t, ada.Subject)
	mustVerify(t, v, old)
	fetches := op.Hits(t, "/keys")
	op.Rotate(t, false)
	mustVerify(t, v, op.Token(t, ada.Subject))
	mustVerify(t, v, old)
	if n := op.Hits(t, "/keys") - fetches; n != 1 {
		t.Errorf("the rotation took %d key-set fetches, want 1", n)
	}
	op.Rotate(t, true)
	eventually(t, "the newest key's token verifies", func() bool {
		_, err := v.Verify(t.Context(), op.Token(t, ada.Subject))
		return err == nil
	})
	_, err := v.Verify(t.Context(), old)
	assertCode(t, err, portrait.EINVALIDTOKEN)
}

// TestRetiredKeyDropped checks that a key the provider stopped
// publishing stops verifying once the key set is fetched again, every
// KeysMaxAge, even if no token ever names an unknown key.
func TestRetiredKeyDropped(t *testing.T) {
	op := oidctest.Start(t)
	op.AddUser(t, ada)
	v := newVerifier(t, oidc.Config{RetryInterval: time.Hour, KeysMaxAge: 500 * time.Millisecond}, op)
	old := op.Token(t, ada.Subject)
	mustVerify(t, v, old)
	op.Rotate(t, true)
	eventually(t, "the retired key's token is refused", func() bool {
		_, err := v.Verify(t.Context(), old)
		return portrait.ErrorCode(err) == portrait.EINVALIDTOKEN
	})
	mustVerify(t, v, op.Token(t, ada.Subject))
}

// eventually polls cond until it holds, failing the test after 20 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not so after 20 s: %s", what)
		}
	}
}

// TestUnknownKeyStorm sends many tokens naming keys the provider never
// had, from many goroutines: all are refused, and the provider's key set
// is fetched at most once for them all.
func TestUnknownKeyStorm(t *testing.T) {
	op := oidctest.Start(t)
	op.AddUser(t, ada)
	v := newVerifier(t, oidc.Config{RetryInterval: time.Minute}, op)
	mustVerify(t, v, op.Token(t, ada.Subject))
	before := op.Hits(t, "/keys")
	var accepted atomic.Int64
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 25 {
				_, err := v.Verify(t.Context(), oidctest.Junk(op.Issuer, "kid-"+string(rune('a'+g))+string(rune('a'+i))))
				if portrait.ErrorCode(err) != portrait.EINVALIDTOKEN {
					accepted.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if accepted.Load() != 0 {
		t.Errorf("%d junk tokens were not refused as invalid_token", accepted.Load())
	}
	if n := op.Hits(t, "/keys") - before; n > 1 {
		t.Errorf("400 tokens with unknown key ids made %d key-set fetches, want at most 1", n)
	}
}

// TestUnconfiguredIssuerCallsNobody checks that a token of an issuer that
// is not configured is refused without any call to a provider.
func TestUnconfiguredIssuerCallsNobody(t *testing.T) {
	op := oidctest.Start(t)
	v := newVerifier(t, oidc.Config{Issuers: []string{"https://idp.invalid"}})
	_, err := v.Verify(t.Context(), op.Mint(t, map[string]any{"sub": "x", "aud": oidctest.Audience, "exp": time.Now().Unix() + 60}))
	assertCode(t, err, portrait.EINVALIDTOKEN)
	if n := op.Hits(t, "/.well-known/openid-configuration") + op.Hits(t, "/keys"); n != 0 {
		t.Errorf("%d calls to the provider", n)
	}
}

// TestProviderDown checks that a provider that cannot be reached is
// EUNAVAILABLE (503), not a refused token, wherever it is needed —
// discovery, keys for a new key id, userinfo — and that tokens of keys
// already held keep verifying meanwhile.
func TestProviderDown(t *testing.T) {
	op := oidctest.Start(t)
	op.AddUser(t, ada)
	bare := oidctest.User{Subject: "bare", GivenName: "Grace"}
	op.AddUser(t, bare)
	clock := newClock()
	v := newVerifier(t, oidc.Config{Now: clock.now}, op)
	known := op.Token(t, ada.Subject)
	mustVerify(t, v, known)
	op.Rotate(t, false)
	newKey, bareToken := op.Token(t, ada.Subject), op.Token(t, bare.Subject)
	op.Stop(t)

	mustVerify(t, v, known)
	_, err := v.Verify(t.Context(), newKey)
	assertCode(t, err, portrait.EUNAVAILABLE)
	_, err = v.Profile(t.Context(), &portrait.ProviderToken{Identity: portrait.Identity{Issuer: op.Issuer, Subject: bare.Subject}, Raw: bareToken})
	assertCode(t, err, portrait.EUNAVAILABLE)

	cold := newVerifier(t, oidc.Config{Now: clock.now}, op)
	_, err = cold.Verify(t.Context(), known)
	assertCode(t, err, portrait.EUNAVAILABLE)
	op.Restart(t)
	_, err = cold.Verify(t.Context(), known)
	assertCode(t, err, portrait.EUNAVAILABLE) // no new discovery within RetryInterval
	if n := op.Hits(t, "/.well-known/openid-configuration"); n != 0 {
		t.Errorf("discovery retried %d times within RetryInterval", n)
	}
	clock.advance(oidc.DefaultRetryInterval)
	mustVerify(t, cold, known)
}

// TestIssuerMismatch refuses to start on an issuer that the provider's
// discovery document spells otherwise: no token could verify.
func TestIssuerMismatch(t *testing.T) {
	op := oidctest.Start(t)
	v := newVerifier(t, oidc.Config{Issuers: []string{op.Issuer + "/"}})
	if err := v.Start(t.Context()); err == nil {
		t.Error("Start succeeded with an issuer the provider does not claim")
	}
	good := newVerifier(t, oidc.Config{}, op)
	if err := good.Start(t.Context()); err != nil {
		t.Errorf("Start: %v", err)
	}
}

func TestConfig(t *testing.T) {
	for name, cfg := range map[string]oidc.Config{
		"no issuer":       {Audience: "a"},
		"no audience":     {Issuers: []string{"https://idp.example.com"}},
		"plain http":      {Issuers: []string{"http://idp.example.com"}, Audience: "a"},
		"query":           {Issuers: []string{"https://idp.example.com?x=1"}, Audience: "a"},
		"not a URL":       {Issuers: []string{"idp.example.com"}, Audience: "a"},
		"one bad of two":  {Issuers: []string{"https://a.example.com", "ftp://b.example.com"}, Audience: "a"},
		"user in the URL": {Issuers: []string{"https://me@idp.example.com"}, Audience: "a"},
	} {
		if _, err := oidc.New(cfg); err == nil {
			t.Errorf("%s: New accepted %+v", name, cfg)
		}
	}
	for _, iss := range []string{"https://idp.example.com/realms/main", "https://x.eu.auth0.com/", "http://127.0.0.1:8080", "http://localhost:9000/"} {
		if _, err := oidc.New(oidc.Config{Issuers: []string{iss}, Audience: "a"}); err != nil {
			t.Errorf("New refused %s: %v", iss, err)
		}
	}
}

// clock is a settable clock, ahead of the real one by what was added.
type clock struct{ offset atomic.Int64 }

func newClock() *clock                   { return &clock{} }
func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) advance(d time.Duration) { c.offset.Add(int64(d)) }
