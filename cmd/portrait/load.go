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
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
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

// load registers users on a running server and uploads images as fast as
// the given concurrency allows, then prints throughput, latency
// percentiles and a count of answers by status.
func load(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var lc loadConfig
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&lc.URL, "url", "http://127.0.0.1:8080", "base URL of the server")
	fs.IntVar(&lc.Concurrency, "concurrency", 16, "uploads in flight at once")
	fs.IntVar(&lc.Users, "users", 8, "accounts to register and spread uploads over")
	fs.IntVar(&lc.Requests, "requests", 0, "stop after this many uploads (0: run for --duration)")
	fs.DurationVar(&lc.Duration, "duration", 30*time.Second, "how long to run when --requests is 0")
	fs.StringVar(&lc.Image, "image", "", "image file to upload (default: a generated JPEG of --width×--height)")
	fs.IntVar(&lc.Width, "width", 4032, "width of the generated JPEG")
	fs.IntVar(&lc.Height, "height", 3024, "height of the generated JPEG")
	fs.IntVar(&lc.ServerPID, "server-pid", 0, "pid of a server on this machine whose resident memory to sample every 10 s (Linux)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	img, err := loadImage(lc)
	if err != nil {
		return err
	}
	tokens, err := registerUsers(ctx, lc.URL, lc.Users)
	if err != nil {
		return err
	}
	stopSampling := sampleRSS(lc.ServerPID, 10*time.Second, stdout)
	res := drive(ctx, lc, img, tokens)
	stopSampling()
	res.print(stdout)
	return nil
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
	statuses  map[string]int
	elapsed   time.Duration
}

func (r *loadResult) add(d time.Duration, status string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.latencies = append(r.latencies, d)
	r.statuses[status]++
}

func drive(ctx context.Context, lc loadConfig, img []byte, tokens []string) *loadResult {
	res := &loadResult{statuses: map[string]int{}}
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
	start := time.Now()
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
	res.elapsed = time.Since(start)
	return res
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
			return "cancelled at end"
		}
		return "error"
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return fmt.Sprint(resp.StatusCode)
}

func (r *loadResult) print(w io.Writer) {
	ok := r.statuses["200"]
	slices.Sort(r.latencies)
	fmt.Fprintf(w, "uploads: %d in %.1fs, %.1f uploads/s (200s only)\n", len(r.latencies), r.elapsed.Seconds(), float64(ok)/r.elapsed.Seconds())
	fmt.Fprintf(w, "latency: p50 %v, p90 %v, p99 %v, max %v\n", pct(r.latencies, 50), pct(r.latencies, 90), pct(r.latencies, 99), pct(r.latencies, 100))
	fmt.Fprintf(w, "answers: %v\n", r.statuses)
	shed := r.statuses["503"]
	fmt.Fprintf(w, "shed by overload (503 + Retry-After): %d\n", shed)
	fmt.Fprintf(w, "errors (anything else): %d\n", len(r.latencies)-ok-shed-r.statuses["cancelled at end"])
}

func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p+99)/100 - 1
	return sorted[max(0, min(i, len(sorted)-1))].Round(time.Millisecond)
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
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-done:
				print()
				return
			case <-t.C:
				print()
			}
		}
	})
	return func() { close(done); wg.Wait() }
}
