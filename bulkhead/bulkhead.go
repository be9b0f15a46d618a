// Package bulkhead keeps a slow or failing dependency from taking the
// service down with it. A Bulkhead bounds the calls made to one dependency
// (the database, the object storage): how many may be outstanding at once,
// in flight or waiting for a connection, and how long each may take. A call
// beyond the bound fails at once, and a call out of time fails, both with
// portrait.EUNAVAILABLE and a Retry-After, so requests are shed instead of
// piling up goroutines, memory and file descriptors behind a frozen server.
//
// Store and Bucket wrap a portrait.UserStore and a portrait.Bucket so that
// every method call goes through a Bulkhead.
package bulkhead

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"

	"github.com/portraitsvc/portrait"
)

// Bulkhead bounds the calls to one dependency. It is safe for concurrent use.
type Bulkhead struct {
	name    string
	timeout time.Duration
	slots   chan struct{}
}

// New returns a Bulkhead for the dependency name ("database", "storage")
// that lets at most max calls be outstanding at once, each for at most
// timeout.
func New(name string, max int, timeout time.Duration) *Bulkhead {
	return &Bulkhead{name: name, timeout: timeout, slots: make(chan struct{}, max)}
}

// Name returns the dependency's name.
func (b *Bulkhead) Name() string { return b.name }

// Outstanding returns how many calls are outstanding now.
func (b *Bulkhead) Outstanding() int { return len(b.slots) }

// Do calls fn with a context that ends after the bulkhead's timeout, or
// fails at once with EUNAVAILABLE if max calls are outstanding. fn's error
// is returned as Classify makes it, unless ctx ended first: then it is
// ctx's error, since the caller went away and nothing was the dependency's
// fault.
func (b *Bulkhead) Do(ctx context.Context, fn func(context.Context) error) error {
	if !b.enter() {
		return b.full()
	}
	defer b.leave()
	call, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	return b.result(ctx, call, fn(call))
}

// enter takes a slot if one is free.
func (b *Bulkhead) enter() bool {
	select {
	case b.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

func (b *Bulkhead) leave() { <-b.slots }

// full is the error of a call shed because max calls are outstanding.
func (b *Bulkhead) full() error {
	return portrait.Unavailable(b.name, fmt.Errorf("bulkhead: %d %s calls outstanding", cap(b.slots), b.name))
}

// result returns the error of a call made under the context call, derived
// from the caller's ctx.
func (b *Bulkhead) result(ctx, call context.Context, err error) error {
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case call.Err() != nil:
		return portrait.Unavailable(b.name, fmt.Errorf("bulkhead: no answer within %v: %w", b.timeout, err))
	}
	return Classify(b.name, err)
}

// Classify returns err as the EUNAVAILABLE error of the dependency name if
// it is a network failure: a refused, reset or broken connection, a
// timeout, an unreachable host. Adapters classify the errors of their own
// protocols (SQLSTATEs, S3 status codes) themselves; other errors are
// returned unchanged.
func Classify(name string, err error) error {
	var netErr net.Error
	switch {
	case errors.As(err, &netErr),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ETIMEDOUT),
		errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return portrait.Unavailable(name, err)
	}
	return err
}
