package portrait

import (
	"context"
	"time"
)

// RateLimiter counts events per key (an account, a client address) against
// an allowance of a fixed number of events a minute, all of which may be
// spent at once and which refills evenly. Every method is safe for
// concurrent use; an implementation shared by several nodes (a database)
// gives a key the same allowance whichever node it reaches.
type RateLimiter interface {
	// Wait returns how long key must wait before it may spend an event;
	// zero if it may now. It spends nothing.
	Wait(ctx context.Context, key string) (time.Duration, error)
	// Spend counts one event against key, into debt if its allowance is
	// spent (debt lengthens the wait: a back-off for clients that keep
	// failing).
	Spend(ctx context.Context, key string) error
	// Take spends one event and returns zero if key may, or else returns
	// the wait and spends nothing, as one atomic step.
	Take(ctx context.Context, key string) (time.Duration, error)
}

// RateLimits returns the RateLimiter of the given name that allows
// perMinute events a minute per key (perMinute > 0). Limiters of
// different names count separately, even for equal keys.
type RateLimits func(name string, perMinute int) RateLimiter
