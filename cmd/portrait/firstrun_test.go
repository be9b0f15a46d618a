package main

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/portraitsvc/portrait/internal/testproc"
	"github.com/portraitsvc/portrait/postgres/pgtest"
)

// The tests of this file are the rough edges a newcomer met on a first
// run (issue 10): each checks what such a person sees.

// startOnAddr runs `portrait serve` in-process on addr (such as
// 127.0.0.1:0) and takes the base URL from its start-up log line.
func startOnAddr(t *testing.T, addr string, env map[string]string) *testServer {
	t.Helper()
	s := &testServer{dataDir: t.TempDir(), logs: &testproc.Log{}, env: map[string]string{"PORTRAIT_ADDR": addr}}
	s.env["PORTRAIT_DATA_DIR"] = s.dataDir
	for k, v := range env {
		s.env[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel, s.done = cancel, make(chan error, 1)
	go func() {
		s.done <- run(ctx, []string{"serve"}, func(k string) string { return s.env[k] }, s.logs, s.logs)
	}()
	t.Cleanup(func() { s.stop(t) })
	publicURL := regexp.MustCompile(`msg="portrait serving".* public_url=(\S+)`)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		select {
		case err := <-s.done:
			t.Fatalf("server exited before serving: %v\n%s", err, s.logs)
		default:
		}
		if m := publicURL.FindStringSubmatch(s.logs.String()); m != nil {
			s.base = m[1]
			return s
		}
	}
	t.Fatalf("no start-up line in 20 s:\n%s", s.logs)
	return nil
}

// startupLine returns the "portrait serving" line of the server's log.
func (s *testServer) startupLine(t *testing.T) string {
	t.Helper()
	for line := range strings.Lines(s.logs.String()) {
		if strings.Contains(line, `msg="portrait serving"`) {
			return line
		}
	}
	t.Fatalf("no start-up line in the log:\n%s", s.logs)
	return ""
}

// TestRandomPortGivesRealURLs: with --addr 127.0.0.1:0 the public URL, in
// the log and in the image URLs, names the port the server got.
func TestRandomPortGivesRealURLs(t *testing.T) {
	s := startOnAddr(t, "127.0.0.1:0", nil)
	u, err := url.Parse(s.base)
	if err != nil || u.Hostname() != "127.0.0.1" || u.Port() == "" || u.Port() == "0" {
		t.Fatalf("public_url %q: want http://127.0.0.1:<the port bound>", s.base)
	}
	if !strings.Contains(s.startupLine(t), "addr="+u.Host+" ") {
		t.Errorf("the start-up line's addr is not the public URL's %s: %s", u.Host, s.startupLine(t))
	}
	a := s.newAccount(t)
	r := s.uploadFile(t, a.token, photo(t, 64, 64))
	img, _ := r.data(t)["profile_image"].(string)
	if r.status != 200 || !strings.HasPrefix(img, s.base+"/profileImages/") {
		t.Fatalf("upload: %s: want an image URL under %s", r, s.base)
	}
	if got := do(t, "GET", img, "", "", nil); got.status != 200 {
		t.Fatalf("GET %s: %s", img, got)
	}
}

// TestStartupLogNamesWhereDataGoes: the start-up line names the data dir,
// the database and the storage, as absolute paths.
func TestStartupLogNamesWhereDataGoes(t *testing.T) {
	s := startServer(t, nil)
	line := s.startupLine(t)
	for _, want := range []string{
		"data_dir=" + s.dataDir,
		"database=sqlite:" + filepath.Join(s.dataDir, "portrait.db"),
		"storage=file://" + filepath.Join(s.dataDir, "bucket"),
	} {
		if !strings.Contains(line, want+" ") {
			t.Errorf("start-up line lacks %q:\n%s", want, line)
		}
	}
}

// TestStartupLogRedactsCredentials: a database URL's password is named
// as xxxxx, never logged. The test's PostgreSQL trusts every connection,
// so a made-up password does not stop the server from starting.
func TestStartupLogRedactsCredentials(t *testing.T) {
	u, err := url.Parse(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), "hunter2-not-a-secret")
	s := startServer(t, map[string]string{"PORTRAIT_DATABASE_URL": u.String(), "PORTRAIT_JWT_SECRET": strings.Repeat("k", 32)})
	line := s.startupLine(t)
	if strings.Contains(s.logs.String(), "hunter2") {
		t.Fatalf("the database password is in the log:\n%s", s.logs)
	}
	// slog quotes the value: its query has "=".
	if want := fmt.Sprintf("database=%q", u.Redacted()); !strings.Contains(line, want) || !strings.Contains(want, "xxxxx") {
		t.Errorf("start-up line lacks %q:\n%s", want, line)
	}
}

