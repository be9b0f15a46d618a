//go:build linux

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// outcome is what one request of a steadyLoad got.
type outcome struct {
	phase, kind string // kind: "upload" or "image"
	status      int    // 0: no answer
	code        string
	retryAfter  string
	took        time.Duration
	end         time.Time
}

// steadyLoad drives uploads, and GETs of the users' current images, against a
// node at a steady rate, as clients would: without a bound of its own on
// the requests in flight, so that only the server can keep them bounded.
type steadyLoad struct {
	t     *testing.T
	base  string
	users []account
	img   []byte

	mu     sync.Mutex
	phase  string
	ended  map[string]time.Time // phase → when the next began
	images map[string]string    // user id → current image URL
	// uploads counts the uploads of each user started, and running those
	// not answered yet: a GET that overlaps one may find its image replaced.
	uploads, running map[string]int
	out              []outcome

	stop chan struct{}
	wg   sync.WaitGroup
}

// startLoad starts rate uploads and rate image GETs a second, in phase.
func startLoad(t *testing.T, base string, users []account, images map[string]string, rate int, phase string) *steadyLoad {
	l := &steadyLoad{t: t, base: base, users: users, img: photo(t, 64, 64), phase: phase, images: images,
		ended: map[string]time.Time{}, uploads: map[string]int{}, running: map[string]int{}, stop: make(chan struct{})}
	l.wg.Go(func() {
		tick := time.NewTicker(time.Second / time.Duration(rate))
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-l.stop:
				return
			case <-tick.C:
			}
			u := users[i%len(users)]
			l.wg.Go(func() { l.upload(u) })
			l.wg.Go(func() { l.getImage(u) })
		}
	})
	return l
}

// set starts a new phase: the requests sent from now on are counted in it.
func (l *steadyLoad) set(phase string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ended[l.phase] = time.Now()
	l.phase = phase
}

func (l *steadyLoad) current() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.phase
}

func (l *steadyLoad) upload(u account) {
	l.mu.Lock()
	phase, start := l.phase, time.Now()
	l.uploads[u.id]++
	l.running[u.id]++
	l.mu.Unlock()
	r, err := tryUpload(l.base, u.token, l.img)
	o := l.record(phase, "upload", r, err, start)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.running[u.id]--
	if url, _ := r.data(l.t)["profile_image"].(string); o.status == http.StatusOK && url != "" {
		l.images[u.id] = url
	}
}

// getImage fetches the user's current image. An image replaced by an
// upload that ran meanwhile is deleted, as it should be: its 404 is not
// counted.
func (l *steadyLoad) getImage(u account) {
	l.mu.Lock()
	url, phase, uploads, running := l.images[u.id], l.phase, l.uploads[u.id], l.running[u.id]
	l.mu.Unlock()
	start := time.Now()
	r, err := tryDo("GET", url, "", "", nil)
	l.mu.Lock()
	overlapped := running > 0 || l.running[u.id] > 0 || l.uploads[u.id] != uploads
	l.mu.Unlock()
	if err == nil && r.status == http.StatusNotFound && overlapped {
		return
	}
	l.record(phase, "image", r, err, start)
}

// record keeps the outcome of a request.
func (l *steadyLoad) record(phase, kind string, r reply, err error, start time.Time) outcome {
	o := outcome{phase: phase, kind: kind, status: r.status, took: time.Since(start), end: time.Now()}
	if err == nil && r.status != http.StatusOK {
		o.code, o.retryAfter = r.code(l.t), r.header.Get("Retry-After")
	}
	l.mu.Lock()
	l.out = append(l.out, o)
	l.mu.Unlock()
	return o
}

// finish stops the load and waits for its requests.
func (l *steadyLoad) finish() []outcome {
	close(l.stop)
	l.wg.Wait()
	return l.out
}

