package jwt

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/portraitsvc/portrait"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

func newIssuer(t *testing.T, now time.Time) *Issuer {
	t.Helper()
	i, err := New(secret, time.Hour, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	i.Now = func() time.Time { return now }
	return i
}

func TestIssueVerifyRoundTrip(t *testing.T) {
	now := time.Now()
	i := newIssuer(t, now)
	tok, err := i.Issue("user-1", 7)
	if err != nil {
		t.Fatal(err)
	}
	c, err := i.Verify(tok)
	if err != nil || c.UserID != "user-1" || c.Version != 7 {
		t.Fatalf("Verify = %+v, %v; want user-1 v7", c, err)
	}
}

func TestShortSecretRefused(t *testing.T) {
	if _, err := New([]byte("short"), time.Hour, 0); err == nil {
		t.Fatal("a 5-byte secret was accepted")
	}
}

// sign builds a token by hand, the way an attacker would.
func sign(t *testing.T, m gojwt.SigningMethod, key any, kid string, c gojwt.MapClaims) string {
	t.Helper()
	tok := gojwt.NewWithClaims(m, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestVerifyRejects(t *testing.T) {
	now := time.Now()
	i := newIssuer(t, now)
	valid := func() gojwt.MapClaims {
		return gojwt.MapClaims{"iss": "portrait", "sub": "user-1", "ver": 1, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	}
	with := func(k string, v any) gojwt.MapClaims {
		c := valid()
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	good := sign(t, gojwt.SigningMethodHS256, secret, i.kid, valid())
	parts := strings.Split(good, ".")
	noneHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT","kid":"` + i.kid + `"}`))

	cases := map[string]string{
		"expired":            sign(t, gojwt.SigningMethodHS256, secret, i.kid, with("exp", now.Add(-time.Minute).Unix())),
		"no exp":             sign(t, gojwt.SigningMethodHS256, secret, i.kid, with("exp", nil)),
		"not yet valid":      sign(t, gojwt.SigningMethodHS256, secret, i.kid, with("nbf", now.Add(time.Hour).Unix())),
		"issued in future":   sign(t, gojwt.SigningMethodHS256, secret, i.kid, with("iat", now.Add(time.Hour).Unix())),
		"wrong issuer":       sign(t, gojwt.SigningMethodHS256, secret, i.kid, with("iss", "someone-else")),
		"no subject":         sign(t, gojwt.SigningMethodHS256, secret, i.kid, with("sub", nil)),
		"wrong secret":       sign(t, gojwt.SigningMethodHS256, []byte("another-secret-another-secret-xx"), i.kid, valid()),
		"unknown kid":        sign(t, gojwt.SigningMethodHS256, secret, "deadbeef", valid()),
		"no kid":             sign(t, gojwt.SigningMethodHS256, secret, "", valid()),
		"HS512":              sign(t, gojwt.SigningMethodHS512, secret, i.kid, valid()),
		"RS256":              sign(t, gojwt.SigningMethodRS256, rsaKey, i.kid, valid()),
		"alg none":           noneHeader + "." + parts[1] + ".",
		"tampered payload":   parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"portrait","sub":"admin","ver":1,"exp":9999999999}`)) + "." + parts[2],
		"garbage":            "not.a.token",
		"empty":              "",
		"signature stripped": parts[0] + "." + parts[1] + ".",
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := i.Verify(tok); portrait.ErrorCode(err) != portrait.EINVALIDTOKEN {
				t.Fatalf("Verify err = %v, want %s", err, portrait.EINVALIDTOKEN)
			}
		})
	}
	if _, err := i.Verify(good); err != nil {
		t.Fatalf("the untampered control token was rejected: %v", err)
	}
}

func TestLeewayToleratesSmallClockSkew(t *testing.T) {
	now := time.Now()
	i := newIssuer(t, now)
	tok, _ := i.Issue("user-1", 1)
	i.Now = func() time.Time { return now.Add(time.Hour + 10*time.Second) }
	if _, err := i.Verify(tok); err != nil {
		t.Fatalf("10 s past expiry with 30 s leeway rejected: %v", err)
	}
	i.Now = func() time.Time { return now.Add(time.Hour + time.Minute) }
	if _, err := i.Verify(tok); err == nil {
		t.Fatal("a minute past expiry accepted")
	}
}

// TestOneSpellingPerToken: the signature's last base64url character
// carries two unused low bits; the other three characters that differ
// from it only there must not validate as the same token.
func TestOneSpellingPerToken(t *testing.T) {
	i := newIssuer(t, time.Now())
	tok, err := i.Issue("user-1", 1)
	if err != nil {
		t.Fatal(err)
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, tok[len(tok)-1])
	for low := range 4 {
		c := alphabet[last&^3|low]
		if c == tok[len(tok)-1] {
			continue
		}
		variant := tok[:len(tok)-1] + string(c)
		if _, err := i.Verify(variant); portrait.ErrorCode(err) != portrait.EINVALIDTOKEN {
			t.Errorf("variant ending in %q validated (err %v)", c, err)
		}
	}
	if _, err := i.Verify(tok); err != nil {
		t.Fatalf("the original token was rejected: %v", err)
	}
}

// TestRotation: a token signed with a previous secret still verifies;
// new tokens are signed with the current one; once the previous secret is
// dropped its tokens fail.
func TestRotation(t *testing.T) {
	oldSecret, newSecret := secret, []byte("fedcba9876543210fedcba9876543210")
	before, err := New(oldSecret, time.Hour, 0)
	if err != nil {
		t.Fatal(err)
	}
	oldTok, _ := before.Issue("user-1", 3)
	during, err := New(newSecret, time.Hour, 0, oldSecret)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := during.Verify(oldTok); err != nil || c.UserID != "user-1" || c.Version != 3 {
		t.Fatalf("token of the previous secret: %+v, %v", c, err)
	}
	newTok, _ := during.Issue("user-1", 3)
	if _, err := before.Verify(newTok); err == nil {
		t.Fatal("a new token verified with the old secret alone: it was not signed with the new one")
	}
	after, _ := New(newSecret, time.Hour, 0)
	if _, err := after.Verify(newTok); err != nil {
		t.Fatalf("new token after rotation: %v", err)
	}
	if _, err := after.Verify(oldTok); portrait.ErrorCode(err) != portrait.EINVALIDTOKEN {
		t.Fatalf("old token verified after its secret was dropped: %v", err)
	}
}

func TestRotationRefusesBadSecrets(t *testing.T) {
	if _, err := New(secret, time.Hour, 0, []byte("short")); err == nil {
		t.Error("a short previous secret was accepted")
	}
	if _, err := New(secret, time.Hour, 0, secret); err == nil {
		t.Error("the signing secret repeated as a previous one was accepted")
	}
}
