// Package oidctest runs the OpenID provider of the tests, a process built
// from ../internal/testop (zitadel/oidc's op package) and started on
// loopback, and drives it: users, tokens from its token endpoint, key
// rotation, tokens signed with chosen claims, and the count of requests
// each of its endpoints received.
//
// A package whose tests use it calls Cleanup from its TestMain, which
// removes the provider's binary built for the test run.
package oidctest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portraitsvc/portrait/internal/testproc"
)

// Audience is the audience of the users' tokens unless they say another.
const Audience = "portrait-test-api"

// Provider is a running test provider.
type Provider struct {
	// Issuer is the provider's issuer URL, http://127.0.0.1:<port>.
	Issuer string
	addr   string
	state  string // its keys and users, kept across restarts
	cmd    *exec.Cmd
	done   chan struct{}
	logs   *testproc.Log // its standard error, every run
}

// User is a user of the provider, who gets tokens from its token endpoint
// through the client-credentials grant (client id: Subject).
type User struct {
	Subject     string `json:"sub"`
	GivenName   string `json:"given_name,omitempty"`
	FamilyName  string `json:"family_name,omitempty"`
	Email       string `json:"email,omitempty"`
	PhoneNumber string `json:"phone_number,omitempty"`
	// ClaimsInToken puts the profile in the access token (as Keycloak
	// does); false sends bare tokens, the profile only at userinfo (as
	// Auth0 does).
	ClaimsInToken bool `json:"claims_in_token"`
	// Audience is the token's aud (default [Audience]).
	Audience []string `json:"audience"`
	// LifetimeSeconds is the token's lifetime (default 300); a negative
	// one makes tokens that expired that long ago.
	LifetimeSeconds int    `json:"lifetime_seconds,omitempty"`
	Secret          string `json:"secret"`
}

// provider is the test provider's program, built once per test binary.
var provider = testproc.Binary{Package: "github.com/portraitsvc/portrait/oidc/internal/testop", Name: "testop"}

// Cleanup removes the provider binary that this test binary built.
func Cleanup() { provider.Remove() }

// Start starts a provider on a free loopback port and stops it at the
// end of the test.
func Start(t testing.TB) *Provider {
	t.Helper()
	p := &Provider{addr: "127.0.0.1:0", state: filepath.Join(t.TempDir(), "state.json"), logs: &testproc.Log{}}
	p.launch(t)
	u, _ := url.Parse(p.Issuer)
	p.addr = u.Host // a restart listens on the same address
	t.Cleanup(func() {
		p.Stop(t)
		if t.Failed() {
			t.Logf("test provider's log:\n%s", p.logs)
		}
	})
	return p
}

// launch starts the process and waits for its "issuer" line.
func (p *Provider) launch(t testing.TB) {
	t.Helper()
	cmd := exec.Command(provider.Build(t), "-addr", p.addr, "-state", p.state)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = p.logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the test provider: %v", err)
	}
	done, issuer := make(chan struct{}), make(chan string, 1)
	p.cmd, p.done = cmd, done
	go func() {
		defer close(done)
		line, _ := bufio.NewReader(out).ReadString('\n')
		issuer <- strings.TrimPrefix(strings.TrimSpace(line), "issuer ")
		io.Copy(io.Discard, out)
		cmd.Wait()
	}()
	select {
	case p.Issuer = <-issuer:
	case <-time.After(30 * time.Second):
		t.Fatal("the test provider did not start in 30 s")
	}
	if !strings.HasPrefix(p.Issuer, "http://") {
		t.Fatalf("the test provider did not start: %q\n%s", p.Issuer, p.logs)
	}
}

// Stop stops the provider, as a provider that went down; Restart brings
// it back, same address, same keys and users.
func (p *Provider) Stop(t testing.TB) {
	t.Helper()
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// Restart starts the stopped provider again.
func (p *Provider) Restart(t testing.TB) {
	t.Helper()
	p.Stop(t)
	p.launch(t)
}

// AddUser registers u, with Audience if it names none.
func (p *Provider) AddUser(t testing.TB, u User) {
	t.Helper()
	if u.Audience == nil {
		u.Audience = []string{Audience}
	}
	u.Secret = "secret-" + u.Subject
	p.call(t, "POST", "/test/users", u, nil)
}

// Token returns an access token of the user sub from the token endpoint.
func (p *Provider) Token(t testing.TB, sub string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", p.Issuer+"/oauth/token", strings.NewReader("grant_type=client_credentials&scope=openid"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(sub, "secret-"+sub)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	p.do(t, req, &tok)
	if tok.AccessToken == "" {
		t.Fatalf("the test provider gave no access token for %q", sub)
	}
	return tok.AccessToken
}

// Mint returns a token with exactly claims, signed by the signing key
// (iss defaults to the issuer).
func (p *Provider) Mint(t testing.TB, claims map[string]any) string {
	t.Helper()
	if _, ok := claims["iss"]; !ok {
		claims["iss"] = p.Issuer
	}
	var r struct{ Token string }
	p.call(t, "POST", "/test/mint", claims, &r)
	return r.Token
}

// Rotate makes a new key the signing key and returns its key id; with
// retire, the key set then shows only it.
func (p *Provider) Rotate(t testing.TB, retire bool) string {
	t.Helper()
	path := "/test/rotate"
	if retire {
		path += "?retire=1"
	}
	var r struct{ KID string }
	p.call(t, "POST", path, nil, &r)
	return r.KID
}

// Hits returns how many requests the provider received on path since it
// started: "/keys", "/userinfo", "/.well-known/openid-configuration"…
func (p *Provider) Hits(t testing.TB, path string) int {
	t.Helper()
	var hits map[string]int
	p.call(t, "GET", "/test/hits", nil, &hits)
	return hits[path]
}

// KeySet returns the provider's key set, as /keys serves it.
func (p *Provider) KeySet(t testing.TB) []byte {
	t.Helper()
	var raw json.RawMessage
	p.call(t, "GET", "/keys", nil, &raw)
	return raw
}

func (p *Provider) call(t testing.TB, method, path string, in, out any) {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, p.Issuer+path, body)
	p.do(t, req, out)
}

func (p *Provider) do(t testing.TB, req *http.Request, out any) {
	t.Helper()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("test provider: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("test provider: %s %s: %s: %s", req.Method, req.URL.Path, resp.Status, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("test provider: %s %s: %v: %s", req.Method, req.URL.Path, err, b)
		}
	}
}
