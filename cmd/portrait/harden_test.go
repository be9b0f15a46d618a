package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/portraitsvc/portrait/argon2id"
	"github.com/portraitsvc/portrait/sqlite"
)

// TestJWTSecretRotation restarts the server with a new signing secret and
// the old one as a previous secret: tokens issued before still work, and
// once the old secret is dropped they do not.
func TestJWTSecretRotation(t *testing.T) {
	const newSecret = "rotated-secret-9876543210fedcba98765432"
	s := startServer(t, map[string]string{"PORTRAIT_JWT_SECRET": testSecret})
	a := s.newAccount(t)

	s.stop(t)
	s.env["PORTRAIT_JWT_SECRET"], s.env["PORTRAIT_JWT_PREVIOUS_SECRETS"] = newSecret, testSecret
	s.launch(t)
	if r := do(t, "GET", s.base+"/users/me", a.token, "", nil); r.status != 200 {
		t.Fatalf("token of the previous secret during the rotation: %s", r)
	}
	fresh := s.login(t, a.email, a.password)

	s.stop(t)
	delete(s.env, "PORTRAIT_JWT_PREVIOUS_SECRETS")
	s.launch(t)
	if r := do(t, "GET", s.base+"/users/me", fresh, "", nil); r.status != 200 {
		t.Fatalf("token issued during the rotation, after it: %s", r)
	}
	if r := do(t, "GET", s.base+"/users/me", a.token, "", nil); r.status != 401 {
		t.Fatalf("token of the dropped secret: %s", r)
	}
}

