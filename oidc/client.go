package oidc

import (
	"net/http"
	"time"
)

// newClient returns the client of every call to a provider: each bounded
// by timeout, each answer by maxResponseBytes.
func newClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: boundedTransport{http.DefaultTransport.(*http.Transport).Clone()}}
}

// boundedTransport cuts every response body at maxResponseBytes, with an
// error rather than a silent truncation, and records each status in the
// request's statusResult, if any.
type boundedTransport struct{ base http.RoundTripper }

func (t boundedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if s, ok := req.Context().Value(statusKey{}).(*int); ok {
		*s = resp.StatusCode
	}
	resp.Body = http.MaxBytesReader(nil, resp.Body, maxResponseBytes)
	return resp, nil
}

type statusKey struct{}
