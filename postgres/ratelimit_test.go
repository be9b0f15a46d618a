package postgres_test

import (
	"testing"
	"time"

	"github.com/portraitsvc/portrait/postgres/pgtest"
)

// TestRateLimitsShared: two stores on one database (two nodes) share one
// allowance per key: 3 a minute in all, not 3 each; keys and limiter
// names count apart; Spend goes into debt; Wait says how long.
func TestRateLimitsShared(t *testing.T) {
	url := pgtest.URL(t)
	a, b := mustOpen(t, url), mustOpen(t, url)
	mustMigrate(t, a)
	ctx := t.Context()
	la, lb := a.RateLimits("login", 3), b.RateLimits("login", 3)
	for i := range 3 {
		l := la
		if i == 1 {
			l = lb
		}
		if d, err := l.Take(ctx, "ada"); d != 0 || err != nil {
			t.Fatalf("take %d of 3: wait %v, %v", i+1, d, err)
		}
	}
	d, err := lb.Take(ctx, "ada")
	if err != nil || d <= 0 || d > 20*time.Second+time.Second {
		t.Fatalf("4th take, on the other node: wait %v, %v; want (0, 20s]", d, err)
	}
	if w, err := la.Wait(ctx, "ada"); err != nil || w <= 0 {
		t.Fatalf("Wait after the allowance is spent: %v, %v", w, err)
	}
	if d, err := la.Take(ctx, "grace"); d != 0 || err != nil {
		t.Fatalf("another key: wait %v, %v", d, err)
	}
	if d, err := a.RateLimits("upload", 3).Take(ctx, "ada"); d != 0 || err != nil {
		t.Fatalf("another limiter, same key: wait %v, %v", d, err)
	}
	for range 5 {
		if err := lb.Spend(ctx, "ada"); err != nil {
			t.Fatal(err)
		}
	}
	if w, _ := la.Wait(ctx, "ada"); w < 100*time.Second {
		t.Fatalf("Wait after 5 spends in debt: %v, want ≥ 100 s (5 more intervals of 20 s)", w)
	}
}