// TestJSONBodiesHaveOneMeaning: a member given twice, or in another case,
// could be read differently by another parser (a proxy, a WAF, a log
// pipeline); every JSON endpoint refuses both with invalid_request.
func TestJSONBodiesHaveOneMeaning(t *testing.T) {
	s := startServer(t, nil)
	a := s.newAccount(t)
	reg := `"first_name":"Eve","last_name":"X","phone_number":"+15551234567","password":"correct horse battery"`
	cases := []struct{ name, path, token, body string }{
		{"register, email twice", "/auth/register", "", `{` + reg + `,"email":"eve@example.com","email":"` + a.email + `"}`},
		{"register, EMAIL", "/auth/register", "", `{` + reg + `,"EMAIL":"eve2@example.com"}`},
		{"register, First_Name", "/auth/register", "", `{"First_Name":"Eve","last_name":"X","email":"eve3@example.com","phone_number":"+15551234567","password":"correct horse battery"}`},
		{"login, password twice", "/auth/login", "", `{"email":"` + a.email + `","password":"wrong","password":"` + a.password + `"}`},
		{"login, Email", "/auth/login", "", `{"Email":"` + a.email + `","password":"` + a.password + `"}`},
		{"password, new_password twice", "/auth/password", a.token, `{"current_password":"` + a.password + `","new_password":"first new password","new_password":"second new password"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := do(t, "POST", s.base+c.path, c.token, "application/json", strings.NewReader(c.body))
			if r.status != 400 || r.code(t) != "invalid_request" {
				t.Fatalf("got %s, want 400 invalid_request", r)
			}
		})
	}
	if r := postJSONT(t, s.base+"/auth/login", "", map[string]string{"email": a.email, "password": a.password}); r.status != 200 {
		t.Fatalf("the account's password changed or it cannot log in: %s", r)
	}
}

// TestPasswordChangeThrottled: a stolen token cannot guess the current
// password without limit; after PORTRAIT_LOGIN_PER_MINUTE wrong ones the
// user's next attempts get 429, even with the right password, and another
// user is not affected.
func TestPasswordChangeThrottled(t *testing.T) {
	s := startServer(t, map[string]string{"PORTRAIT_LOGIN_PER_MINUTE": "3"})
	victim, other := s.newAccount(t), s.newAccount(t)
	change := func(a account, current string) reply {
		return postJSONT(t, s.base+"/auth/password", a.token, map[string]string{"current_password": current, "new_password": "a brand new password"})
	}
	for i := range 3 {
		if r := change(victim, "guess number "+strconv.Itoa(i)); r.status != 401 || r.code(t) != "invalid_credentials" {
			t.Fatalf("wrong guess %d: %s", i+1, r)
		}
	}
	r := change(victim, victim.password)
	if r.status != 429 || r.code(t) != "rate_limited" || r.header.Get("Retry-After") == "" {
		t.Fatalf("4th attempt in a minute: %s, Retry-After %q", r, r.header.Get("Retry-After"))
	}
	if r := change(other, other.password); r.status != 204 {
		t.Fatalf("another user's password change: %s", r)
	}
}

// TestRegistrationLimitedPerAddress: PORTRAIT_REGISTER_PER_MINUTE
// registrations a minute per client address, then 429 with Retry-After;
// 0 turns the limit off.
func TestRegistrationLimitedPerAddress(t *testing.T) {
	register := func(s *testServer, i int) reply {
		return postJSONT(t, s.base+"/auth/register", "", map[string]string{"first_name": "Ada", "last_name": "Lovelace",
			"email": fmt.Sprintf("reg%d@example.com", i), "phone_number": "+15551234567", "password": "correct horse battery"})
	}
	s := startServer(t, map[string]string{"PORTRAIT_REGISTER_PER_MINUTE": "3"})
	for i := range 3 {
		if r := register(s, i); r.status != 201 {
			t.Fatalf("registration %d: %s", i+1, r)
		}
	}
	r := register(s, 3)
	if r.status != 429 || r.code(t) != "rate_limited" || r.header.Get("Retry-After") == "" {
		t.Fatalf("4th registration in a minute: %s", r)
	}
	off := startServer(t, map[string]string{"PORTRAIT_REGISTER_PER_MINUTE": "0"})
	for i := range 15 {
		if r := register(off, i); r.status != 201 {
			t.Fatalf("registration %d with the limit off: %s", i+1, r)
		}
	}
}

// TestLoginUpgradesWeakHash: a hash made with weaker Argon2id parameters
// (as an older release or an imported account would have) is replaced at
// the next successful login by one with today's parameters, and the
// user's other sessions stay logged in.
func TestLoginUpgradesWeakHash(t *testing.T) {
	s := startServer(t, nil)
	a := s.newAccount(t)
	weak := argon2id.Params{MemoryKiB: 8 << 10, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}
	weakHash, err := argon2id.New(weak, 1).Hash(t.Context(), a.password)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(filepath.Join(s.dataDir, "portrait.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	before, err := st.UserByID(t.Context(), a.id)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := st.RehashPassword(t.Context(), a.id, before.PasswordHash, weakHash); !ok || err != nil {
		t.Fatalf("planting the weak hash: %v, %v", ok, err)
	}

	s.login(t, a.email, a.password)
	after, err := st.UserByID(t.Context(), a.id)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(after.PasswordHash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash after login %q, want today's parameters m=19456,t=2,p=1", after.PasswordHash)
	}
	if after.TokenVersion != before.TokenVersion {
		t.Fatalf("token version %d → %d: the rehash revoked sessions", before.TokenVersion, after.TokenVersion)
	}
	if r := do(t, "GET", s.base+"/users/me", a.token, "", nil); r.status != 200 {
		t.Fatalf("the session from before the rehash: %s", r)
	}
	s.login(t, a.email, a.password)
}

const bombConns = 100 // stalled header-bomb connections at once

// TestHeaderBombMemory opens bombConns uploads to a `portrait serve`
// process, each sending one part's header line and then stalling with the
// connection open, and checks that the server's peak resident memory grows
// by less than 64 MiB: with 4 MiB of header each (refused past the cap),
// and with 7 KiB each (under the cap, so the connections stay parked in
// the header parser). It grew by ~4 MiB per connection when part headers
// were bounded only by Go's 10 MiB.
func TestHeaderBombMemory(t *testing.T) {
	p := startProc(t, "PORTRAIT_DATA_DIR="+t.TempDir(), "PORTRAIT_LOG_LEVEL=warn")
	a := registerAt(t, p.base)
	for _, c := range []struct {
		what   string
		size   int
		inBody bool
	}{{"part header", 4 << 20, false}, {"part header", 7 << 10, false}, {"file data (spooled)", 1 << 20, true}} {
		before := peakRSS(t, p)
		headerBombs(t, p, a.token, c.size, c.inBody)
		after := peakRSS(t, p)
		t.Logf("%d stalled connections with %d KiB of %s each: server peak RSS %d MiB → %d MiB",
			bombConns, c.size>>10, c.what, before>>20, after>>20)
		if grown := after - before; grown > 64<<20 {
			t.Errorf("peak RSS grew by %d MiB under %d stalled uploads with %d KiB of %s; want < 64 MiB", grown>>20, bombConns, c.size>>10, c.what)
		}
	}
	// The bombs leave nothing behind: the server answers its users, and
	// its readiness (a committed write to the database and the folder,
	// which a disk busy with other work may slow past the probe's 2 s) is
	// back soon after.
	if r, err := tryDo("GET", p.base+"/users/me", a.token, "", nil); err != nil || r.status != 200 {
		t.Fatalf("GET /users/me after the header bombs: %v %v", r, err)
	}
	t.Logf("ready %v after the bombs ended", untilReady(t, p.base, 30*time.Second))
}

// headerBombs opens bombConns connections that each send an upload's
// request headers and size bytes of a part header line (or, inBody, of
// the file part's data), then stall; two seconds later it closes them.
func headerBombs(t *testing.T, p *proc, token string, size int, inBody bool) {
	head := fmt.Sprintf("PATCH /users/image/upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: %d\r\n\r\n"+
		"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"", token, 16<<20)
	if inBody {
		head += "a.jpg\"\r\n\r\n"
	}
	filler := bytes.Repeat([]byte("x"), min(size, 64<<10))
	var wg sync.WaitGroup
	release := make(chan struct{})
	for range bombConns {
		conn, err := net.Dial("tcp", strings.TrimPrefix(p.base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		wg.Go(func() {
			conn.SetWriteDeadline(time.Now().Add(30 * time.Second))
			io.WriteString(conn, head)
			for sent := 0; sent < size; sent += len(filler) {
				if _, err := conn.Write(filler); err != nil {
					return // the server refused the part and closed: what we want
				}
			}
			<-release // stall, connection open
		})
	}
	time.Sleep(2 * time.Second) // let the server read what it will
	close(release)
	wg.Wait()
}

// peakRSS reads the process's peak resident set size (VmHWM), in bytes.
func peakRSS(t *testing.T, p *proc) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		t.Skipf("no /proc to read the server's memory from: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM %q: %v", v, err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc/<pid>/status")
	return 0
}

// TestStalledBodyClosedAfterIdleTimeout: a request that announces a body
// and sends nothing (or stops midway) is answered 408 after
// PORTRAIT_BODY_IDLE_TIMEOUT, not held for the 2-minute read timeout.
func TestStalledBodyClosedAfterIdleTimeout(t *testing.T) {
	s := startServer(t, map[string]string{"PORTRAIT_BODY_IDLE_TIMEOUT": "1s", "PORTRAIT_READ_TIMEOUT": "2m"})
	a := s.newAccount(t)
	ct, body := multipartBody(part{"file", "a.jpg", "", photo(t, 64, 64)})
	upload := fmt.Sprintf("PATCH /users/image/upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", a.token, ct, len(body))
	cases := []struct{ name, head, sent string }{
		{"upload, no body", upload, ""},
		{"upload, stalled midway", upload, string(body[:len(body)/2])},
		{"register, no body", "POST /auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := stalledRequest(s, c.head+c.sent)
			if err != nil || r.StatusCode != 408 {
				t.Fatalf("got %v, %v; want 408 within the test's 30 s (read timeout 2 min)", r, err)
			}
		})
	}
}

// stalledRequest writes raw and then nothing more, with the connection
// left open, and reads the answer (30 s at most), which must be one that
// the OpenAPI document allows (see recordAnswer).
func stalledRequest(s *testServer, raw string) (*http.Response, error) {
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.base, "http://"))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(conn, raw); err != nil {
		return nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if req, perr := http.ReadRequest(bufio.NewReader(strings.NewReader(raw))); err == nil && perr == nil {
		recordAnswer(req, reply{resp.StatusCode, resp.Header, b})
	}
	return resp, err
}

// TestRangeRequestsCannotAmplify: many tiny or overlapping ranges are
// coalesced, too many disjoint ones get the whole image, so no answer is
// much larger than the image itself; ordinary ranges still work.
func TestRangeRequestsCannotAmplify(t *testing.T) {
	s := startServer(t, map[string]string{"PORTRAIT_UPLOAD_PER_MINUTE": "0"})
	a := s.newAccount(t)
	url, _ := s.uploadFile(t, a.token, photo(t, 400, 400)).data(t)["profile_image"].(string)
	img := do(t, "GET", url, "", "", nil).body
	size := len(img)
	get := func(rng string) reply {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Range", rng)
		return send(t, req)
	}
	spaced := make([]string, 20)
	for i := range spaced {
		spaced[i] = fmt.Sprintf("%d-%d", i*size/20, i*size/20)
	}
	cases := []struct {
		name, rng string
		status    int
		body      []byte
	}{
		{"16000 × 0-0", "bytes=" + strings.Repeat("0-0,", 15999) + "0-0", 206, img[:1]},
		{"2000 × 0-0 (fewer bytes than the image)", "bytes=" + strings.Repeat("0-0,", 1999) + "0-0", 206, img[:1]},
		{"overlapping", "bytes=0-99,50-149,10-20", 206, img[:150]},
		{"20 disjoint", "bytes=" + strings.Join(spaced, ","), 200, img},
		{"one range", "bytes=100-199", 206, img[100:200]},
		{"suffix", "bytes=-10", 206, img[size-10:]},
		{"past the end", fmt.Sprintf("bytes=%d-", size+10), 416, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := get(c.rng)
			if r.status != c.status {
				t.Fatalf("status %d, want %d (%d bytes of a %d-byte image)", r.status, c.status, len(r.body), size)
			}
			if c.body != nil && !bytes.Equal(r.body, c.body) {
				t.Fatalf("%d bytes (Content-Type %s), want %d", len(r.body), r.header.Get("Content-Type"), len(c.body))
			}
		})
	}
	two := get("bytes=0-9,1000-1009")
	if two.status != 206 || len(two.body) > 1000 || !strings.HasPrefix(two.header.Get("Content-Type"), "multipart/byteranges") {
		t.Fatalf("two distant ranges: %d, %d bytes, %s", two.status, len(two.body), two.header.Get("Content-Type"))
	}
}

// TestSpoolBoundsUploadsInFlight: stalled uploads can hold at most
// PORTRAIT_SPOOL_BYTES of disk; past it another user's upload gets 503
// unavailable with Retry-After and a logged cause (not 400), keeps their
// image, and succeeds once the stalled upload is gone.
func TestSpoolBoundsUploadsInFlight(t *testing.T) {
	s := startServer(t, map[string]string{"PORTRAIT_SPOOL_BYTES": fmt.Sprint(1 << 20), "PORTRAIT_UPLOAD_PER_MINUTE": "0"})
	staller, other := s.newAccount(t), s.newAccount(t)
	before := uploadedImage(t, s, other)

	conn := startStalledUpload(t, s, staller.token, 900<<10)
	big := append(photo(t, 64, 64), make([]byte, 300<<10)...) // a JPEG with 300 KB after its end
	r := s.uploadFile(t, other.token, big)
	if r.status != 503 || r.code(t) != "unavailable" || r.header.Get("Retry-After") == "" {
		t.Fatalf("upload with the spool full: %s, Retry-After %q; want 503 unavailable with Retry-After", r, r.header.Get("Retry-After"))
	}
	if !strings.Contains(s.logs.String(), "upload spool full") {
		t.Errorf("the cause of the 503 is not in the log:\n%s", s.logs.Tail(2000))
	}
	if got := profileImage(t, s.base, other.token); got != before {
		t.Fatalf("profile_image %q after the refused upload, want %q", got, before)
	}
	conn.Close()
	waitNoSpoolFiles(t, s)
	if r := s.uploadFile(t, other.token, big); r.status != 200 {
		t.Fatalf("upload once the spool has room again: %s", r)
	}
}

// uploadedImage uploads a small photo as a's image and returns its URL.
func uploadedImage(t *testing.T, s *testServer, a account) string {
	t.Helper()
	r := s.uploadFile(t, a.token, photo(t, 32, 32))
	url, _ := r.data(t)["profile_image"].(string)
	if r.status != 200 || url == "" {
		t.Fatalf("upload: %s", r)
	}
	return url
}

// startStalledUpload sends an upload whose file part stops after n bytes,
// with the connection left open, and waits until the server has spooled
// them.
func startStalledUpload(t *testing.T, s *testServer, token string, n int) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "PATCH /users/image/upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: %d\r\n\r\n"+
		"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\n\r\n", token, 2<<20)
	conn.Write(make([]byte, n))
	for deadline := time.Now().Add(10 * time.Second); spooledBytes(t, s) < int64(n)*9/10; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the server spooled %d of the %d bytes sent", spooledBytes(t, s), n)
		}
	}
	return conn
}

// spooledBytes is the size of the uploads being received: the files under
// <data dir>/tmp, in the server's folder there.
func spooledBytes(t *testing.T, s *testServer) int64 {
	var n int64
	for _, f := range walkFiles(filepath.Join(s.dataDir, "tmp")) {
		if info, err := os.Stat(f); err == nil {
			n += info.Size()
		}
	}
	return n
}

// waitNoSpoolFiles waits until the server has removed every upload file.
func waitNoSpoolFiles(t *testing.T, s *testServer) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		files := walkFiles(filepath.Join(s.dataDir, "tmp"))
		if len(files) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("upload files left in the spool: %q", files)
		}
	}
}

// TestFullDisk runs the server on a real 16 MiB tmpfs and fills it. An
// upload is then 503 unavailable with Retry-After and the cause in the
// log, never a 400; registration is never a 400 or a 500 either; the
// user's image is kept and served; nothing is left half-written; and once
// space is freed, uploads work again. It mounts the tmpfs itself, so it
// needs root (CI runs as root); elsewhere it skips.
func TestFullDisk(t *testing.T) {
	dir := mountTmpfs(t, "16m")
	s := startServer(t, map[string]string{"PORTRAIT_DATA_DIR": dir, "PORTRAIT_UPLOAD_PER_MINUTE": "0", "PORTRAIT_REGISTER_PER_MINUTE": "0"})
	a := s.newAccount(t)
	image := uploadedImage(t, s, a)
	filler := fillDisk(t, dir)

	r := s.uploadFile(t, a.token, photo(t, 200, 200))
	if r.status != 503 || r.code(t) != "unavailable" || r.header.Get("Retry-After") == "" {
		t.Fatalf("upload on a full disk: %s, Retry-After %q; want 503 unavailable with Retry-After", r, r.header.Get("Retry-After"))
	}
	if !strings.Contains(s.logs.String(), "no space left on device") {
		t.Errorf("the cause of the 503 is not in the log:\n%s", s.logs.Tail(2000))
	}
	reg := postJSONT(t, s.base+"/auth/register", "", map[string]string{"first_name": "Ada", "last_name": "Lovelace",
		"email": "full@example.com", "phone_number": "+15551234567", "password": "correct horse battery"})
	if reg.status != 201 && (reg.status != 503 || reg.header.Get("Retry-After") == "") {
		t.Errorf("registration on a full disk: %s; want 201, or 503 with Retry-After", reg)
	}
	if got := profileImage(t, s.base, a.token); got != image {
		t.Fatalf("profile_image %q on a full disk, want %q", got, image)
	}
	if img := do(t, "GET", image, "", "", nil); img.status != 200 {
		t.Fatalf("the image on a full disk: %s", img)
	}
	waitNoSpoolFiles(t, s)

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if r := s.uploadFile(t, a.token, photo(t, 200, 200)); r.status != 200 {
		t.Fatalf("upload after space was freed: %s", r)
	}
}

// mountTmpfs mounts a tmpfs of the given size on a new folder, unmounted
// at cleanup (after the server, registered later, has stopped).
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs to fill needs root; CI runs as root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs on %s: %v %s", dir, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

// fillDisk writes a file in dir until the file system is full and
// returns its path.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	for _, n := range []int{4096, 512, 1} { // the last blocks
		for {
			if _, err := f.Write(chunk[:n]); err != nil {
				break
			}
		}
	}
	return path
}

// TestEmailsAndNamesNormalised: one address in NFC and NFD is one
// account; the Kelvin-sign and full-width spellings of kate@ are kate@'s
// address (and are never stored); look-alikes mixing scripts and names
// with control, bidi-override or only invisible characters are refused
// with validation_failed.
func TestEmailsAndNamesNormalised(t *testing.T) {
	s := startServer(t, map[string]string{"PORTRAIT_REGISTER_PER_MINUTE": "0"})
	register := func(first, email string) reply {
		return postJSONT(t, s.base+"/auth/register", "", map[string]string{"first_name": first, "last_name": "Lovelace",
			"email": email, "phone_number": "+15551234567", "password": "correct horse battery"})
	}
	if r := register("José", "jos\u00e9@example.com"); r.status != 201 {
		t.Fatalf("register josé (NFC): %s", r)
	}
	if r := register("José", "jose\u0301@example.com"); r.status != 409 || r.code(t) != "email_taken" {
		t.Fatalf("register josé (NFD) after NFC: %s, want 409 email_taken", r)
	}
	s.login(t, "jose\u0301@example.com", "correct horse battery")
	r := register("Eve", "\u212Aate@example.com")
	if r.status != 201 || r.data(t)["email"] != "Kate@example.com" {
		t.Fatalf("register with a Kelvin sign: %s; want 201 stored as Kate@example.com", r)
	}
	for _, email := range []string{"kate@example.com", "ｋate@example.com"} {
		if r := register("Kate", email); r.status != 409 {
			t.Errorf("register %q after the Kelvin-sign spelling: %s, want 409", email, r)
		}
	}
	for name, body := range map[string][2]string{
		"Cyrillic а in the local part": {"Mallory", "\u0430dmin@example.com"},
		"Cyrillic е in the domain":     {"Mallory", "admin@\u0435xample.com"},
		"NUL in the name":              {"Ada\x00", "nul@example.com"},
		"BEL in the name":              {"Ada\x07", "bel@example.com"},
		"RLO in the name":              {"Ada\u202enimda", "rlo@example.com"},
		"zero-width-only name":         {"\u200b\u200d", "zw@example.com"},
		"Hangul filler name":           {"\u3164", "filler@example.com"},
	} {
		t.Run(name, func(t *testing.T) {
			if r := register(body[0], body[1]); r.status != 400 || r.code(t) != "validation_failed" {
				t.Fatalf("got %s, want 400 validation_failed", r)
			}
		})
	}
	if r := register("Иван", "иван@пример.рф"); r.status != 201 {
		t.Fatalf("an address wholly in Cyrillic: %s", r)
	}
}

// TestEveryResponseHasSecurityHeaders walks every kind of answer that
// Portrait's own code writes — success, each error status, image 200, 206,
// 304 and 416, a CORS preflight, the health and OpenAPI documents, the
// metrics listener — and checks that each carries the security headers.
// (The few answers that Go's server writes before any handler runs, 431,
// 400 for a malformed request, 501, 505, 417, are listed in SECURITY.md.)
func TestEveryResponseHasSecurityHeaders(t *testing.T) {
	metricsAddr := freeAddr(t)
	s := startServer(t, map[string]string{"PORTRAIT_METRICS_ADDR": metricsAddr, "PORTRAIT_LOGIN_PER_MINUTE": "1",
		"PORTRAIT_BODY_IDLE_TIMEOUT": "1s", "PORTRAIT_MAX_UPLOAD_BYTES": "100000", "PORTRAIT_CORS_ORIGINS": "https://app.example.com"})
	a := s.newAccount(t)
	img, _ := s.uploadFile(t, a.token, photo(t, 64, 64)).data(t)["profile_image"].(string)
	etag := do(t, "GET", img, "", "", nil).header.Get("ETag")
	with := func(method, url string, h ...string) *http.Request {
		req, _ := http.NewRequest(method, url, nil)
		for i := 0; i+1 < len(h); i += 2 {
			req.Header.Set(h[i], h[i+1])
		}
		return req
	}
	replies := map[string]reply{
		"200 /users/me":     do(t, "GET", s.base+"/users/me", a.token, "", nil),
		"200 /healthz":      do(t, "GET", s.base+"/healthz", "", "", nil),
		"200 /openapi.json": do(t, "GET", s.base+"/openapi.json", "", "", nil),
		"200 image":         do(t, "GET", img, "", "", nil),
		"206 image":         send(t, with("GET", img, "Range", "bytes=0-9")),
		"304 image":         send(t, with("GET", img, "If-None-Match", etag)),
		"416 image":         send(t, with("GET", img, "Range", "bytes=999999-")),
		"204 preflight": send(t, with("OPTIONS", s.base+"/users/image/upload", "Origin", "https://app.example.com",
			"Access-Control-Request-Method", "PATCH")),
		"400 not multipart": do(t, "PATCH", s.base+"/users/image/upload", a.token, "text/plain", strings.NewReader("x")),
		"401 no token":      do(t, "GET", s.base+"/users/me", "", "", nil),
		"404 unknown path":  do(t, "GET", s.base+"/nope", "", "", nil),
		"404 unknown image": do(t, "GET", s.base+"/profileImages/nope.jpg", "", "", nil),
		"405 wrong method":  do(t, "PUT", s.base+"/users/me", "", "", nil),
		"409 email taken":   postJSONT(t, s.base+"/auth/register", "", map[string]string{"first_name": "A", "last_name": "B", "email": a.email, "phone_number": "+15551234567", "password": "correct horse battery"}),
		"413 too large":     s.uploadFile(t, a.token, make([]byte, 200000)),
		"415 not JSON":      do(t, "POST", s.base+"/auth/login", "", "text/plain", strings.NewReader("{}")),
		"204 logout":        do(t, "POST", s.base+"/auth/logout", s.login(t, a.email, a.password), "", nil),
		"metrics listener":  do(t, "GET", "http://"+metricsAddr+"/metrics", "", "", nil),
	}
	postJSONT(t, s.base+"/auth/login", "", map[string]string{"email": a.email, "password": "wrong"})
	replies["429 rate limited"] = postJSONT(t, s.base+"/auth/login", "", map[string]string{"email": a.email, "password": "wrong"})
	if resp, err := stalledRequest(s, "POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n"); err == nil {
		replies["408 stalled body"] = reply{resp.StatusCode, resp.Header, nil}
	} else {
		t.Errorf("stalled body: %v", err)
	}
	for name, r := range replies {
		if want := strings.Fields(name)[0]; want[0] >= '0' && want[0] <= '9' && strconv.Itoa(r.status) != want {
			t.Errorf("%s: got status %d", name, r.status)
		}
		for _, h := range []string{"X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "Content-Security-Policy"} {
			if r.header.Get(h) == "" {
				t.Errorf("%s (%d): no %s", name, r.status, h)
			}
		}
	}
}