// answeredWithin returns the outcomes of phase answered before the next
// phase began.
func (l *steadyLoad) answeredWithin(phase string) []outcome {
	l.mu.Lock()
	defer l.mu.Unlock()
	var in []outcome
	for _, o := range l.out {
		if o.phase == phase && o.end.Before(l.ended[phase]) {
			in = append(in, o)
		}
	}
	return in
}

// phaseStats sums up the outcomes of one phase and kind.
type phaseStats struct {
	n, ok, shed int
	slowest     time.Duration
	other       []string // answers that are neither 200 nor a 503 with a code and Retry-After
}

func statsOf(out []outcome, phase, kind string) phaseStats {
	var s phaseStats
	for _, o := range out {
		if o.phase != phase || o.kind != kind {
			continue
		}
		s.n++
		s.slowest = max(s.slowest, o.took)
		switch {
		case o.status == http.StatusOK:
			s.ok++
		case o.status == http.StatusServiceUnavailable && o.retryAfter != "" &&
			(o.code == "unavailable" || o.code == "upload_expired"):
			s.shed++
		default:
			s.other = append(s.other, fmt.Sprintf("%d %s", o.status, o.code))
		}
	}
	return s
}

// usageWatch samples a process's goroutines (from its /metrics), open files and
// resident memory (from /proc), keeping the peak of each per phase.
type usageWatch struct {
	pid     int
	metrics string
	mu      sync.Mutex
	phase   string
	peaks   map[string]*peak
	stop    chan struct{}
	done    chan struct{}
}

type peak struct{ goroutines, fds, rssMB int }

func (p peak) String() string {
	return fmt.Sprintf("%d goroutines, %d open files, %d MB RSS", p.goroutines, p.fds, p.rssMB)
}

func watchUsage(pid int, metricsAddr, phase string) *usageWatch {
	u := &usageWatch{pid: pid, metrics: "http://" + metricsAddr + "/metrics", phase: phase,
		peaks: map[string]*peak{}, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(u.done)
		for {
			u.sample()
			select {
			case <-u.stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	return u
}

func (u *usageWatch) set(phase string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.phase = phase
}

func (u *usageWatch) sample() {
	g, fds, rss := goroutines(u.metrics), openFiles(u.pid), rssMB(u.pid)
	u.mu.Lock()
	defer u.mu.Unlock()
	p := u.peaks[u.phase]
	if p == nil {
		p = &peak{}
		u.peaks[u.phase] = p
	}
	p.goroutines, p.fds, p.rssMB = max(p.goroutines, g), max(p.fds, fds), max(p.rssMB, rss)
}

func (u *usageWatch) finish() map[string]*peak {
	close(u.stop)
	<-u.done
	return u.peaks
}

// goroutines reads go_goroutines from a Prometheus endpoint; 0 if it fails.
func goroutines(url string) int {
	r, err := tryDo("GET", url, "", "", nil)
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(r.body)) {
		if v, ok := strings.CutPrefix(line, "go_goroutines "); ok {
			n, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return int(n)
		}
	}
	return 0
}

func openFiles(pid int) int {
	entries, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	return len(entries)
}

func rssMB(pid int) int {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return kb / 1024
		}
	}
	return 0
}

// failureRun is one dependency-failure test: a node under load whose
// dependency is frozen, thawed, killed and started again.
type failureRun struct {
	t       *testing.T
	node    *proc
	env     []string
	metrics string
	users   []account
	images  map[string]string
	load    *steadyLoad
	usage   *usageWatch
}

// newFailureRun starts a node with env (and a metrics listener), registers
// users and gives each an image.
func newFailureRun(t *testing.T, env ...string) *failureRun {
	r := &failureRun{t: t, metrics: freeAddr(t), images: map[string]string{}}
	r.env = append(env, "PORTRAIT_METRICS_ADDR="+r.metrics, "PORTRAIT_UPLOAD_PER_MINUTE=0", "PORTRAIT_LOG_LEVEL=warn")
	r.node = startProc(t, r.env...)
	for range 8 {
		a := registerAt(t, r.node.base)
		up, err := tryUpload(r.node.base, a.token, photo(t, 64, 64))
		if err != nil || up.status != http.StatusOK {
			t.Fatalf("first upload: %v %s", err, up)
		}
		r.images[a.id], _ = up.data(t)["profile_image"].(string)
		r.users = append(r.users, a)
	}
	return r
}

