package http

import (
	"context"
	"math"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/portraitsvc/portrait"
)

// keyedLimiter is a portrait.RateLimiter in one node's memory: a token
// bucket per key, which may spend burst tokens at once, refilled evenly
// over a minute. With N nodes behind a balancer a client gets up to N
// times the allowance (a shared portrait.RateLimits avoids that); its size
// is bounded by evicting keys whose bucket is full again (idle keys).
type keyedLimiter struct {
	mu      sync.Mutex
	limit   rate.Limit
	burst   int
	buckets map[string]*rate.Limiter
	maxKeys int
	now     func() time.Time
}

// newKeyedLimiter allows perMinute events a minute per key, all of them at
// once at most.
func newKeyedLimiter(perMinute int) *keyedLimiter {
	return &keyedLimiter{limit: rate.Limit(float64(perMinute) / 60), burst: perMinute,
		buckets: map[string]*rate.Limiter{}, maxKeys: 100_000, now: time.Now}
}

// memoryLimits is the portrait.RateLimits of limiters in this node's memory.
func memoryLimits(name string, perMinute int) portrait.RateLimiter {
	return newKeyedLimiter(perMinute)
}

// Wait returns how long key must wait for one token; zero if it has one.
func (k *keyedLimiter) Wait(_ context.Context, key string) (time.Duration, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.wait(key), nil
}

func (k *keyedLimiter) wait(key string) time.Duration {
	tokens := k.bucket(key).TokensAt(k.now())
	if tokens >= 1 {
		return 0
	}
	return time.Duration((1 - tokens) / float64(k.limit) * float64(time.Second))
}

// Spend takes one token from key's bucket, into debt if it has none.
func (k *keyedLimiter) Spend(_ context.Context, key string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.bucket(key).ReserveN(k.now(), 1)
	return nil
}

// Take spends a token if key has one and returns 0, or returns the wait.
func (k *keyedLimiter) Take(_ context.Context, key string) (time.Duration, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if d := k.wait(key); d > 0 {
		return d, nil
	}
	k.bucket(key).ReserveN(k.now(), 1)
	return 0, nil
}

func (k *keyedLimiter) bucket(key string) *rate.Limiter {
	b, ok := k.buckets[key]
	if !ok {
		if len(k.buckets) >= k.maxKeys {
			k.evictIdle()
		}
		b = rate.NewLimiter(k.limit, k.burst)
		k.buckets[key] = b
	}
	return b
}

// evictIdle forgets the keys whose bucket is full: forgetting them changes
// nothing. If none is, it forgets all, rather than grow without bound.
func (k *keyedLimiter) evictIdle() {
	now := k.now()
	for key, b := range k.buckets {
		if b.TokensAt(now) >= float64(k.burst) {
			delete(k.buckets, key)
		}
	}
	if len(k.buckets) >= k.maxKeys {
		clear(k.buckets)
	}
}

// unlimited is the RateLimiter of a limit turned off.
type unlimited struct{}

func (unlimited) Wait(context.Context, string) (time.Duration, error) { return 0, nil }
func (unlimited) Spend(context.Context, string) error                 { return nil }
func (unlimited) Take(context.Context, string) (time.Duration, error) { return 0, nil }

// newLimiter returns the limiter of name from limits, or unlimited if
// perMinute <= 0.
func newLimiter(limits portrait.RateLimits, name string, perMinute int) portrait.RateLimiter {
	if perMinute <= 0 {
		return unlimited{}
	}
	return limits(name, perMinute)
}

// rateLimited is the 429 error for a wait of d.
func rateLimited(d time.Duration, what string) error {
	e := portrait.Errorf(portrait.ERATELIMITED, "Too many %s; try again in %d seconds.", what, retrySeconds(d))
	e.RetryAfter = retrySeconds(d)
	return e
}

func retrySeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

// admitOne takes an event from key's allowance, or returns the 429 error
// (or the limiter's error).
func admitOne(ctx context.Context, l portrait.RateLimiter, key, what string) error {
	d, err := l.Take(ctx, key)
	if err != nil {
		return err
	}
	if d > 0 {
		return rateLimited(d, what)
	}
	return nil
}

// checkAllowance returns the 429 error if key must wait before its next
// event (or the limiter's error); it spends nothing.
func checkAllowance(ctx context.Context, l portrait.RateLimiter, key, what string) error {
	d, err := l.Wait(ctx, key)
	if err != nil {
		return err
	}
	if d > 0 {
		return rateLimited(d, what)
	}
	return nil
}

// clientAddr is the address the request came from. Forwarded headers are
// not trusted: behind a proxy, every client shares the proxy's address
// and the per-address limit applies to the proxy as a whole.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// loginThrottle slows password guessing without letting anyone lock a user
// out: failures are counted per (account, client address) pair — an
// attacker elsewhere cannot spend the real user's allowance — and every
// attempt is counted per client address, at ten times that rate.
type loginThrottle struct {
	pairs, addrs portrait.RateLimiter
}

func newLoginThrottle(limits portrait.RateLimits, perMinute int) *loginThrottle {
	return &loginThrottle{pairs: newLimiter(limits, "login-pair", perMinute), addrs: newLimiter(limits, "login-addr", 10*perMinute)}
}

// admit returns a rate_limited error if the attempt must wait.
func (l *loginThrottle) admit(r *http.Request, email string) error {
	addr := clientAddr(r)
	if err := checkAllowance(r.Context(), l.pairs, pairKey(email, addr), "login attempts"); err != nil {
		return err
	}
	return admitOne(r.Context(), l.addrs, addr, "login attempts")
}

// failed counts a failed attempt against the (account, address) pair.
func (l *loginThrottle) failed(r *http.Request, email string) error {
	return l.pairs.Spend(r.Context(), pairKey(email, clientAddr(r)))
}

func pairKey(email, addr string) string { return portrait.NormalizeEmail(email) + "\x00" + addr }
