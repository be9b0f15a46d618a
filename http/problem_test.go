package http

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/portraitsvc/portrait"
)

func TestWriteError(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	cases := []struct {
		name       string
		ctx        context.Context
		err        error
		status     int
		code       string
		logLevel   string
		hiddenText string
	}{
		{"domain error", context.Background(), portrait.Errorf(portrait.EMISSINGFILE, "No file."), 400, "missing_file", "", ""},
		{"wrapped domain error", context.Background(), fmt.Errorf("upload: %w", portrait.Errorf(portrait.EEMAILTAKEN, "Taken.")), 409, "email_taken", "", ""},
		{"internal error", context.Background(), errors.New("pq: password authentication failed for db at 10.0.0.5"), 500, "internal", "ERROR", "10.0.0.5"},
		{"overload", context.Background(), &portrait.Error{Code: portrait.EOVERLOADED, Message: "Busy.", RetryAfter: 3}, 503, "overloaded", "WARN", ""},
		{"decode deadline", context.Background(), portrait.Errorf(portrait.EDECODETIMEOUT, "Too slow."), 400, "decode_timeout", "", ""},
		{"client went away", canceled, fmt.Errorf("store image: %w", context.Canceled), 499, "request_canceled", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var logs bytes.Buffer
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("GET", "/", nil).WithContext(c.ctx)
			writeError(rec, req, slog.New(slog.NewTextHandler(&logs, nil)), c.err)
			var p problem
			json.Unmarshal(rec.Body.Bytes(), &p)
			if rec.Code != c.status || p.Code != c.code || p.Status != c.status || p.Detail == "" {
				t.Fatalf("got %d %+v, want %d %s", rec.Code, p, c.status, c.code)
			}
			if c.hiddenText != "" && strings.Contains(rec.Body.String(), c.hiddenText) {
				t.Fatalf("internal detail leaked to the client: %s", rec.Body)
			}
			if got := logs.String(); (c.logLevel == "") != (got == "") || !strings.Contains(got, c.logLevel) {
				t.Fatalf("log %q, want level %q", got, c.logLevel)
			}
		})
	}
}

func TestRetryAfterHeader(t *testing.T) {
	rec := httptest.NewRecorder()
	writeError(rec, httptest.NewRequest("GET", "/", nil), slog.New(slog.DiscardHandler), &portrait.Error{Code: portrait.ERATELIMITED, Message: "Slow down.", RetryAfter: 7})
	if rec.Code != 429 || rec.Header().Get("Retry-After") != "7" {
		t.Fatalf("got %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
}
