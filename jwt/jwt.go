// Package jwt issues and verifies Portrait's access tokens: JWTs signed
// with HMAC-SHA256 through golang-jwt/v5, with the algorithm pinned, an
// expiry required, strict base64 (one spelling per token), and a per-user
// token version so that logout and a password change revoke every token
// issued before. Several secrets may verify at once, so that the signing
// secret can be rotated without logging everyone out.
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

// Issuer signs tokens with one secret and verifies them with that secret
// or any of the previous ones, chosen by the token's key id. Every node of
// a deployment must be given the same secrets.
type Issuer struct {
	secret []byte
	kid    string
	// verifiers maps each key id to its secret: the signing one and the
	// previous ones.
	verifiers map[string][]byte
	ttl       time.Duration
	leeway    time.Duration
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

// New returns an Issuer that signs with secret and also verifies tokens
// signed with any of the previous secrets; tokens live for ttl and are
// checked with the given clock leeway. It returns an error for a secret
// shorter than MinSecretLen, or two secrets with the same key id.
func New(secret []byte, ttl, leeway time.Duration, previous ...[]byte) (*Issuer, error) {
	i := &Issuer{secret: secret, kid: keyID(secret), verifiers: map[string][]byte{}, ttl: ttl, leeway: leeway, Now: time.Now}
	for _, s := range append([][]byte{secret}, previous...) {
		if len(s) < MinSecretLen {
			return nil, errors.New("jwt: every secret must be at least 32 bytes")
		}
		if _, dup := i.verifiers[keyID(s)]; dup {
			return nil, errors.New("jwt: two secrets are the same or share a key id")
		}
		i.verifiers[keyID(s)] = s
	}
	return i, nil
}

// keyID names a secret without revealing it: the first 4 bytes of its
// SHA-256, in hex.
func keyID(secret []byte) string {
	sum := sha256.Sum256(secret)
	return hex.EncodeToString(sum[:4])
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
// other algorithm are refused) with the secret its key id names, its
// issuer and times (exp is required), and returns its claims. Segments
// must be strict unpadded base64url: a token has exactly one spelling.
// Any failure is EINVALIDTOKEN.
func (i *Issuer) Verify(token string) (Claims, error) {
	var c claims
	_, err := gojwt.ParseWithClaims(token, &c, i.key,
		gojwt.WithValidMethods([]string{gojwt.SigningMethodHS256.Alg()}),
		gojwt.WithExpirationRequired(),
		gojwt.WithIssuedAt(),
		gojwt.WithIssuer(issuer),
		gojwt.WithLeeway(i.leeway),
		gojwt.WithTimeFunc(i.Now),
		gojwt.WithStrictDecoding(),
	)
	if err != nil || c.Subject == "" {
		return Claims{}, portrait.Errorf(portrait.EINVALIDTOKEN, "The access token is invalid or has expired.")
	}
	return Claims{UserID: c.Subject, Version: c.Version}, nil
}

func (i *Issuer) key(t *gojwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	secret, ok := i.verifiers[kid]
	if !ok {
		return nil, errors.New("unknown key id")
	}
	return secret, nil
}

// Claimed reports whether token says it is one of Portrait's own tokens
// (its iss claim), without verifying anything: it tells Portrait's tokens
// from identity providers' before either is checked.
func Claimed(token string) bool {
	var c gojwt.RegisteredClaims
	_, _, err := gojwt.NewParser().ParseUnverified(token, &c)
	return err == nil && c.Issuer == issuer
}
