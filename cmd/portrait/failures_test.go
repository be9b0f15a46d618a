//go:build linux

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/portraitsvc/portrait"
	"github.com/portraitsvc/portrait/postgres/pgtest"
	"github.com/portraitsvc/portrait/s3"
	"github.com/portraitsvc/portrait/s3/s3test"
)

// Bounds of the dependency-failure tests. Deadlines are one second, so an
// upload meets a few of them (its write, the cleanup of what it wrote)
// before it is answered in about two seconds; the bound leaves room for a
// loaded machine, and is still far from the minute that requests waited
// without deadlines. The node's goroutines, open files and memory stay
// near what a healthy node under the same load uses. The figures measured
// are logged, and in BENCHMARKS.md.
const (
	failureDeadline = "1s"
	failureBound    = 15 * time.Second
	phaseLength     = 3 * time.Second
)

var usageBound = peak{goroutines: 250, fds: 200, rssMB: 150}

// TestStorageFailures freezes, thaws, kills and restarts the node's S3
// server (a versitygw of the test's own) under a steady load of uploads and
// image downloads. Every request is answered 200, or 503 with a
// Retry-After, within a few deadlines; the node's resources stay bounded;
// readiness says the storage is down, promptly, and comes back on its own;
// afterwards every user's image is served and the bucket holds exactly
// the images users point at.
func TestStorageFailures(t *testing.T) {
	srv := s3test.NewServer(t)
	r := newFailureRun(t, append(srv.Env(), "PORTRAIT_DATA_DIR="+t.TempDir(), "PORTRAIT_STORAGE_URL="+srv.URL(),
		"PORTRAIT_STORAGE_TIMEOUT="+failureDeadline, "PORTRAIT_STORAGE_MAX_CALLS=16")...)
	var frozen, thawed, restarted readinessFigures
	out, peaks := r.phases(phaseLength,
		step{"healthy", nil},
		step{"frozen", func() { srv.Freeze(); frozen = observeOutage(r.node.base) }},
		step{"thawed", func() { srv.Thaw(); thawed.recovery = untilReady(t, r.node.base, time.Minute) }},
		step{"killed", func() { srv.Kill(); frozen.killed = observeOutage(r.node.base).status }},
		step{"restarted", func() { srv.Start(); restarted.recovery = untilReady(t, r.node.base, time.Minute) }},
	)
	checkFailureRun(t, r.load, out, peaks, frozen)
	t.Logf("readiness: frozen %d in %v, killed %d; ready again %v after the thaw, %v after the restart",
		frozen.status, frozen.took, frozen.killed, thawed.recovery, restarted.recovery)
	r.settle(func() []string { return s3Objects(t, srv.Config()) })
}

// TestDatabaseFailures does the same to the node's PostgreSQL (a server of
// the test's own); images stay served from the local folder meanwhile.
func TestDatabaseFailures(t *testing.T) {
	pg := pgtest.NewServer(t)
	data := t.TempDir()
	r := newFailureRun(t, "PORTRAIT_DATA_DIR="+data, "PORTRAIT_DATABASE_URL="+pg.URL()+"&pool_max_conns=4",
		"PORTRAIT_JWT_SECRET="+randomSecret(), "PORTRAIT_DB_TIMEOUT="+failureDeadline, "PORTRAIT_DB_MAX_CALLS=16")
	var frozen, thawed, restarted readinessFigures
	out, peaks := r.phases(phaseLength,
		step{"healthy", nil},
		step{"frozen", func() { pg.Freeze(); frozen = observeOutage(r.node.base) }},
		step{"thawed", func() { pg.Thaw(); thawed.recovery = untilReady(t, r.node.base, time.Minute) }},
		step{"killed", func() { pg.Kill(); frozen.killed = observeOutage(r.node.base).status }},
		step{"restarted", func() { pg.Start(); restarted.recovery = untilReady(t, r.node.base, time.Minute) }},
	)
	checkFailureRun(t, r.load, out, peaks, frozen)
	if s := statsOf(out, "frozen", "image"); s.ok != s.n {
		t.Errorf("images served from the local folder while the database was frozen: %d of %d", s.ok, s.n)
	}
	t.Logf("readiness: frozen %d in %v, killed %d; ready again %v after the thaw, %v after the restart",
		frozen.status, frozen.took, frozen.killed, thawed.recovery, restarted.recovery)
	r.settle(localObjects(t, data))
}

// readinessFigures is what /readyz said during an outage and after it.
type readinessFigures struct {
	status, killed int
	took, recovery time.Duration
}

// observeOutage waits for readiness to probe again (its results are reused
// for two seconds), then asks it once.
func observeOutage(base string) readinessFigures {
	time.Sleep(2100 * time.Millisecond)
	status, took := readiness(base)
	return readinessFigures{status: status, took: took}
}

