package main

import (
	"context"
	"encoding/base64"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/portraitsvc/portrait/sqlite"
)

const testSecret = "test-secret-0123456789abcdef0123456789"

// TestRevokedAndForgedTokens: every token that must not work gets 401 with
// WWW-Authenticate, on a protected route of the running service.
func TestRevokedAndForgedTokens(t *testing.T) {
	s := startServer(t, map[string]string{"PORTRAIT_JWT_SECRET": testSecret})
	loggedOut, changed, deleted := s.newAccount(t), s.newAccount(t), s.newAccount(t)
	kid := tokenKID(t, loggedOut.token)

	do(t, "POST", s.base+"/auth/logout", loggedOut.token, "", nil)
	r := postJSONT(t, s.base+"/auth/password", changed.token, map[string]string{"current_password": changed.password, "new_password": "a brand new password"})
	if r.status != 204 {
		t.Fatalf("password change: %s", r)
	}
	deleteUser(t, s, deleted.id)

	now := time.Now()
	claims := func(sub string, exp time.Time) gojwt.MapClaims {
		return gojwt.MapClaims{"iss": "portrait", "sub": sub, "ver": 0, "iat": now.Add(-2 * time.Hour).Unix(), "exp": exp.Unix()}
	}
	valid := forge(t, kid, testSecret, claims(changed.id, now.Add(time.Hour)))
	parts := strings.Split(valid, ".")
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT","kid":"`+kid+`"}`)) + "." + parts[1] + "."

	for name, tok := range map[string]string{
		"issued before logout":          loggedOut.token,
		"issued before password change": changed.token,
		"of a deleted user":             deleted.token,
		"expired":                       forge(t, kid, testSecret, claims(changed.id, now.Add(-time.Hour))),
		"signed with another secret":    forge(t, kid, "another-secret-0123456789abcdef01234", claims(changed.id, now.Add(time.Hour))),
		"alg none":                      none,
		"version from the future":       forge(t, kid, testSecret, gojwt.MapClaims{"iss": "portrait", "sub": changed.id, "ver": 99, "exp": now.Add(time.Hour).Unix()}),
	} {
		t.Run(name, func(t *testing.T) {
			r := do(t, "GET", s.base+"/users/me", tok, "", nil)
			if r.status != 401 || r.code(t) != "invalid_token" || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("got %s", r)
			}
		})
	}
	if r := do(t, "GET", s.base+"/users/me", s.login(t, changed.email, "a brand new password"), "", nil); r.status != 200 {
		t.Fatalf("new password does not work: %s", r)
	}
}

func tokenKID(t *testing.T, token string) string {
	t.Helper()
	tok, _, err := gojwt.NewParser().ParseUnverified(token, gojwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	return tok.Header["kid"].(string)
}

func forge(t *testing.T, kid, secret string, c gojwt.MapClaims) string {
	t.Helper()
	tok := gojwt.NewWithClaims(gojwt.SigningMethodHS256, c)
	tok.Header["kid"] = kid
	s, err := tok.SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// deleteUser removes a user directly in the running server's database, as
// an operator would.
func deleteUser(t *testing.T, s *testServer, id string) {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(s.dataDir, "portrait.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.DeleteUser(context.Background(), id); err != nil {
		t.Fatal(err)
	}
}

func TestLoginThrottling(t *testing.T) {
	s := startServer(t, map[string]string{"PORTRAIT_LOGIN_PER_MINUTE": "3"})
	a := s.newAccount(t)
	wrong := map[string]string{"email": a.email, "password": "not the password"}
	for i := range 3 {
		if r := postJSONT(t, s.base+"/auth/login", "", wrong); r.status != 401 {
			t.Fatalf("failed attempt %d: %s", i+1, r)
		}
	}
	r := postJSONT(t, s.base+"/auth/login", "", map[string]string{"email": a.email, "password": a.password})
	if r.status != 429 || r.code(t) != "rate_limited" || r.header.Get("Retry-After") == "" {
		t.Fatalf("4th attempt in a minute: %s, Retry-After %q", r, r.header.Get("Retry-After"))
	}
}

// TestOverloadAnswers503 saturates a single decode worker that may not be
// waited for: every upload either succeeds or gets 503 overloaded with
// Retry-After, and at least one of each happens.
func TestOverloadAnswers503(t *testing.T) {
	s := startServer(t, map[string]string{"PORTRAIT_DECODE_WORKERS": "1", "PORTRAIT_DECODE_WAIT": "1ms", "PORTRAIT_UPLOAD_PER_MINUTE": "0"})
	a := s.newAccount(t)
	img := photo(t, 1600, 1200)
	var mu sync.Mutex
	counts := map[int]int{}
	var wg sync.WaitGroup
	for range 12 {
		wg.Go(func() {
			r := s.uploadFile(t, a.token, img)
			if r.status == 503 && (r.code(t) != "overloaded" || r.header.Get("Retry-After") == "") {
				t.Errorf("503 without code overloaded and Retry-After: %s", r)
			}
			mu.Lock()
			counts[r.status]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if counts[200] == 0 || counts[503] == 0 || counts[200]+counts[503] != 12 {
		t.Fatalf("answers by status %v; want only 200s and 503s, some of each", counts)
	}
}

func TestCORSAndSecurityHeaders(t *testing.T) {
	s := startServer(t, map[string]string{"PORTRAIT_CORS_ORIGINS": "https://app.example.com"})
	pre := func(origin string) reply {
		req, _ := http.NewRequest("OPTIONS", s.base+"/users/image/upload", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "PATCH")
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
		return send(t, req)
	}
	r := pre("https://app.example.com")
	if r.status != 204 || r.header.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
		!strings.Contains(r.header.Get("Access-Control-Allow-Methods"), "PATCH") ||
		!strings.Contains(r.header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Fatalf("preflight from an allowed origin: %d %v", r.status, r.header)
	}
	if r := pre("https://evil.example"); r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("preflight from another origin allowed: %v", r.header)
	}
	for _, path := range []string{"/healthz", "/users/me", "/nope", "/openapi.json"} {
		r := do(t, "GET", s.base+path, "", "", nil)
		for _, h := range []string{"X-Content-Type-Options", "X-Frame-Options", "Content-Security-Policy", "Referrer-Policy", "X-Request-Id"} {
			if r.header.Get(h) == "" {
				t.Errorf("GET %s (%d): no %s header", path, r.status, h)
			}
		}
	}
}
