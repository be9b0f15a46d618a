package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portraitsvc/portrait/internal/testproc"
	"github.com/portraitsvc/portrait/oidc/oidctest"
	"github.com/portraitsvc/portrait/s3/s3test"
)

// TestMain runs the tests through s3test.Main, which stops the S3 server
// that TestScaleOut may start, then removes the binaries built for the
// subprocess tests and the test OpenID provider. The run fails if tryDo
// saw an answer that breaks the OpenAPI document.
func TestMain(m *testing.M) {
	code := s3test.Main(m)
	if reportViolations(os.Stderr) && code == 0 {
		code = 1
	}
	portraitBinary.Remove()
	oidctest.Cleanup()
	os.Exit(code)
}

// portraitBinary is the portrait executable of the subprocess tests.
var portraitBinary = testproc.Binary{Package: ".", Name: "portrait"}

// buildBinary builds ./cmd/portrait once per test binary, with CGO off as
// it ships, and returns the executable's path.
func buildBinary(t testing.TB) string {
	t.Helper()
	return portraitBinary.Build(t)
}

// proc is `portrait serve` run from the built binary as a subprocess, on a
// loopback address that stays the same across restarts.
type proc struct {
	t    testing.TB
	bin  string
	env  []string      // the whole environment of the process
	base string        // http://<addr>, also its PORTRAIT_PUBLIC_URL
	logs *testproc.Log // stdout and stderr of every run, one after the other
	cmd  *exec.Cmd
	done chan struct{} // closed when the current run has exited
}

// startProc starts `portrait serve` on a free loopback port and waits until
// /healthz answers 200. env holds KEY=value entries for the process on top
// of this process's environment minus its PORTRAIT_* and AWS_* variables;
// startProc sets PORTRAIT_ADDR and PORTRAIT_PUBLIC_URL. The process is
// stopped at cleanup, and its log shown if the test failed.
func startProc(t testing.TB, env ...string) *proc {
	t.Helper()
	addr := freeAddr(t)
	p := &proc{t: t, bin: buildBinary(t), base: "http://" + addr, logs: &testproc.Log{}}
	p.env = append(childEnv(env...), "PORTRAIT_ADDR="+addr, "PORTRAIT_PUBLIC_URL="+p.base)
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("log of the server at %s:\n%s", p.base, p.logs.Tail(4000))
		}
	})
	p.launch()
	return p
}

// childEnv returns this process's environment without its PORTRAIT_* and
// AWS_* variables, so that a developer's settings cannot leak into a
// subprocess, followed by extra.
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PORTRAIT_") && !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// launch starts the process and waits until it is ready.
func (p *proc) launch() {
	p.t.Helper()
	fmt.Fprintf(p.logs, "--- %s start\n", time.Now().Format(time.StampMicro))
	p.cmd = exec.Command(p.bin, "serve")
	p.cmd.Env = p.env
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		p.t.Fatalf("start portrait serve: %v", err)
	}
	done := make(chan struct{})
	go func(cmd *exec.Cmd) { cmd.Wait(); close(done) }(p.cmd)
	p.done = done
	p.waitReady()
}

// waitReady polls /healthz until it answers 200, failing the test if the
// process exits first or 20 s pass.
func (p *proc) waitReady() {
	p.t.Helper()
	client := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		if resp, err := client.Get(p.base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-p.done:
			p.t.Fatalf("portrait serve exited before ready (%v):\n%s", p.cmd.ProcessState, p.logs.Tail(4000))
		case <-time.After(20 * time.Millisecond):
		}
	}
	p.t.Fatalf("portrait serve not ready in 20 s:\n%s", p.logs.Tail(4000))
}

