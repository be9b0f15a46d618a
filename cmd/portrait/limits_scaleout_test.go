package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"testing"

	"github.com/portraitsvc/portrait/postgres/pgtest"
)

// TestLimitsAcrossNodes runs two `portrait serve` processes on one
// PostgreSQL schema and spends each limit half on one node, half on the
// other: every limit is one allowance for both nodes together, not one
// per node.
func TestLimitsAcrossNodes(t *testing.T) {
	secret := make([]byte, 32)
	rand.Read(secret)
	shared := []string{"PORTRAIT_DATABASE_URL=" + pgtest.URL(t), "PORTRAIT_JWT_SECRET=" + hex.EncodeToString(secret),
		"PORTRAIT_LOGIN_PER_MINUTE=4", "PORTRAIT_UPLOAD_PER_MINUTE=2", "PORTRAIT_REGISTER_PER_MINUTE=4"}
	nodes := [2]*proc{
		startProc(t, append(shared, "PORTRAIT_DATA_DIR="+t.TempDir())...),
		startProc(t, append(shared, "PORTRAIT_DATA_DIR="+t.TempDir())...),
	}
	a := registerAt(t, nodes[0].base) // registration 1 of 4
	b := registerAt(t, nodes[1].base) // 2 of 4
	on := func(i int) string { return nodes[i%2].base }

	t.Run("registration", func(t *testing.T) {
		for i := 2; i < 4; i++ {
			if r := tryRegister(t, on(i), i); r.status != 201 {
				t.Fatalf("registration %d of 4: %s", i+1, r)
			}
		}
		assertLimited(t, tryRegister(t, on(0), 4), "5th registration, on the first node")
	})
	t.Run("login", func(t *testing.T) {
		for i := range 4 {
			if r := postJSONT(t, on(i)+"/auth/login", "", map[string]string{"email": a.email, "password": "wrong"}); r.status != 401 {
				t.Fatalf("failed login %d: %s", i+1, r)
			}
		}
		assertLimited(t, postJSONT(t, on(0)+"/auth/login", "", map[string]string{"email": a.email, "password": a.password}), "5th login")
	})
	t.Run("password", func(t *testing.T) {
		for i := range 4 {
			r := postJSONT(t, on(i)+"/auth/password", b.token, map[string]string{"current_password": "wrong", "new_password": "a brand new password"})
			if r.status != 401 {
				t.Fatalf("wrong current password %d: %s", i+1, r)
			}
		}
		assertLimited(t, postJSONT(t, on(0)+"/auth/password", b.token, map[string]string{"current_password": b.password, "new_password": "a brand new password"}), "5th password change")
	})
	t.Run("upload", func(t *testing.T) {
		img := photo(t, 32, 32)
		for i := range 2 {
			if r, err := tryUpload(on(i), a.token, img); err != nil || r.status != 200 {
				t.Fatalf("upload %d of 2: %v %v", i+1, r, err)
			}
		}
		r, err := tryUpload(on(0), a.token, img)
		if err != nil {
			t.Fatal(err)
		}
		assertLimited(t, r, "3rd upload")
	})
}

func tryRegister(t *testing.T, base string, i int) reply {
	return postJSONT(t, base+"/auth/register", "", map[string]string{"first_name": "Ada", "last_name": "Lovelace",
		"email": fmt.Sprintf("node-limit-%d@example.com", i), "phone_number": "+15551234567", "password": "correct horse battery"})
}

func assertLimited(t *testing.T, r reply, what string) {
	t.Helper()
	if r.status != http.StatusTooManyRequests || r.code(t) != "rate_limited" || r.header.Get("Retry-After") == "" {
		t.Fatalf("%s: %s, Retry-After %q; want 429 rate_limited", what, r, r.header.Get("Retry-After"))
	}
}