// phases runs the load through each phase in turn: its action, then d of
// load; it returns the outcomes and the usage peaks.
func (r *failureRun) phases(d time.Duration, steps ...step) ([]outcome, map[string]*peak) {
	r.load = startLoad(r.t, r.node.base, r.users, r.images, 8, steps[0].name)
	r.usage = watchUsage(r.node.cmd.Process.Pid, r.metrics, steps[0].name)
	for _, s := range steps {
		r.load.set(s.name)
		r.usage.set(s.name)
		if s.action != nil {
			s.action()
		}
		time.Sleep(d)
	}
	return r.load.finish(), r.usage.finish()
}

// step is a phase of a failureRun.
type step struct {
	name   string
	action func()
}

// checkPhase checks that during phase every request was answered 200 or
// shed with 503 and a Retry-After, within bound, and logs the figures.
func checkPhase(t *testing.T, out []outcome, peaks map[string]*peak, phase string, bound time.Duration) {
	t.Helper()
	for _, kind := range []string{"upload", "image"} {
		s := statsOf(out, phase, kind)
		t.Logf("%-10s %-6s %3d requests: %3d ok, %3d shed (503), slowest %v; peak %v",
			phase, kind, s.n, s.ok, s.shed, s.slowest.Round(time.Millisecond), peaks[phase])
		if len(s.other) > 0 {
			t.Errorf("%s %s: answers other than 200 or 503 unavailable with Retry-After: %q", phase, kind, s.other)
		}
		if s.slowest > bound {
			t.Errorf("%s %s: slowest answer took %v, want at most %v", phase, kind, s.slowest, bound)
		}
	}
}

// checkPeaks checks that no phase took the node past the bounds.
func checkPeaks(t *testing.T, peaks map[string]*peak, bound peak) {
	t.Helper()
	for phase, p := range peaks {
		if p.goroutines > bound.goroutines || p.fds > bound.fds || p.rssMB > bound.rssMB {
			t.Errorf("%s: peak %v; want at most %v", phase, p, bound)
		}
	}
}

// settle stops the node, sweeps with every upload over, checks that a
// second sweep finds nothing left to do, starts the node again and checks
// that every user's image is served, every object of its set too, and that
// storage holds exactly the objects of the sets users point at.
func (r *failureRun) settle(objects func() []string) {
	t := r.t
	t.Helper()
	r.node.stop()
	t.Logf("gc after the failures: %+v", gcReport(t, runPortrait(t, r.env, "gc", "--gc-grace=0")))
	if rep := gcReport(t, runPortrait(t, r.env, "gc", "--gc-grace=0")); rep.Deleted+rep.Retried+rep.Abandoned+rep.Failures != 0 {
		t.Errorf("a second gc still found work: %+v", rep)
	}
	r.node.launch()
	var referenced []string
	for i, u := range r.users {
		img := profileImage(t, r.node.base, u.token)
		if err := served(img); err != nil {
			t.Errorf("user %d: image %s: %v", i, img, err)
		}
		referenced = append(referenced, checkSet(t, r.node.base, u.token)...)
	}
	slices.Sort(referenced)
	if got := objects(); !slices.Equal(got, referenced) {
		t.Errorf("storage holds %q;\nusers point at %q", got, referenced)
	}
}

// localObjects returns the keys of the image files under data/bucket.
func localObjects(t *testing.T, data string) func() []string {
	return func() []string {
		return bucketFiles(t, data, false)
	}
}