func TestRedactURL(t *testing.T) {
	for raw, want := range map[string]string{
		"postgres://app:pw@db:5432/portrait?sslmode=require":                     "postgres://app:xxxxx@db:5432/portrait?sslmode=require",
		"postgres://app@db/portrait?password=pw&sslpassword=pw2":                 "postgres://app@db/portrait?password=xxxxx&sslpassword=xxxxx",
		"s3://images?endpoint=http%3A%2F%2Fkey%3Apw%40minio%3A9000&region=local": "s3://images?endpoint=http%3A%2F%2Fkey%3Axxxxx%40minio%3A9000&region=local",
		"postgres://app:pw@db/%zz":                                               "(a URL that does not parse)",
	} {
		if got := redactURL(raw); got != want || strings.Contains(got, "pw") {
			t.Errorf("redactURL(%q) = %q, want %q", raw, got, want)
		}
	}
}

// TestMalformedCORSOriginRefused: an origin that no browser sends stops the
// server from starting, with a message saying what is wrong.
func TestMalformedCORSOriginRefused(t *testing.T) {
	for origin, want := range map[string]string{
		"http://127.0.0.1:8092/":        "slash",
		"127.0.0.1:8092":                "http:// or https://",
		"localhost:3000":                "http:// or https://",
		"app.example.com":               "http:// or https://",
		"https://app.example.com/login": "path",
		"https://app.example.com?x=1":   "query",
		"https://user@app.example.com":  "user",
		"https://App.Example.com":       "lower case",
		"https://app.example.com:443":   "default port",
		"http://app.example.com:99999":  "port",
		"ftp://app.example.com":         "http:// or https://",
		"https://":                      "scheme://host",
	} {
		env := map[string]string{"PORTRAIT_DATA_DIR": t.TempDir(), "PORTRAIT_ADDR": "127.0.0.1:0",
			"PORTRAIT_CORS_ORIGINS": "https://ok.example.com, " + origin}
		// A server that starts anyway is stopped after a few seconds.
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		var logs testproc.Log
		err := run(ctx, []string{"serve"}, func(k string) string { return env[k] }, &logs, &logs)
		cancel()
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%q", origin)) || !strings.Contains(err.Error(), want) {
			t.Errorf("origin %q: serve returned %v, want an error naming it and saying %q", origin, err, want)
		}
	}
	for _, origin := range []string{"*", "http://127.0.0.1:8092", "https://app.example.com", "http://[::1]:3000", "http://localhost"} {
		if err := checkOrigin(origin); err != nil {
			t.Errorf("origin %q refused: %v", origin, err)
		}
	}
}

// TestCORSOriginsLogged: the allowed origins are in the start-up line, and
// a refused preflight is logged with its origin.
func TestCORSOriginsLogged(t *testing.T) {
	s := startServer(t, map[string]string{"PORTRAIT_CORS_ORIGINS": "http://127.0.0.1:8092, https://app.example.com"})
	if line := s.startupLine(t); !strings.Contains(line, `cors_origins="[http://127.0.0.1:8092 https://app.example.com]"`) {
		t.Errorf("start-up line does not list the allowed origins:\n%s", line)
	}
	preflight := func(origin string) reply {
		req, _ := http.NewRequest("OPTIONS", s.base+"/users/image/upload", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "PATCH")
		return send(t, req)
	}
	if r := preflight("http://127.0.0.1:8092"); r.status != http.StatusNoContent || strings.Contains(s.logs.String(), "preflight refused") {
		t.Fatalf("preflight from an allowed origin: %s", r)
	}
	if r := preflight("http://127.0.0.1:8093"); r.status == http.StatusNoContent {
		t.Fatalf("preflight from another origin allowed: %s", r)
	}
	refused := regexp.MustCompile(`level=WARN msg="CORS preflight refused[^"]*" request_id=\w+ origin=http://127.0.0.1:8093 `)
	if !refused.MatchString(s.logs.String()) {
		t.Errorf("the refused preflight's origin is not logged:\n%s", s.logs)
	}
}

