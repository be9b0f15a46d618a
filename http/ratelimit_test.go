package http

import (
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

func TestKeyedLimiterAllowsBurstThenRefills(t *testing.T) {
	clock := &fakeClock{time.Unix(1_700_000_000, 0)}
	k := withClock(newKeyedLimiter(6), clock) // 6 a minute: one every 10 s
	for i := range 6 {
		if d := k.take("a"); d != 0 {
			t.Fatalf("take %d of the burst: wait %v", i+1, d)
		}
	}
	d := k.take("a")
	if d <= 0 || d > 10*time.Second {
		t.Fatalf("7th take: wait %v, want (0, 10s]", d)
	}
	if k.take("b") != 0 {
		t.Fatal("another key was limited by a's spending")
	}
	clock.advance(10 * time.Second)
	if k.take("a") != 0 {
		t.Fatal("no token after the refill period")
	}
}

func TestKeyedLimiterZeroMeansUnlimited(t *testing.T) {
	k := newKeyedLimiter(0)
	for range 1000 {
		if k.take("a") != 0 {
			t.Fatal("limited although disabled")
		}
	}
}

func TestKeyedLimiterBoundsItsMemory(t *testing.T) {
	clock := &fakeClock{time.Unix(1_700_000_000, 0)}
	k := withClock(newKeyedLimiter(60), clock)
	k.maxKeys = 100
	k.spend("busy")
	for i := range 1000 {
		k.wait(string(rune('A' + i)))
	}
	if n := len(k.buckets); n > 100 {
		t.Fatalf("%d keys kept, want at most 100", n)
	}
}

// TestLoginThrottleCannotLockOutOthers: an attacker failing logins for a
// victim's email from one address is throttled; the victim, elsewhere, is not.
func TestLoginThrottleCannotLockOutOthers(t *testing.T) {
	clock := &fakeClock{time.Unix(1_700_000_000, 0)}
	l := newLoginThrottle(3)
	withClock(l.pairs, clock)
	withClock(l.addrs, clock)
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
