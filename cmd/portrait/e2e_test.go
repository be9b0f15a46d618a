package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"testing"
	"time"

	"github.com/portraitsvc/portrait/internal/testproc"
)

// testServer is `portrait serve` run in-process through run, on loopback.
type testServer struct {
	base    string
	dataDir string
	env     map[string]string
	logs    *testproc.Log
	cancel  context.CancelFunc
	done    chan error
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startServer runs the service with a fresh data dir (unless env names
// one), waits until /healthz answers, and stops it gracefully at cleanup,
// failing the test if it does not stop cleanly.
func startServer(t testing.TB, env map[string]string) *testServer {
	t.Helper()
	addr := freeAddr(t)
	s := &testServer{base: "http://" + addr, dataDir: t.TempDir(), logs: &testproc.Log{}, env: map[string]string{}}
	for k, v := range env {
		s.env[k] = v
	}
	if s.env["PORTRAIT_DATA_DIR"] == "" {
		s.env["PORTRAIT_DATA_DIR"] = s.dataDir
	}
	s.dataDir = s.env["PORTRAIT_DATA_DIR"]
	s.env["PORTRAIT_ADDR"] = addr
	s.launch(t)
	t.Cleanup(func() { s.stop(t) })
	return s
}

func (s *testServer) launch(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel, s.done = cancel, make(chan error, 1)
	getenv := func(k string) string { return s.env[k] }
	go func() { s.done <- run(ctx, []string{"serve"}, getenv, s.logs, s.logs) }()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.done:
			t.Fatalf("server exited before ready: %v\n%s", err, s.logs)
		default:
		}
		if resp, err := http.Get(s.base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("server not ready in 20 s\n%s", s.logs)
}

func (s *testServer) stop(t testing.TB) {
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.cancel = nil
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("server did not stop cleanly: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Errorf("server did not stop in 30 s")
	}
}

// reply is an HTTP answer, read whole.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) String() string { return fmt.Sprintf("%d %.300s", r.status, r.body) }

func (r reply) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, r)
	}
	return m
}

func (r reply) data(t testing.TB) map[string]any {
	t.Helper()
	d, _ := r.json(t)["data"].(map[string]any)
	return d
}

// code returns the problem's code after checking it is a problem document.
func (r reply) code(t testing.TB) string {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json: %s", ct, r)
	}
	m := r.json(t)
	if m["detail"] == "" || m["title"] == "" || m["status"] != float64(r.status) {
		t.Fatalf("incomplete problem document: %s", r)
	}
	c, _ := m["code"].(string)
	return c
}

func do(t testing.TB, method, url, token, ctype string, body io.Reader) reply {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	return send(t, req)
}

// send sends req and reads the whole answer, failing t if the answer is
// not one that the OpenAPI document allows (see checkAnswer).
func send(t testing.TB, req *http.Request) reply {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := reply{resp.StatusCode, resp.Header, b}
	checkAnswer(t, req, r)
	return r
}

func postJSONT(t testing.TB, url, token string, v any) reply {
	t.Helper()
	b, _ := json.Marshal(v)
	return do(t, "POST", url, token, "application/json", bytes.NewReader(b))
}

// part is one part of a multipart body.
type part struct {
	field, filename, ctype string
	data                   []byte
}

func multipartBody(parts ...part) (string, []byte) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q`, p.field))
		if p.filename != "" {
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, p.field, p.filename))
		}
		if p.ctype != "" {
			h.Set("Content-Type", p.ctype)
		}
		pw, _ := w.CreatePart(h)
		pw.Write(p.data)
	}
	w.Close()
	return w.FormDataContentType(), buf.Bytes()
}

func (s *testServer) upload(t testing.TB, token string, parts ...part) reply {
	t.Helper()
	ct, body := multipartBody(parts...)
	return do(t, "PATCH", s.base+"/users/image/upload", token, ct, bytes.NewReader(body))
}

func (s *testServer) uploadFile(t testing.TB, token string, data []byte) reply {
	t.Helper()
	return s.upload(t, token, part{"file", "photo.jpg", "image/jpeg", data})
}

// account is a registered, logged-in user.
type account struct {
	id, email, password, token string
}

func (s *testServer) newAccount(t testing.TB) account {
	t.Helper()
	a := account{email: fmt.Sprintf("user%d@example.com", time.Now().UnixNano()), password: "correct horse battery staple"}
	r := postJSONT(t, s.base+"/auth/register", "", map[string]string{"first_name": "Ada", "last_name": "Lovelace",
		"email": a.email, "phone_number": "+15551234567", "password": a.password})
	if r.status != 201 {
		t.Fatalf("register: %s", r)
	}
	a.id = r.data(t)["id"].(string)
	a.token = s.login(t, a.email, a.password)
	return a
}

func (s *testServer) login(t testing.TB, email, password string) string {
	t.Helper()
	r := postJSONT(t, s.base+"/auth/login", "", map[string]string{"email": email, "password": password})
	if r.status != 200 {
		t.Fatalf("login: %s", r)
	}
	return r.data(t)["access_token"].(string)
}

// photo returns a JPEG of w×h with a gradient, like a small photo.
func photo(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), 128, 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// translucentPNG returns a PNG whose left half is transparent.
func translucentPNG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := w / 2; x < w; x++ {
			img.Set(x, y, color.NRGBA{200, 30, 30, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
