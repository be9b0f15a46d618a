package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"maps"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
)

// loadConfig is what `portrait load` drives.
type loadConfig struct {
	URL         string
	Concurrency int
	Users       int
	Requests    int
	Duration    time.Duration
	Image       string
	Width       int
	Height      int
	ServerPID   int
}

const loadUsage = `Usage: portrait load [flags]

Registers users on a running server and uploads images as fast as the
given concurrency allows. On a terminal it shows its progress; at the end
it prints a table of the answers, throughput and latency percentiles. It
exits non-zero if any upload failed.

Flags:
`

// load registers users on a running server and uploads images as fast as
// the given concurrency allows, showing progress on stderr, then prints
// the answers by status, throughput and latency percentiles. It returns an
// error if any upload failed (an answer other than 200, or none).
func load(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var lc loadConfig
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.StringVar(&lc.URL, "url", "http://127.0.0.1:8080", "base URL of the server")
	fs.IntVar(&lc.Concurrency, "concurrency", 16, "uploads in flight at once")
	fs.IntVar(&lc.Users, "users", 8, "accounts to register and spread uploads over")
	fs.IntVar(&lc.Requests, "requests", 0, "stop after this many uploads (0: run for --duration)")
	fs.DurationVar(&lc.Duration, "duration", 30*time.Second, "how long to run when --requests is 0")
	fs.StringVar(&lc.Image, "image", "", "image file to upload (default: a generated JPEG of --width×--height)")
	fs.IntVar(&lc.Width, "width", 4032, "width of the generated JPEG")
	fs.IntVar(&lc.Height, "height", 3024, "height of the generated JPEG")
	fs.IntVar(&lc.ServerPID, "server-pid", 0, "pid of a server on this machine whose resident memory to sample every 10 s (Linux)")
	if err := parseFlags(fs, loadUsage, args, stdout, stderr); err != nil {
		return err
	}
	img, err := loadImage(lc)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "registering %d users at %s…\n", lc.Users, lc.URL)
	tokens, err := registerUsers(ctx, lc.URL, lc.Users)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "uploading a %d-byte image, %d at a time, %s…\n", len(img), lc.Concurrency, lc.extent())
	stopSampling := sampleRSS(lc.ServerPID, 10*time.Second, stdout)
	res := &loadResult{statuses: map[string]int{}}
	stopProgress := res.showProgress(stderr)
	drive(ctx, lc, img, tokens, res)
	stopProgress()
	stopSampling()
	res.print(stdout, lc)
	return res.failure()
}

// extent says how long the run is.
func (lc loadConfig) extent() string {
	if lc.Requests > 0 {
		return fmt.Sprintf("%d uploads", lc.Requests)
	}
	return "for " + lc.Duration.String()
}

func loadImage(lc loadConfig) ([]byte, error) {
	if lc.Image != "" {
		return os.ReadFile(lc.Image)
	}
	return syntheticJPEG(lc.Width, lc.Height)
}

// syntheticJPEG draws a photo-like image: gradients with noise, so that it
// compresses like a real photo rather than like a flat colour.
func syntheticJPEG(w, h int) ([]byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(1, 2))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			n := uint8(r.IntN(32))
			img.SetRGBA(x, y, color.RGBA{uint8(x*255/w) + n, uint8(y*255/h) + n, uint8((x + y) * 255 / (w + h)), 255})
		}
	}
	var buf bytes.Buffer
	err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90})
	return buf.Bytes(), err
}

func registerUsers(ctx context.Context, base string, n int) ([]string, error) {
	tokens := make([]string, n)
	for i := range tokens {
		email := fmt.Sprintf("load-%d-%d@example.com", time.Now().UnixNano(), i)
		creds := map[string]string{"email": email, "password": "load-test-password"}
		reg := map[string]string{"first_name": "Load", "last_name": "Test", "phone_number": "+15550000000",
			"email": email, "password": creds["password"]}
		if _, err := postJSON(ctx, base+"/auth/register", reg); err != nil {
			return nil, fmt.Errorf("register: %w", err)
		}
		body, err := postJSON(ctx, base+"/auth/login", creds)
		if err != nil {
			return nil, fmt.Errorf("login: %w", err)
		}
		var login struct {
			Data struct {
				AccessToken string `json:"access_token"`
			} `json:"data"`
		}
		if err := json.Unmarshal(body, &login); err != nil || login.Data.AccessToken == "" {
			return nil, fmt.Errorf("login: no token in %.200s", body)
		}
		tokens[i] = login.Data.AccessToken
	}
	return tokens, nil
}

func postJSON(ctx context.Context, url string, v any) ([]byte, error) {
	b, _ := json.Marshal(v)
	req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return nil, fmt.Errorf("%s: %d %.200s", url, resp.StatusCode, body)
	}
	return body, nil
}

// loadResult collects what the workers saw.
type loadResult struct {
	mu        sync.Mutex
	latencies []time.Duration
	statuses  map[string]int // by HTTP status, "error" (no answer) or cancelledAtEnd
	ok        int
	start     time.Time
	elapsed   time.Duration
}

// cancelledAtEnd counts the uploads cut off because the run ended.
const cancelledAtEnd = "cancelled at end"

func (r *loadResult) add(d time.Duration, status string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.latencies = append(r.latencies, d)
	r.statuses[status]++
	if status == "200" {
		r.ok++
	}
}

// progress returns the uploads done and answered 200 so far, and the time
// since the start.
func (r *loadResult) progress() (done, ok int, since time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.start.IsZero() {
		since = time.Since(r.start)
	}
	return len(r.latencies), r.ok, since
}

