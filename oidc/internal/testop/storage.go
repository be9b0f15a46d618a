package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// user is a test user, registered through POST /test/users.
type user struct {
	Subject     string `json:"sub"`
	Secret      string `json:"secret"`
	GivenName   string `json:"given_name,omitempty"`
	FamilyName  string `json:"family_name,omitempty"`
	Email       string `json:"email,omitempty"`
	PhoneNumber string `json:"phone_number,omitempty"`
	// ClaimsInToken puts the profile in the access token, as Keycloak
	// does; false sends a bare token, as Auth0 does, leaving the profile
	// to userinfo.
	ClaimsInToken bool     `json:"claims_in_token"`
	Audience      []string `json:"audience"`
	// LifetimeSeconds is the access token's lifetime (default 300); a
	// negative one issues tokens already expired.
	LifetimeSeconds int `json:"lifetime_seconds"`
}

// signingKey is an RSA key of the provider, by key id.
type signingKey struct {
	KID string `json:"kid"`
	DER []byte `json:"der"` // PKCS#1
	key *rsa.PrivateKey
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *signingKey) Algorithm() jose.SignatureAlgorithm          { return jose.RS256 }
func (k *signingKey) Key() any                                    { return k.key }
func (k *signingKey) ID() string                                  { return k.KID }
func (k *signingKey) Use() string                                 { return "sig" }

// publicKey is the op.Key of a signing key, as the key set shows it.
type publicKey struct{ *signingKey }

func (k publicKey) Key() any { return &k.key.PublicKey }

// storage is the provider's op.Storage, in memory and in the state file.
type storage struct {
	path   string
	issuer string

	mu    sync.Mutex
	Keys  []*signingKey    `json:"keys"` // Keys[0] signs; all are published
	Users map[string]*user `json:"users"`
	hits  map[string]int   // requests by path
}

var (
	_ op.Storage                  = (*storage)(nil)
	_ op.ClientCredentialsStorage = (*storage)(nil)
)

// loadStorage reads the state at path, or starts one with a fresh key.
func loadStorage(path string) (*storage, error) {
	s := &storage{path: path, Users: map[string]*user{}, hits: map[string]int{}}
	if b, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(b, s); err != nil {
			return nil, err
		}
		for _, k := range s.Keys {
			if k.key, err = x509.ParsePKCS1PrivateKey(k.DER); err != nil {
				return nil, err
			}
		}
	}
	if len(s.Keys) == 0 {
		if err := s.rotate(false); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// save writes the state file; the caller holds s.mu.
func (s *storage) save() error {
	if s.path == "" {
		return nil
	}
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return os.WriteFile(s.path, b, 0o600)
}

// rotate makes a new key the signing one; retire drops the others from
// the key set.
func (s *storage) rotate(retire bool) error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	k := &signingKey{KID: rand.Text()[:16], DER: x509.MarshalPKCS1PrivateKey(key), key: key}
	if retire {
		s.Keys = nil
	}
	s.Keys = append([]*signingKey{k}, s.Keys...)
	return s.save()
}

// cryptoKey is the key of the library's opaque tokens (not used: every
// client gets JWTs), derived from the first key so restarts keep it.
func (s *storage) cryptoKey() [32]byte { return sha256.Sum256(s.Keys[len(s.Keys)-1].DER) }

// counting counts every request by path.
func (s *storage) counting(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		s.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

func (s *storage) user(sub string) (*user, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.Users[sub]
	if !ok {
		return nil, errors.New("no such user")
	}
	return u, nil
}

var errNotSupported = errors.New("not supported by the test provider")

// The authorization-code flow is not served: tests use client credentials.

func (s *storage) CreateAuthRequest(context.Context, *oidc.AuthRequest, string) (op.AuthRequest, error) {
	return nil, errNotSupported
}
func (s *storage) AuthRequestByID(context.Context, string) (op.AuthRequest, error) {
	return nil, errNotSupported
}
func (s *storage) AuthRequestByCode(context.Context, string) (op.AuthRequest, error) {
	return nil, errNotSupported
}
func (s *storage) SaveAuthCode(context.Context, string, string) error { return errNotSupported }
func (s *storage) DeleteAuthRequest(context.Context, string) error    { return errNotSupported }
func (s *storage) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, errNotSupported
}
func (s *storage) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, errNotSupported
}
func (s *storage) TerminateSession(context.Context, string, string) error          { return nil }
func (s *storage) RevokeToken(context.Context, string, string, string) *oidc.Error { return nil }
func (s *storage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}
func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errNotSupported
}
func (s *storage) ValidateJWTProfileScopes(_ context.Context, _ string, scopes []string) ([]string, error) {
	return scopes, nil
}
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}
func (s *storage) SetIntrospectionFromToken(context.Context, *oidc.IntrospectionResponse, string, string, string) error {
	return nil
}
func (s *storage) Health(context.Context) error { return nil }

// CreateAccessToken gives the token of the user req names its lifetime.
func (s *storage) CreateAccessToken(_ context.Context, req op.TokenRequest) (string, time.Time, error) {
	u, err := s.user(req.GetSubject())
	if err != nil {
		return "", time.Time{}, err
	}
	life := time.Duration(u.LifetimeSeconds) * time.Second
	if life == 0 {
		life = 5 * time.Minute
	}
	return rand.Text(), time.Now().Add(life), nil
}

func (s *storage) SigningKey(context.Context) (op.SigningKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Keys[0], nil
}

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *storage) KeySet(context.Context) ([]op.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]op.Key, len(s.Keys))
	for i, k := range s.Keys {
		keys[i] = publicKey{k}
	}
	return keys, nil
}

func (s *storage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	u, err := s.user(id)
	if err != nil {
		return nil, err
	}
	return client{u}, nil
}

func (s *storage) AuthorizeClientIDSecret(ctx context.Context, id, secret string) error {
	_, err := s.ClientCredentials(ctx, id, secret)
	return err
}

func (s *storage) ClientCredentials(_ context.Context, id, secret string) (op.Client, error) {
	u, err := s.user(id)
	if err != nil || u.Secret != secret {
		return nil, errors.New("wrong client id or secret")
	}
	return client{u}, nil
}

func (s *storage) ClientCredentialsTokenRequest(_ context.Context, id string, scopes []string) (op.TokenRequest, error) {
	u, err := s.user(id)
	if err != nil {
		return nil, err
	}
	return &oidc.JWTTokenRequest{Subject: u.Subject, Audience: u.Audience, Scopes: scopes}, nil
}

// SetUserinfoFromToken answers userinfo from the user's profile.
func (s *storage) SetUserinfoFromToken(_ context.Context, info *oidc.UserInfo, _, subject, _ string) error {
	u, err := s.user(subject)
	if err != nil {
		return err
	}
	info.Subject = u.Subject
	info.GivenName, info.FamilyName = u.GivenName, u.FamilyName
	info.Email, info.PhoneNumber = u.Email, u.PhoneNumber
	return nil
}

// GetPrivateClaimsFromScopes puts the profile in the access token of a
// user with ClaimsInToken.
func (s *storage) GetPrivateClaimsFromScopes(_ context.Context, userID, _ string, _ []string) (map[string]any, error) {
	u, err := s.user(userID)
	if err != nil || !u.ClaimsInToken {
		return nil, err
	}
	claims := map[string]any{}
	for k, v := range map[string]string{"given_name": u.GivenName, "family_name": u.FamilyName,
		"email": u.Email, "phone_number": u.PhoneNumber} {
		if v != "" {
			claims[k] = v
		}
	}
	return claims, nil
}