// checkFailureRun checks every phase of a storage or database failure run.
func checkFailureRun(t *testing.T, l *steadyLoad, out []outcome, peaks map[string]*peak, outage readinessFigures) {
	t.Helper()
	for _, phase := range []string{"healthy", "frozen", "thawed", "killed", "restarted"} {
		checkPhase(t, out, peaks, phase, failureBound)
	}
	for _, phase := range []string{"healthy", "thawed", "restarted"} {
		if s := statsOf(out, phase, "upload"); s.ok == 0 {
			t.Errorf("%s: no upload succeeded", phase)
		}
	}
	if s := statsOf(l.answeredWithin("healthy"), "healthy", "upload"); s.ok != s.n {
		t.Errorf("healthy: %d of %d uploads answered before the failure succeeded", s.ok, s.n)
	}
	if outage.status != http.StatusServiceUnavailable || outage.took > failureBound {
		t.Errorf("readiness during the freeze: %d after %v; want 503 after the probe's 2 s", outage.status, outage.took)
	}
	if outage.killed != http.StatusServiceUnavailable {
		t.Errorf("readiness with the dependency killed: %d, want 503", outage.killed)
	}
	checkPeaks(t, peaks, usageBound)
}

// TestConnectionExhaustion runs two nodes whose pools together want more
// connections than PostgreSQL allows: requests that cannot get a
// connection in time are 503, never 500, both nodes keep serving, and once
// the pools fit, everything succeeds and rows and objects agree.
func TestConnectionExhaustion(t *testing.T) {
	pg := pgtest.NewServer(t, "max_connections=10", "superuser_reserved_connections=0")
	srv := s3test.NewServer(t)
	shared := append(srv.Env(), "PORTRAIT_STORAGE_URL="+srv.URL(), "PORTRAIT_JWT_SECRET="+randomSecret(),
		"PORTRAIT_DB_TIMEOUT="+failureDeadline, "PORTRAIT_UPLOAD_PER_MINUTE=0", "PORTRAIT_LOG_LEVEL=warn")
	node := func(pool string) *proc {
		return startProc(t, slices.Concat(shared, []string{"PORTRAIT_DATA_DIR=" + t.TempDir(),
			"PORTRAIT_DATABASE_URL=" + pg.URL() + "&" + pool})...)
	}
	greedy := []*proc{node("pool_max_conns=20"), node("pool_max_conns=20")}
	users := []account{registerAt(t, greedy[0].base), registerAt(t, greedy[1].base)}
	outs := make([][]outcome, len(greedy))
	var wg sync.WaitGroup
	for i, n := range greedy {
		wg.Go(func() { outs[i] = hammer(t, n.base, users[i], 24, 96) })
	}
	wg.Wait()
	for i, out := range outs {
		s := statsOf(out, "", "upload")
		t.Logf("node %d, pools over the limit: %d uploads, %d ok, %d shed (503), slowest %v", i, s.n, s.ok, s.shed, s.slowest.Round(time.Millisecond))
		if len(s.other) > 0 {
			t.Errorf("node %d: answers other than 200 or 503 with Retry-After: %q", i, s.other)
		}
	}
	for _, n := range greedy {
		n.stop()
	}
	fitting := []*proc{node("pool_max_conns=4"), node("pool_max_conns=4")}
	for i, n := range fitting {
		if s := statsOf(hammer(t, n.base, users[i], 24, 48), "", "upload"); s.ok != s.n {
			t.Errorf("node %d with a pool that fits: %d of %d uploads succeeded", i, s.ok, s.n)
		}
	}
	fitting[1].stop()
	r := &failureRun{t: t, node: fitting[0], users: users,
		env: slices.Concat(shared, []string{"PORTRAIT_DATABASE_URL=" + pg.URL(), "PORTRAIT_DATA_DIR=" + t.TempDir()})}
	r.settle(func() []string { return s3Objects(t, srv.Config()) })
}

// hammer sends n uploads of u through base, at most inFlight at once.
func hammer(t *testing.T, base string, u account, inFlight, n int) []outcome {
	img := photo(t, 64, 64)
	l := &steadyLoad{t: t, images: map[string]string{}}
	sem := make(chan struct{}, inFlight)
	for range n {
		sem <- struct{}{}
		l.wg.Go(func() {
			defer func() { <-sem }()
			start := time.Now()
			r, err := tryUpload(base, u.token, img)
			l.record("", "upload", r, err, start)
		})
	}
	l.wg.Wait()
	return l.out
}

// s3Objects returns the sorted keys of every object in the bucket of c.
func s3Objects(t *testing.T, c s3.Config) []string {
	t.Helper()
	b, err := s3.OpenConfig(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	if err := b.List(context.Background(), "", func(o portrait.ObjectInfo) error {
		keys = append(keys, o.Key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	return keys
}

func randomSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}