// TestRevokedTokenSaysSo: a token revoked by a logout or a password change
// is answered invalid_token, saying it was revoked; a missing or forged
// token is not told that.
func TestRevokedTokenSaysSo(t *testing.T) {
	s := startServer(t, nil)
	detail := func(token string) string {
		t.Helper()
		r := do(t, "GET", s.base+"/users/me", token, "", nil)
		if r.status != 401 || r.code(t) != "invalid_token" {
			t.Fatalf("GET /users/me: %s, want 401 invalid_token", r)
		}
		return r.json(t)["detail"].(string)
	}
	a := s.newAccount(t)
	if r := do(t, "POST", s.base+"/auth/logout", a.token, "", nil); r.status != 204 {
		t.Fatalf("logout: %s", r)
	}
	if d := detail(a.token); !strings.Contains(d, "revoked by a logout or a password change") {
		t.Errorf("after logout: %q, want it to say the token was revoked", d)
	}
	token := s.login(t, a.email, a.password)
	if r := postJSONT(t, s.base+"/auth/password", token, map[string]string{"current_password": a.password, "new_password": "another long password"}); r.status != 204 {
		t.Fatalf("password change: %s", r)
	}
	if d := detail(token); !strings.Contains(d, "revoked") {
		t.Errorf("after a password change: %q, want it to say the token was revoked", d)
	}
	for _, tok := range []string{"", "not-a-jwt", a.token[:len(a.token)-4] + "AAAA"} {
		if d := detail(tok); strings.Contains(d, "revoked") {
			t.Errorf("token %q is told %q: it was never revoked", tok, d)
		}
	}
}

// TestHelpOfEachCommand: `portrait <cmd> --help` exits 0 and prints to
// stdout that command's flags, and only those; a bad flag goes to stderr.
func TestHelpOfEachCommand(t *testing.T) {
	cases := []struct {
		cmd          string
		want, refuse []string
	}{
		{"serve", []string{"-addr", "-cors-origins", "-database-url", "-storage-url", "-gc-grace"}, []string{"-concurrency"}},
		{"migrate", []string{"-database-url", "-data-dir"}, []string{"-addr", "-storage-url", "-jwt-secret", "-gc-grace", "-log-level"}},
		{"gc", []string{"-database-url", "-storage-url", "-gc-grace"}, []string{"-addr", "-jwt-secret", "-cors-origins", "-max-upload-bytes"}},
		{"load", []string{"-url", "-concurrency", "-requests"}, []string{"-addr", "-data-dir", "-database-url"}},
	}
	for _, c := range cases {
		t.Run(c.cmd, func(t *testing.T) {
			out := runPortrait(t, nil, c.cmd, "--help")
			if !strings.HasPrefix(out, "Usage: portrait "+c.cmd+" ") {
				t.Errorf("help does not start with its usage:\n%s", out)
			}
			for _, f := range c.want {
				if !strings.Contains(out, "  "+f+" ") && !strings.Contains(out, "  "+f+"\n") {
					t.Errorf("help lacks %s:\n%s", f, out)
				}
			}
			for _, f := range c.refuse {
				if strings.Contains(out, "  "+f+" ") || strings.Contains(out, "  "+f+"\n") {
					t.Errorf("help lists %s, a flag of another command:\n%s", f, out)
				}
			}
			var stdout, stderr bytes.Buffer
			err := run(t.Context(), []string{c.cmd, "--no-such-flag"}, func(string) string { return "" }, &stdout, &stderr)
			if err == nil || errors.Is(err, flag.ErrHelp) || stdout.Len() > 0 || !strings.Contains(stderr.String(), "no-such-flag") {
				t.Errorf("bad flag: err %v, stdout %q, stderr %q: want an error, on stderr", err, stdout.String(), stderr.String())
			}
		})
	}
}

