package http

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/portraitsvc/portrait"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }
func withClock(k *keyedLimiter, c *fakeClock) *keyedLimiter {
	k.now = c.now
	return k
}

// take is Take for limiters that cannot fail.
func take(l portrait.RateLimiter, key string) time.Duration {
	d, _ := l.Take(context.Background(), key)
	return d
}

func TestKeyedLimiterAllowsBurstThenRefills(t *testing.T) {
	clock := &fakeClock{time.Unix(1_700_000_000, 0)}
	k := withClock(newKeyedLimiter(6), clock) // 6 a minute: one every 10 s
	for i := range 6 {
		if d := take(k, "a"); d != 0 {
			t.Fatalf("take %d of the burst: wait %v", i+1, d)
		}
	}
	d := take(k, "a")
	if d <= 0 || d > 10*time.Second {
		t.Fatalf("7th take: wait %v, want (0, 10s]", d)
	}
	if take(k, "b") != 0 {
		t.Fatal("another key was limited by a's spending")
	}
	clock.advance(10 * time.Second)
	if take(k, "a") != 0 {
		t.Fatal("no token after the refill period")
	}
}

func TestKeyedLimiterZeroMeansUnlimited(t *testing.T) {
	k := newLimiter(memoryLimits, "test", 0)
	for range 1000 {
		if take(k, "a") != 0 {
			t.Fatal("limited although disabled")
		}
	}
}

func TestKeyedLimiterBoundsItsMemory(t *testing.T) {
	clock := &fakeClock{time.Unix(1_700_000_000, 0)}
	k := withClock(newKeyedLimiter(60), clock)
	k.maxKeys = 100
	k.Spend(t.Context(), "busy")
	for i := range 1000 {
		k.Wait(t.Context(), string(rune('A'+i)))
	}
	if n := len(k.buckets); n > 100 {
		t.Fatalf("%d keys kept, want at most 100", n)
	}
}

// TestLoginThrottleCannotLockOutOthers: an attacker failing logins for a
// victim's email from one address is throttled; the victim, elsewhere, is not.
func TestLoginThrottleCannotLockOutOthers(t *testing.T) {
	clock := &fakeClock{time.Unix(1_700_000_000, 0)}
	l := newLoginThrottle(memoryLimits, 3)
	withClock(l.pairs.(*keyedLimiter), clock)
	withClock(l.addrs.(*keyedLimiter), clock)
	attacker := httptest.NewRequest("POST", "/auth/login", nil)
	attacker.RemoteAddr = "203.0.113.7:5555"
	victim := httptest.NewRequest("POST", "/auth/login", nil)
	victim.RemoteAddr = "198.51.100.2:4444"
	for range 3 {
		if err := l.admit(attacker, "victim@example.com"); err != nil {
			t.Fatalf("throttled before the allowance was spent: %v", err)
		}
		l.failed(attacker, "victim@example.com")
	}
	err := l.admit(attacker, "VICTIM@example.com")
	var pe *portrait.Error
	if portrait.ErrorCode(err) != portrait.ERATELIMITED {
		t.Fatalf("4th failure in a minute: err %v, want rate_limited", err)
	}
	if pe = err.(*portrait.Error); pe.RetryAfter < 1 {
		t.Fatalf("RetryAfter %d, want >= 1", pe.RetryAfter)
	}
	if err := l.admit(victim, "victim@example.com"); err != nil {
		t.Fatalf("the victim, from their own address, is locked out: %v", err)
	}
}
