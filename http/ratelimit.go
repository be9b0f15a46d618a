package http

import (
	"math"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/portraitsvc/portrait"
)

// keyedLimiter is a token bucket per key (an account, a client address): a
// key may spend burst tokens at once, refilled evenly over a minute. It
// lives in one node's memory, so with N nodes behind a balancer a client
// gets up to N times the allowance; its size is bounded by evicting keys
// whose bucket is full again (idle keys).
type keyedLimiter struct {
	mu      sync.Mutex
	limit   rate.Limit
	burst   int
	buckets map[string]*rate.Limiter
	maxKeys int
	now     func() time.Time
}

// newKeyedLimiter allows perMinute events a minute per key, all of them at
// once at most; perMinute <= 0 allows everything.
func newKeyedLimiter(perMinute int) *keyedLimiter {
	return &keyedLimiter{limit: rate.Limit(float64(perMinute) / 60), burst: perMinute,
		buckets: map[string]*rate.Limiter{}, maxKeys: 100_000, now: time.Now}
}

// wait returns how long key must wait for one token; zero if it has one.
// It spends nothing.
func (k *keyedLimiter) wait(key string) time.Duration {
	if k.burst <= 0 {
		return 0
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	b := k.bucket(key)
	tokens := b.TokensAt(k.now())
	if tokens >= 1 {
		return 0
	}
	return time.Duration((1 - tokens) / float64(k.limit) * float64(time.Second))
}

// spend takes one token from key's bucket (it may go into debt, which
// lengthens the wait: a back-off for clients that keep failing).
func (k *keyedLimiter) spend(key string) {
	if k.burst <= 0 {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.bucket(key).ReserveN(k.now(), 1)
}

// take spends a token if key has one and returns 0, or returns the wait.
func (k *keyedLimiter) take(key string) time.Duration {
	if d := k.wait(key); d > 0 {
		return d
	}
	k.spend(key)
	return 0
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

// rateLimited is the 429 error for a wait of d.
func rateLimited(d time.Duration, what string) error {
	e := portrait.Errorf(portrait.ERATELIMITED, "Too many %s; try again in %d seconds.", what, retrySeconds(d))
	e.RetryAfter = retrySeconds(d)
	return e
}

func retrySeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
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
	pairs, addrs *keyedLimiter
}

func newLoginThrottle(perMinute int) *loginThrottle {
	return &loginThrottle{pairs: newKeyedLimiter(perMinute), addrs: newKeyedLimiter(10 * perMinute)}
}

// admit returns a rate_limited error if the attempt must wait.
func (l *loginThrottle) admit(r *http.Request, email string) error {
	addr := clientAddr(r)
	if d := max(l.pairs.wait(pairKey(email, addr)), l.addrs.take(addr)); d > 0 {
		return rateLimited(d, "login attempts")
	}
	return nil
}

// failed counts a failed attempt against the (account, address) pair.
func (l *loginThrottle) failed(r *http.Request, email string) {
	l.pairs.spend(pairKey(email, clientAddr(r)))
}

func pairKey(email, addr string) string { return portrait.NormalizeEmail(email) + "\x00" + addr }
