package http

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/portraitsvc/portrait"
)

// Check is a dependency that readiness reports on: Probe returns nil when
// the dependency serves (for the database: accepts a write).
type Check struct {
	Name  string
	Probe func(context.Context) error
}

// Readiness bounds of /readyz.
const (
	// probeTimeout is the longest a probe may take; a slower dependency
	// is reported unavailable.
	probeTimeout = 2 * time.Second
	// probeEvery is how long a result is reused: at most one round of
	// probes, database write included, runs per period however often
	// /readyz is asked.
	probeEvery = 2 * time.Second
)

// checkResult is one dependency's line of the readiness report.
type checkResult struct {
	Status     string `json:"status"` // "ok" or "unavailable"
	DurationMS int64  `json:"duration_ms"`
	err        error
}

// readiness runs the checks at most once per probeEvery, all at once, each
// within probeTimeout, and shares the result between concurrent requests.
type readiness struct {
	checks []Check
	log    *slog.Logger
	mu     sync.Mutex // held while probing
	at     time.Time
	last   map[string]checkResult
}

// report returns the latest results, probing first if they are older than
// probeEvery.
func (r *readiness) report(ctx context.Context) map[string]checkResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	if time.Since(r.at) < probeEvery {
		return r.last
	}
	r.last, r.at = r.probe(context.WithoutCancel(ctx)), time.Now()
	for name, res := range r.last {
		if res.err != nil {
			r.log.Warn("readiness check failed", "dependency", name, "duration_ms", res.DurationMS, "err", res.err)
		}
	}
	return r.last
}

// probe runs every check concurrently, each within probeTimeout.
func (r *readiness) probe(ctx context.Context) map[string]checkResult {
	results := make([]checkResult, len(r.checks))
	var wg sync.WaitGroup
	for i, c := range r.checks {
		wg.Go(func() { results[i] = runCheck(ctx, c) })
	}
	wg.Wait()
	out := make(map[string]checkResult, len(r.checks))
	for i, c := range r.checks {
		out[c.Name] = results[i]
	}
	return out
}

// runCheck probes c within probeTimeout; a probe that does not return in
// time is left to finish on its own.
func runCheck(ctx context.Context, c Check) checkResult {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	start := time.Now()
	errc := make(chan error, 1)
	go func() { errc <- c.Probe(ctx) }()
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		err = ctx.Err()
	}
	res := checkResult{Status: "ok", DurationMS: time.Since(start).Milliseconds(), err: err}
	if err != nil {
		res.Status = "unavailable"
	}
	return res
}

// handleReady answers 200 with every check's result when all pass, and 503
// unavailable listing them otherwise.
func handleReady(log *slog.Logger, checks []Check) http.Handler {
	r := &readiness{checks: checks, log: log}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		results := r.report(req.Context())
		for name, res := range results {
			if res.err != nil {
				writeError(w, req, log, &readinessError{
					err:    portrait.Unavailable(name, res.err),
					Checks: results,
				})
				return
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "checks": results})
	})
}

// readinessError is an EUNAVAILABLE error that lists the checks' results.
type readinessError struct {
	err    error
	Checks map[string]checkResult
}

func (e *readinessError) Error() string { return e.err.Error() }
func (e *readinessError) Unwrap() error { return e.err }

// handleLive answers 200 while the process serves HTTP: a liveness probe
// that never depends on anything else, so that an orchestrator restarts a
// stuck process, not one whose database is down.
func handleLive() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}
