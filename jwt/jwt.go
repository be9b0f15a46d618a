// Package jwt issues and verifies Portrait's access tokens: JWTs signed
// with HMAC-SHA256 through golang-jwt/v5, with the algorithm pinned, an
// expiry required, and a per-user token version so that logout and a
// password change revoke every token issued before.
package jwt

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/portraitsvc/portrait"
)

const issuer = "portrait"

// Issuer signs and verifies tokens with one shared secret. Every node of a
// deployment must be given the same secret.
type Issuer struct {
	secret []byte
	kid    string
	ttl    time.Duration
	leeway time.Duration
	// Now returns the current time; tests replace it.
	Now func() time.Time
}

// Claims are what a verified token says.
type Claims struct {
	UserID  string
	Version int64
}

type claims struct {
	Version int64 `json:"ver"`
	gojwt.RegisteredClaims
}

// MinSecretLen is the shortest secret New accepts: 32 bytes, the size of
// the HMAC-SHA256 output.
const MinSecretLen = 32

// New returns an Issuer whose tokens live for ttl and are checked with the
// given clock leeway. It returns an error for a secret shorter than
// MinSecretLen.
func New(secret []byte, ttl, leeway time.Duration) (*Issuer, error) {
	if len(secret) < MinSecretLen {
		return nil, errors.New("jwt: secret must be at least 32 bytes")
	}
	sum := sha256.Sum256(secret)
	return &Issuer{secret: secret, kid: hex.EncodeToString(sum[:4]), ttl: ttl, leeway: leeway, Now: time.Now}, nil
}

// TTL is how long an issued token is valid.
func (i *Issuer) TTL() time.Duration { return i.ttl }

// Issue returns a signed token for the user at the given token version.
func (i *Issuer) Issue(userID string, version int64) (string, error) {
	now := i.Now()
	c := claims{Version: version, RegisteredClaims: gojwt.RegisteredClaims{
		Issuer:    issuer,
		Subject:   userID,
		IssuedAt:  gojwt.NewNumericDate(now),
		NotBefore: gojwt.NewNumericDate(now),
		ExpiresAt: gojwt.NewNumericDate(now.Add(i.ttl)),
		ID:        strconv.FormatInt(now.UnixNano(), 36),
	}}
	t := gojwt.NewWithClaims(gojwt.SigningMethodHS256, c)
	t.Header["kid"] = i.kid
	return t.SignedString(i.secret)
}

// Verify checks the token's signature (HS256 only: "none", RS256 and every
// other algorithm are refused), its key id, issuer and times (exp is
// required), and returns its claims. Any failure is EINVALIDTOKEN.
func (i *Issuer) Verify(token string) (Claims, error) {
	var c claims
	_, err := gojwt.ParseWithClaims(token, &c, i.key,
		gojwt.WithValidMethods([]string{gojwt.SigningMethodHS256.Alg()}),
		gojwt.WithExpirationRequired(),
		gojwt.WithIssuedAt(),
		gojwt.WithIssuer(issuer),
		gojwt.WithLeeway(i.leeway),
		gojwt.WithTimeFunc(i.Now),
	)
	if err != nil || c.Subject == "" {
		return Claims{}, portrait.Errorf(portrait.EINVALIDTOKEN, "The access token is invalid or has expired.")
	}
	return Claims{UserID: c.Subject, Version: c.Version}, nil
}

func (i *Issuer) key(t *gojwt.Token) (any, error) {
	if kid, _ := t.Header["kid"].(string); kid != i.kid {
		return nil, errors.New("unknown key id")
	}
	return i.secret, nil
}
