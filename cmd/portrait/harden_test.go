package main

import (
	"testing"
)

// TestJWTSecretRotation restarts the server with a new signing secret and
// the old one as a previous secret: tokens issued before still work, and
// once the old secret is dropped they do not.
func TestJWTSecretRotation(t *testing.T) {
	const newSecret = "rotated-secret-9876543210fedcba98765432"
	s := startServer(t, map[string]string{"PORTRAIT_JWT_SECRET": testSecret})
	a := s.newAccount(t)

	s.stop(t)
	s.env["PORTRAIT_JWT_SECRET"], s.env["PORTRAIT_JWT_PREVIOUS_SECRETS"] = newSecret, testSecret
	s.launch(t)
	if r := do(t, "GET", s.base+"/users/me", a.token, "", nil); r.status != 200 {
		t.Fatalf("token of the previous secret during the rotation: %s", r)
	}
	fresh := s.login(t, a.email, a.password)

	s.stop(t)
	delete(s.env, "PORTRAIT_JWT_PREVIOUS_SECRETS")
	s.launch(t)
	if r := do(t, "GET", s.base+"/users/me", fresh, "", nil); r.status != 200 {
		t.Fatalf("token issued during the rotation, after it: %s", r)
	}
	if r := do(t, "GET", s.base+"/users/me", a.token, "", nil); r.status != 401 {
		t.Fatalf("token of the dropped secret: %s", r)
	}
}
