package oidctest

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"
)

// The forgeries below are what anyone can make without the provider's
// private key: a verifier must refuse them all.

// Junk returns a token of issuer whose claims would pass, naming key kid,
// with a signature that is noise.
func Junk(issuer, kid string) string {
	enc := base64.RawURLEncoding
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": kid})
	now := time.Now().Unix()
	claims, _ := json.Marshal(map[string]any{"iss": issuer, "sub": "x", "aud": Audience, "iat": now, "exp": now + 300})
	return enc.EncodeToString(header) + "." + enc.EncodeToString(claims) + "." + enc.EncodeToString(make([]byte, 256))
}

// Unsigned returns token's claims under alg "none", without signature.
func Unsigned(token string) string {
	parts := strings.Split(token, ".")
	header, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT"})
	return base64.RawURLEncoding.EncodeToString(header) + "." + parts[min(1, len(parts)-1)] + "."
}

// Tampered returns token with its subject changed, signature kept.
func Tampered(token string) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return token
	}
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var c map[string]any
	json.Unmarshal(payload, &c)
	c["sub"] = "someone-else"
	b, _ := json.Marshal(c)
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString(b) + "." + parts[2]
}

// PublicKeyEncodings are the encodings of an RSA public key that
// HMACWithPublicKey may use as the HMAC secret.
var PublicKeyEncodings = []string{"pkix-pem", "pkcs1-pem", "pkix-der"}

// HMACWithPublicKey returns the alg-confusion forgery of token: its claims
// signed with HS256 whose secret is the provider's public RSA key in the
// given encoding, under the key's kid — what a verifier that lets a token
// choose its algorithm would accept.
func (p *Provider) HMACWithPublicKey(t testing.TB, token, encoding string) string {
	t.Helper()
	pub, kid := firstRSAKey(t, p.KeySet(t))
	var secret []byte
	switch encoding {
	case "pkix-pem":
		der, _ := x509.MarshalPKIXPublicKey(pub)
		secret = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	case "pkcs1-pem":
		secret = pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(pub)})
	case "pkix-der":
		secret, _ = x509.MarshalPKIXPublicKey(pub)
	default:
		t.Fatalf("unknown encoding %q", encoding)
	}
	var claims gojwt.MapClaims
	if _, _, err := gojwt.NewParser().ParseUnverified(token, &claims); err != nil {
		t.Fatal(err)
	}
	forged := gojwt.NewWithClaims(gojwt.SigningMethodHS256, claims)
	forged.Header["kid"] = kid
	s, err := forged.SignedString(secret)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// firstRSAKey returns the first RSA key of a key set, and its key id.
func firstRSAKey(t testing.TB, set []byte) (*rsa.PublicKey, string) {
	t.Helper()
	var jwks struct {
		Keys []struct{ Kty, Kid, N, E string }
	}
	if err := json.Unmarshal(set, &jwks); err != nil || len(jwks.Keys) == 0 {
		t.Fatalf("key set %s: %v", set, err)
	}
	k := jwks.Keys[0]
	n, _ := base64.RawURLEncoding.DecodeString(k.N)
	e, _ := base64.RawURLEncoding.DecodeString(k.E)
	return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}, k.Kid
}
