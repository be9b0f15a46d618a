package http

import (
	"errors"
	"io"
	"net/http"
	"time"
)

// withBodyIdleTimeout closes the connection of a request whose body stops
// arriving: each read of the body may wait at most idle for the client's
// next bytes (the server's read timeout still bounds the whole request).
// A client that announces a body and sends nothing, or stalls midway,
// holds its connection for idle, not for the whole read timeout; the
// handler's read fails with a timeout, answered 408. Once the body has
// ended (or failed) no deadline is set any more: at the end of the body
// net/http clears the deadline itself, to watch the connection for the
// client going away, and must not be cut short. idle <= 0 turns it off.
func withBodyIdleTimeout(idle, readTimeout time.Duration, next http.Handler) http.Handler {
	if idle <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			var total time.Time
			if readTimeout > 0 {
				total = time.Now().Add(readTimeout)
			}
			r.Body = &idleBody{ReadCloser: r.Body, rc: http.NewResponseController(w), idle: idle, total: total}
		}
		next.ServeHTTP(w, r)
	})
}

// idleBody sets the connection's read deadline before each read of the
// body: now + idle, but never past total (zero: no total). After the body
// has returned an error (io.EOF included) it only repeats that error.
type idleBody struct {
	io.ReadCloser
	rc    *http.ResponseController
	idle  time.Duration
	total time.Time
	err   error
}

func (b *idleBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	deadline := time.Now().Add(b.idle)
	if !b.total.IsZero() && b.total.Before(deadline) {
		deadline = b.total
	}
	if err := b.rc.SetReadDeadline(deadline); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return 0, err
	}
	n, err := b.ReadCloser.Read(p)
	b.err = err
	return n, err
}