// TestGCAndMigrateNameTheirBackends: migrate says which database it
// migrated; gc logs the database and the storage it swept.
func TestGCAndMigrateNameTheirBackends(t *testing.T) {
	dir := t.TempDir()
	out := runPortrait(t, []string{"PORTRAIT_DATA_DIR=" + dir}, "migrate")
	if want := "migrations applied to sqlite:" + filepath.Join(dir, "portrait.db") + "\n"; out != want {
		t.Errorf("migrate printed %q, want %q", out, want)
	}
	var stdout, stderr bytes.Buffer
	env := map[string]string{"PORTRAIT_DATA_DIR": dir}
	if err := run(t.Context(), []string{"gc"}, func(k string) string { return env[k] }, &stdout, &stderr); err != nil {
		t.Fatalf("gc: %v\n%s", err, &stderr)
	}
	for _, want := range []string{"database=sqlite:" + filepath.Join(dir, "portrait.db"), "storage=file://" + filepath.Join(dir, "bucket")} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("gc's log lacks %q:\n%s", want, &stderr)
		}
	}
}

// TestLoadReportsAndFails: `portrait load` prints a table of the answers
// and exits 0 when every upload succeeded, non-zero when any failed.
func TestLoadReportsAndFails(t *testing.T) {
	s := startServer(t, nil)
	args := []string{"load", "--url", s.base, "--requests", "6", "--users", "2", "--concurrency", "2", "--width", "300", "--height", "200"}
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), args, func(string) string { return "" }, &stdout, &stderr); err != nil {
		t.Fatalf("load against a healthy server: %v\n%s%s", err, &stdout, &stderr)
	}
	table := regexp.MustCompile(`(?m)^\s*answer\s+uploads\s+share\s*\n\s*200 OK\s+6\s+100\.0%\s*$`)
	if !table.MatchString(stdout.String()) || strings.Contains(stdout.String(), "map[") {
		t.Errorf("no table of answers:\n%s", &stdout)
	}
	if strings.Contains(stderr.String(), "\r") {
		t.Errorf("progress rewrites lines on a stderr that is no terminal: %q", &stderr)
	}

	small := startServer(t, map[string]string{"PORTRAIT_MAX_UPLOAD_BYTES": "1000"})
	cmd := exec.Command(buildBinary(t), "load", "--url", small.base, "--requests", "4", "--users", "1", "--concurrency", "2", "--width", "300", "--height", "200")
	cmd.Env = childEnv()
	out, err := cmd.Output()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("load whose every upload got 413 exited %v, want 1:\n%s", err, out)
	}
	if !regexp.MustCompile(`(?m)^\s*413 Request Entity Too Large\s+4\s+100\.0%\s*$`).Match(out) ||
		!strings.Contains(string(exit.Stderr), "4 of 4 uploads failed") {
		t.Errorf("the table or the error does not say the uploads failed:\n%s\n%s", out, exit.Stderr)
	}
}

// TestREADMEBuildsAStaticBinary: the README's build command, run as
// written, gives a statically linked executable, and the README says how
// to install the command and that the first build takes a while.
func TestREADMEBuildsAStaticBinary(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"go install -tags nodynamic github.com/portraitsvc/portrait/cmd/portrait@latest", "about a minute"} {
		if !bytes.Contains(readme, []byte(want)) {
			t.Errorf("README lacks %q", want)
		}
	}
	line := regexp.MustCompile(`(?m)^    (CGO_ENABLED=0 go build -tags nodynamic -o portrait \./cmd/portrait)$`).FindSubmatch(readme)
	if line == nil {
		t.Fatal("README has no `CGO_ENABLED=0 go build -tags nodynamic -o portrait ./cmd/portrait` line")
	}
	bin := filepath.Join(t.TempDir(), "portrait")
	cmd := exec.Command("sh", "-c", strings.Replace(string(line[1]), "-o portrait", "-o "+bin, 1))
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "GOFLAGS=") // the line alone, not CI's build flags
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", line[1], err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	libs, _ := f.ImportedLibraries()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || len(libs) > 0 {
			t.Fatalf("%s builds a dynamically linked executable (libraries %v)", line[1], libs)
		}
	}
}
