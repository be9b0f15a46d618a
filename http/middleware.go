package http

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/portraitsvc/portrait"
)

type requestIDKey struct{}

// requestID returns the id withRequestID gave the request, or "".
func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// withRequestID gives each request a fresh random id, echoed in the
// X-Request-Id response header, logged with it, and put in problems.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 8)
		rand.Read(b)
		id := hex.EncodeToString(b)
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

// statusRecorder remembers the status a handler wrote, and the error
// code if writeError answered.
type statusRecorder struct {
	http.ResponseWriter
	status int
	code   string
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// withLogging logs one line per request and records its metrics, and
// turns a panic into a logged 500 instead of a dropped connection.
func withLogging(log *slog.Logger, metrics *Metrics, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				writeError(rec, r, log, fmt.Errorf("panic: %v", v))
			}
			d := time.Since(start)
			metrics.observe(r.Pattern, rec.status, d)
			if rec.code != "" {
				metrics.errorCode(rec.code)
			}
			log.Info("request", "request_id", requestID(r.Context()), "method", r.Method, "path", r.URL.Path,
				"status", rec.status, "code", rec.code, "duration_ms", d.Milliseconds())
		}()
		next.ServeHTTP(rec, r)
	})
}

// SecurityHeaders wraps a handler served apart from the API (the metrics
// listener) with the headers of withSecurityHeaders.
func SecurityHeaders(h http.Handler) http.Handler { return withSecurityHeaders(h) }

// withSecurityHeaders sets headers that keep every response inert in a
// browser; handlers may override them (images relax CORP).
func withSecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// withCORS answers CORS for the allowed origins ("*" allows any): simple
// requests get Access-Control-Allow-Origin, preflights are answered here.
// A preflight from another origin is logged with its origin, so that an
// operator sees which origin to allow, and left to the routes (405).
// Tokens travel in the Authorization header, never cookies, so credentials
// mode is not enabled.
func withCORS(log *slog.Logger, allowed []string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		w.Header().Add("Vary", "Origin")
		preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
		if origin == "" || !(slices.Contains(allowed, "*") || slices.Contains(allowed, origin)) {
			if origin != "" && preflight {
				log.Warn("CORS preflight refused: its origin is not in PORTRAIT_CORS_ORIGINS", "request_id", requestID(r.Context()),
					"origin", origin, "path", r.URL.Path, "allowed", allowed)
			}
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Expose-Headers", "Retry-After, X-Request-Id, ETag, WWW-Authenticate")
		if preflight {
			h.Set("Access-Control-Allow-Methods", "GET, HEAD, POST, PATCH, DELETE")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// methodNotAllowed answers a known path asked with another method.
func methodNotAllowed(log *slog.Logger, allow ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeError(w, r, log, portrait.Errorf(portrait.EMETHODNOTALLOWED, "%s is not allowed here; use %s.", r.Method, strings.Join(allow, " or ")))
	})
}

func notFound(log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, log, portrait.Errorf(portrait.ENOTFOUND, "There is nothing at %s.", r.URL.Path))
	})
}