// showProgress writes the progress to w until the returned function is
// called: on a terminal a line rewritten twice a second, elsewhere (a log)
// a line every 10 s.
func (r *loadResult) showProgress(w io.Writer) (stop func()) {
	period, format := 10*time.Second, "%5.0fs  %d uploads, %d answered 200, %d failed, %.1f/s\n"
	tty := isTerminal(w)
	if tty {
		period, format = 500*time.Millisecond, "\r\x1b[K%5.0fs  %d uploads, %d answered 200, %d failed, %.1f/s"
	}
	line := func() {
		done, ok, since := r.progress()
		fmt.Fprintf(w, format, since.Seconds(), done, ok, done-ok, float64(done)/max(since.Seconds(), 0.001))
	}
	return everyPeriod(period, line, func() {
		if tty {
			line()
			fmt.Fprintln(w)
		}
	})
}

// everyPeriod calls tick every period, on a goroutine of its own, until
// the returned function is called, which calls last and returns once it
// has.
func everyPeriod(period time.Duration, tick, last func()) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-done:
				last()
				return
			case <-t.C:
				tick()
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isatty.IsTerminal(f.Fd())
}

// failure returns an error if any upload failed: answered other than 200,
// or not answered (uploads cut off by the end of the run do not count).
func (r *loadResult) failure() error {
	failed := len(r.latencies) - r.ok - r.statuses[cancelledAtEnd]
	switch {
	case len(r.latencies) == 0:
		return errors.New("no upload was made")
	case failed > 0:
		return fmt.Errorf("%d of %d uploads failed", failed, len(r.latencies)-r.statuses[cancelledAtEnd])
	}
	return nil
}

// drive runs the uploads into res.
func drive(ctx context.Context, lc loadConfig, img []byte, tokens []string, res *loadResult) {
	var cancel context.CancelFunc
	if lc.Requests > 0 {
		ctx, cancel = context.WithCancel(ctx)
	} else {
		ctx, cancel = context.WithTimeout(ctx, lc.Duration)
	}
	defer cancel()
	jobs := make(chan string)
	go feed(ctx, lc.Requests, tokens, jobs)
	client := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: lc.Concurrency}}
	res.mu.Lock()
	res.start = time.Now()
	res.mu.Unlock()
	var wg sync.WaitGroup
	for range lc.Concurrency {
		wg.Go(func() {
			for tok := range jobs {
				t0 := time.Now()
				status := uploadOnce(ctx, client, lc.URL, tok, img)
				res.add(time.Since(t0), status)
			}
		})
	}
	wg.Wait()
	res.elapsed = time.Since(res.start)
}

// feed hands out tokens round-robin until n jobs (n > 0) or ctx's end.
func feed(ctx context.Context, n int, tokens []string, jobs chan<- string) {
	defer close(jobs)
	for i := 0; n <= 0 || i < n; i++ {
		select {
		case jobs <- tokens[i%len(tokens)]:
		case <-ctx.Done():
			return
		}
	}
}

// uploadOnce sends one upload and returns its HTTP status, or "error".
func uploadOnce(ctx context.Context, client *http.Client, base, token string, img []byte) string {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "photo.jpg")
	fw.Write(img)
	mw.Close()
	req, _ := http.NewRequestWithContext(ctx, "PATCH", base+"/users/image/upload", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return cancelledAtEnd
		}
		return "error"
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return fmt.Sprint(resp.StatusCode)
}

// print writes the table of answers, the throughput and the latencies.
func (r *loadResult) print(w io.Writer, lc loadConfig) {
	slices.Sort(r.latencies)
	fmt.Fprintf(w, "%d uploads in %.1fs to %s, %d at a time, %d users\n\n", len(r.latencies), r.elapsed.Seconds(), lc.URL, lc.Concurrency, lc.Users)
	statuses := slices.Sorted(maps.Keys(r.statuses))
	width := len("answer")
	for _, status := range statuses {
		width = max(width, len(answerName(status)))
	}
	fmt.Fprintf(w, "%-*s  %8s  %6s\n", width, "answer", "uploads", "share")
	for _, status := range statuses {
		n := r.statuses[status]
		fmt.Fprintf(w, "%-*s  %8d  %5.1f%%\n", width, answerName(status), n, 100*float64(n)/float64(len(r.latencies)))
	}
	fmt.Fprintf(w, "\nthroughput: %.1f uploads/s answered 200\n", float64(r.ok)/r.elapsed.Seconds())
	fmt.Fprintf(w, "latency:    p50 %v, p90 %v, p99 %v, max %v\n", pct(r.latencies, 50), pct(r.latencies, 90), pct(r.latencies, 99), pct(r.latencies, 100))
}

// answerName names a status of loadResult: "503 Service Unavailable".
func answerName(status string) string {
	code, err := strconv.Atoi(status)
	switch {
	case status == "error":
		return "no answer (connection failed)"
	case err != nil:
		return status
	}
	return status + " " + http.StatusText(code)
}

func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p+99)/100 - 1
	return sorted[max(0, min(i, len(sorted)-1))].Round(100 * time.Microsecond)
}

// sampleRSS prints the resident and peak memory of process pid every
// period until the returned function is called, which prints it once more.
// pid 0 samples nothing.
func sampleRSS(pid int, period time.Duration, w io.Writer) (stop func()) {
	if pid == 0 {
		return func() {}
	}
	start := time.Now()
	print := func() {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			return
		}
		var rss, hwm string
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				rss = strings.TrimSpace(v)
			}
			if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				hwm = strings.TrimSpace(v)
			}
		}
		fmt.Fprintf(w, "t=%4.0fs server RSS %s (peak %s)\n", time.Since(start).Seconds(), rss, hwm)
	}
	return everyPeriod(period, print, print)
}