// running reports whether the current run has not exited.
func (p *proc) running() bool {
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// kill ends the process with SIGKILL, as a crash would, and waits for it.
// It reports whether the signal killed a running process.
func (p *proc) kill() bool {
	if !p.running() {
		return false
	}
	err := p.cmd.Process.Kill()
	<-p.done
	fmt.Fprintf(p.logs, "--- %s killed\n", time.Now().Format(time.StampMicro))
	return err == nil && p.cmd.ProcessState.ExitCode() == -1
}

// stop asks the process to shut down gracefully (SIGINT) and waits for it,
// failing the test unless it exits 0 within 30 s. A process that is not
// running is left as it is.
func (p *proc) stop() {
	p.t.Helper()
	if !p.running() {
		return
	}
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil && !errors.Is(err, os.ErrProcessDone) {
		p.t.Errorf("interrupt portrait serve: %v", err)
	}
	select {
	case <-p.done:
		if code := p.cmd.ProcessState.ExitCode(); code != 0 {
			p.t.Errorf("portrait serve stopped with %v, want exit 0", p.cmd.ProcessState)
		}
	case <-time.After(30 * time.Second):
		p.t.Errorf("portrait serve did not stop within 30 s of SIGINT; killing it")
		p.kill()
	}
}

// restart stops the process if it runs, then starts it again with the
// same environment, on the same address.
func (p *proc) restart() {
	p.t.Helper()
	p.stop()
	p.launch()
}

// runPortrait runs the built binary with args and env (as for startProc)
// to its end and returns its standard output, failing the test if it
// exits non-zero or runs over a minute.
func runPortrait(t testing.TB, env []string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, buildBinary(t), args...)
	cmd.Env = childEnv(env...)
	var stdout bytes.Buffer
	var stderr testproc.Log
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("portrait %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, &stdout, stderr.Tail(4000))
	}
	return stdout.String()
}

// procClient is the client of the subprocess tests: unlike the helpers of
// e2e_test.go, which fail the test, its errors are values, so that it can
// be used from any goroutine and a request cut by a kill can be ignored.
var procClient = &http.Client{Timeout: time.Minute}

// tryDo sends a request and reads the whole answer. An answer that the
// OpenAPI document does not allow fails the run (see recordAnswer).
func tryDo(method, url, token, ctype string, body []byte) (reply, error) {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		return reply{}, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := procClient.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	r := reply{resp.StatusCode, resp.Header, b}
	if err == nil {
		recordAnswer(req, r)
	}
	return r, err
}

// tryUpload uploads data as the profile image of the token's user.
func tryUpload(base, token string, data []byte) (reply, error) {
	ct, body := multipartBody(part{"file", "photo.jpg", "image/jpeg", data})
	return tryDo("PATCH", base+"/users/image/upload", token, ct, body)
}

// register creates an account on the server at base and logs it in.
func registerAt(t testing.TB, base string) account {
	t.Helper()
	a := account{email: "u" + strings.ToLower(rand.Text()[:12]) + "@example.com", password: "correct horse battery staple"}
	r := postJSONT(t, base+"/auth/register", "", map[string]string{"first_name": "Ada", "last_name": "Lovelace",
		"email": a.email, "phone_number": "+15551234567", "password": a.password})
	if r.status != http.StatusCreated {
		t.Fatalf("register: %s", r)
	}
	a.id, _ = r.data(t)["id"].(string)
	r = postJSONT(t, base+"/auth/login", "", map[string]string{"email": a.email, "password": a.password})
	if r.status != http.StatusOK {
		t.Fatalf("login: %s", r)
	}
	a.token, _ = r.data(t)["access_token"].(string)
	if a.id == "" || a.token == "" {
		t.Fatalf("register and login gave id %q, token %q", a.id, a.token)
	}
	return a
}

// profileImage returns the profile_image of GET /users/me, "" for null.
func profileImage(t testing.TB, base, token string) string {
	t.Helper()
	r := do(t, "GET", base+"/users/me", token, "", nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET %s/users/me: %s", base, r)
	}
	u, _ := r.data(t)["profile_image"].(string)
	return u
}

// walkFiles returns the paths under dir of its regular files.
func walkFiles(dir string) []string {
	var files []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	return files
}

// readiness asks base's /readyz once and returns the status and how long
// the answer took.
func readiness(base string) (int, time.Duration) {
	start := time.Now()
	r, err := tryDo("GET", base+"/readyz", "", "", nil)
	if err != nil {
		return 0, time.Since(start)
	}
	return r.status, time.Since(start)
}

// untilReady polls /readyz until it answers 200 and returns how long that
// took, failing the test after limit.
func untilReady(t *testing.T, base string, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < limit {
		if status, _ := readiness(base); status == http.StatusOK {
			return time.Since(start)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s not ready within %v", base, limit)
	return 0
}
