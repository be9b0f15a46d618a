package http

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestBodyIdleTimeoutSparesWorkAfterTheBody: once the body is read, the
// idle deadline no longer applies, so a handler that works longer than it
// afterwards keeps its request context (the server's background read of
// the connection would otherwise time out and cancel it).
func TestBodyIdleTimeoutSparesWorkAfterTheBody(t *testing.T) {
	const idle = 100 * time.Millisecond
	srv := httptest.NewServer(withBodyIdleTimeout(idle, time.Minute, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			t.Errorf("reading the body: %v", err)
		}
		select {
		case <-time.After(5 * idle):
			w.WriteHeader(http.StatusNoContent)
		case <-r.Context().Done():
			t.Errorf("request canceled while working after its body: %v", r.Context().Err())
		}
	})))
	defer srv.Close()
	resp, err := http.Post(srv.URL, "text/plain", strings.NewReader("a complete body"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("status %d, want 204", resp.StatusCode)
	}
}
