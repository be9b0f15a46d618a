package main

import (
	"bytes"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSeedFlow walks the contract as a client would: register, log in,
// upload, fetch the image, replace it, delete it, log out.
func TestSeedFlow(t *testing.T) {
	s := startServer(t, nil)
	a := s.newAccount(t)

	me := do(t, "GET", s.base+"/users/me", a.token, "", nil)
	if me.status != 200 || me.data(t)["profile_image"] != nil {
		t.Fatalf("GET /users/me before any upload: %s", me)
	}
	r := s.uploadFile(t, a.token, photo(t, 800, 600))
	if r.status != 200 {
		t.Fatalf("upload: %s", r)
	}
	assertSeedUser(t, r.data(t), a.id)
	url1 := r.data(t)["profile_image"].(string)
	if !strings.HasPrefix(url1, s.base+"/profileImages/"+a.id+"/") {
		t.Fatalf("profile_image %q is not under %s/profileImages/<user id>/", url1, s.base)
	}
	img := fetchImage(t, url1, "image/jpeg")
	if b := img.Bounds(); b.Dx() != 512 || b.Dy() != 512 {
		t.Fatalf("800×600 upload stored as %v, want 512×512", b.Size())
	}

	r = s.uploadFile(t, a.token, translucentPNG(t, 300, 200))
	url2, _ := r.data(t)["profile_image"].(string)
	if r.status != 200 || url2 == url1 {
		t.Fatalf("replace: %s", r)
	}
	fetchImage(t, url2, "image/png")
	if old := do(t, "GET", url1, "", "", nil); old.status != 404 || old.code(t) != "not_found" {
		t.Fatalf("previous image still served after replace: %s", old)
	}
	if objs, set := s.storedKeys(t), checkSet(t, s.base, a.token); !slices.Equal(objs, set) || len(set) < 2 {
		t.Fatalf("after replace the bucket holds %q, want only the new set %q", objs, set)
	}

	r = do(t, "DELETE", s.base+"/users/image", a.token, "", nil)
	if r.status != 200 || r.data(t)["profile_image"] != nil {
		t.Fatalf("DELETE /users/image: %s", r)
	}
	if objs := s.storedKeys(t); len(objs) != 0 {
		t.Fatalf("after DELETE the bucket holds %v", objs)
	}

	if r := do(t, "POST", s.base+"/auth/logout", a.token, "", nil); r.status != 204 {
		t.Fatalf("logout: %s", r)
	}
	if r := do(t, "GET", s.base+"/users/me", a.token, "", nil); r.status != 401 || r.code(t) != "invalid_token" {
		t.Fatalf("token still accepted after logout: %s", r)
	}
	if tok := s.login(t, a.email, a.password); do(t, "GET", s.base+"/users/me", tok, "", nil).status != 200 {
		t.Fatal("a token issued after logout is rejected")
	}
}

func assertSeedUser(t *testing.T, u map[string]any, id string) {
	t.Helper()
	var keys []string
	for k := range u {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if got := strings.Join(keys, ","); got != "email,first_name,id,last_name,phone_number,profile_image" {
		t.Fatalf("user fields %s, want exactly the contract's six", got)
	}
	if u["id"] != id {
		t.Fatalf("user id %v, want %s", u["id"], id)
	}
}

// fetchImage GETs an image URL, checks the serving headers and decodes it.
func fetchImage(t *testing.T, url, wantType string) image.Image {
	t.Helper()
	r := do(t, "GET", url, "", "", nil)
	want := map[string]string{
		"Content-Type":            wantType,
		"Cache-Control":           "public, max-age=31536000, immutable",
		"X-Content-Type-Options":  "nosniff",
		"Content-Security-Policy": "default-src 'none'; sandbox",
	}
	for h, v := range want {
		if got := r.header.Get(h); got != v {
			t.Errorf("GET image: %s = %q, want %q", h, got, v)
		}
	}
	if r.status != 200 || r.header.Get("ETag") == "" {
		t.Fatalf("GET image: %d, ETag %q", r.status, r.header.Get("ETag"))
	}
	img, format, err := image.Decode(bytes.NewReader(r.body))
	if err != nil || "image/"+format != wantType {
		t.Fatalf("served bytes: format %q err %v, want %s", format, err, wantType)
	}
	if bytes.Contains(r.body, []byte("Exif\x00")) {
		t.Fatal("served image carries EXIF")
	}
	return img
}

func TestServingIsConditionalAndSafe(t *testing.T) {
	s := startServer(t, nil)
	a := s.newAccount(t)
	url := s.uploadFile(t, a.token, photo(t, 64, 64)).data(t)["profile_image"].(string)
	etag := do(t, "GET", url, "", "", nil).header.Get("ETag")

	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("If-None-Match", etag)
	if r := send(t, req); r.status != 304 {
		t.Errorf("If-None-Match with the ETag: %d, want 304", r.status)
	}
	req, _ = http.NewRequest("GET", url, nil)
	req.Header.Set("Range", "bytes=0-9")
	if r := send(t, req); r.status != 206 || len(r.body) != 10 {
		t.Errorf("Range bytes=0-9: %d with %d bytes, want 206 with 10", r.status, len(r.body))
	}
	if r := do(t, "HEAD", url, "", "", nil); r.status != 200 || len(r.body) != 0 {
		t.Errorf("HEAD: %d with %d bytes", r.status, len(r.body))
	}
	for _, path := range []string{
		"/profileImages/" + a.id + "/nope.jpg",
		"/profileImages/../portrait.db",
		"/profileImages/%2e%2e/portrait.db",
		"/profileImages/..%2fportrait.db",
		"/profileImages/" + a.id + "/..%2f..%2fjwt-secret",
		"/profileImages/",
	} {
		if r := do(t, "GET", s.base+path, "", "", nil); r.status != 404 {
			t.Errorf("GET %s: %s, want 404", path, r)
		}
	}
}

// TestConcurrentUploadsLeaveOneObject uploads many images for one user at
// once: every upload succeeds, and afterwards the bucket holds only the
// set of the one the user points at.
func TestConcurrentUploadsLeaveOneObject(t *testing.T) {
	s := startServer(t, nil)
	a := s.newAccount(t)
	const n = 12
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i := range n {
		wg.Go(func() { statuses[i] = s.uploadFile(t, a.token, photo(t, 40+i, 40)).status })
	}
	wg.Wait()
	for i, st := range statuses {
		if st != 200 {
			t.Errorf("upload %d: %d", i, st)
		}
	}
	objs, set := s.storedKeys(t), checkSet(t, s.base, a.token)
	url, _ := do(t, "GET", s.base+"/users/me", a.token, "", nil).data(t)["profile_image"].(string)
	if !slices.Equal(objs, set) || !slices.Contains(set, strings.TrimPrefix(url, s.base+"/")) {
		t.Fatalf("after %d concurrent uploads: objects %q, user points at %q, whose set is %q", n, objs, url, set)
	}
	if r := do(t, "GET", url, "", "", nil); r.status != 200 {
		t.Fatalf("the current image is not served: %s", r)
	}
}

// TestRestartKeepsSessionsAndImages restarts the embedded service on the
// same data dir without a configured secret: tokens and images survive.
func TestRestartKeepsSessionsAndImages(t *testing.T) {
	s := startServer(t, nil)
	a := s.newAccount(t)
	url := s.uploadFile(t, a.token, photo(t, 64, 64)).data(t)["profile_image"].(string)
	s.stop(t)
	s.launch(t)
	if r := do(t, "GET", s.base+"/users/me", a.token, "", nil); r.status != 200 || r.data(t)["profile_image"] != url {
		t.Fatalf("after restart: %s", r)
	}
	if r := do(t, "GET", url, "", "", nil); r.status != 200 {
		t.Fatalf("image after restart: %s", r)
	}
}

// TestMetrics: the /metrics endpoint, on its own address, counts requests
// by route pattern (not raw path) and errors by code.
func TestMetrics(t *testing.T) {
	metricsAddr := freeAddr(t)
	s := startServer(t, map[string]string{"PORTRAIT_METRICS_ADDR": metricsAddr})
	a := s.newAccount(t)
	s.uploadFile(t, a.token, photo(t, 32, 32))
	s.upload(t, a.token, part{"avatar", "a.jpg", "", []byte("x")})
	do(t, "GET", s.base+"/profileImages/"+a.id+"/missing.jpg", "", "", nil)
	body := string(do(t, "GET", "http://"+metricsAddr+"/metrics", "", "", nil).body)
	for _, want := range []string{
		`portrait_http_requests_total{route="PATCH /users/image/upload",status="200"} 1`,
		`portrait_http_requests_total{route="GET /profileImages/{key...}",status="404"} 1`,
		`portrait_errors_total{code="missing_file"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if r := do(t, "GET", s.base+"/metrics", "", "", nil); r.status != 404 {
		t.Errorf("/metrics is exposed on the public address: %d", r.status)
	}
}

// TestGracefulShutdownFinishesUploads stops the server (as SIGTERM does)
// while an upload is half received: the upload still succeeds, and the
// server then exits cleanly.
func TestGracefulShutdownFinishesUploads(t *testing.T) {
	s := startServer(t, nil)
	a := s.newAccount(t)
	ct, body := multipartBody(part{"file", "a.jpg", "", photo(t, 400, 300)})
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("PATCH", s.base+"/users/image/upload", pr)
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.ContentLength = int64(len(body))
	answer := make(chan reply, 1)
	go func() { answer <- send(t, req) }()

	pw.Write(body[:len(body)/2])
	time.Sleep(200 * time.Millisecond) // let the request reach the handler
	s.cancel()
	s.cancel = nil
	time.Sleep(200 * time.Millisecond) // let the shutdown begin
	pw.Write(body[len(body)/2:])
	pw.Close()

	if r := <-answer; r.status != 200 {
		t.Fatalf("upload in flight during shutdown: %s", r)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("run returned %v after a graceful shutdown", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("server did not exit after its last request")
	}
}

// TestImageBaseURL: with a CDN configured, returned image URLs point there.
func TestImageBaseURL(t *testing.T) {
	s := startServer(t, map[string]string{"PORTRAIT_IMAGE_BASE_URL": "https://cdn.example.com/"})
	a := s.newAccount(t)
	url, _ := s.uploadFile(t, a.token, photo(t, 32, 32)).data(t)["profile_image"].(string)
	if !strings.HasPrefix(url, "https://cdn.example.com/profileImages/"+a.id+"/") {
		t.Fatalf("profile_image %q is not under the configured image base URL", url)
	}
	path := strings.TrimPrefix(url, "https://cdn.example.com")
	if r := do(t, "GET", s.base+path, "", "", nil); r.status != 200 {
		t.Fatalf("the node no longer serves %s itself: %s", path, r)
	}
}

// TestShutdownCutsOffStalledUploads: uploads still in flight when the
// shutdown's grace ends are cut off, and the process leaves no upload file
// behind in its data dir.
func TestShutdownCutsOffStalledUploads(t *testing.T) {
	s := startServer(t, map[string]string{"PORTRAIT_SHUTDOWN_TIMEOUT": "500ms", "PORTRAIT_BODY_IDLE_TIMEOUT": "0"})
	a := s.newAccount(t)
	for range 3 {
		startStalledUpload(t, s, a.token, 100<<10)
	}
	s.cancel()
	s.cancel = nil
	select {
	case err := <-s.done:
		if err == nil || !strings.Contains(err.Error(), "shutdown") {
			t.Errorf("run returned %v; want the shutdown's timeout", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("server did not exit after cutting off its uploads")
	}
	if files := walkFiles(filepath.Join(s.dataDir, "tmp")); len(files) != 0 {
		t.Errorf("upload files left after the shutdown: %q", files)
	}
	if entries, _ := os.ReadDir(filepath.Join(s.dataDir, "tmp")); len(entries) != 0 {
		t.Errorf("%d entries left in the spool folder", len(entries))
	}
}
