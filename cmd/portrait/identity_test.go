package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/portraitsvc/portrait/oidc/oidctest"
)

// The tests of identity providers: `portrait serve` (in-process through
// run, or as a process) accepting the tokens of a real OpenID provider
// process on loopback (oidctest).

// providerEnv returns the environment that makes a server accept op's
// tokens, with extra KEY=value pairs on top.
func providerEnv(extra map[string]string, ops ...*oidctest.Provider) map[string]string {
	var issuers []string
	for _, op := range ops {
		issuers = append(issuers, op.Issuer)
	}
	env := map[string]string{"PORTRAIT_OIDC_ISSUER": strings.Join(issuers, ","), "PORTRAIT_OIDC_AUDIENCE": oidctest.Audience}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// me returns GET /users/me with token.
func (s *testServer) me(t testing.TB, token string) reply {
	t.Helper()
	return do(t, "GET", s.base+"/users/me", token, "", nil)
}

// mustMe returns the user of GET /users/me, failing unless it is 200.
func (s *testServer) mustMe(t testing.TB, token string) map[string]any {
	t.Helper()
	r := s.me(t, token)
	if r.status != http.StatusOK {
		t.Fatalf("GET /users/me: %s", r)
	}
	return r.data(t)
}

// assertProblem checks that r is a problem with the given status and code.
func assertProblem(t testing.TB, r reply, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d %s: %s", r.status, status, code, r)
	}
	if got := r.code(t); got != code {
		t.Fatalf("code %q, want %q: %s", got, code, r)
	}
}

// runLink runs `portrait link` in-process on the server's environment.
func runLink(t testing.TB, s *testServer, args ...string) (string, error) {
	t.Helper()
	var out, errs bytes.Buffer
	err := run(t.Context(), append([]string{"link"}, args...), func(k string) string { return s.env[k] }, &out, &errs)
	return out.String() + errs.String(), err
}

var keycloakAda = oidctest.User{Subject: "f3c1a6c2-9d1e-4c7e-8a55-2b7d0c1e9a10", GivenName: "Ada", FamilyName: "Lovelace",
	Email: "ada@example.com", PhoneNumber: "+15551234567", ClaimsInToken: true}

// TestProviderUserUploads is the whole path of a provider's user: the
// first request provisions the account from the token's claims, the
// contract's upload works with the provider's token, and every later
// token of the identity is the same user.
func TestProviderUserUploads(t *testing.T) {
	op := oidctest.Start(t)
	op.AddUser(t, keycloakAda)
	s := startServer(t, providerEnv(nil, op))
	token := op.Token(t, keycloakAda.Subject)
	u := s.mustMe(t, token)
	want := map[string]any{"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "phone_number": "+15551234567", "profile_image": nil}
	for k, v := range want {
		if u[k] != v {
			t.Errorf("provisioned %s = %v, want %v", k, u[k], v)
		}
	}
	r := s.uploadFile(t, token, photo(t, 300, 200))
	if r.status != http.StatusOK {
		t.Fatalf("upload with a provider token: %s", r)
	}
	img, _ := r.data(t)["profile_image"].(string)
	if got := do(t, "GET", img, "", "", nil); got.status != http.StatusOK {
		t.Fatalf("GET %s: %s", img, got)
	}
	again := s.mustMe(t, op.Token(t, keycloakAda.Subject))
	if again["id"] != u["id"] || again["profile_image"] != img {
		t.Errorf("a second token of the identity is %v with %v, want %v with %v", again["id"], again["profile_image"], u["id"], img)
	}
	// Portrait's own accounts keep working beside.
	a := s.newAccount(t)
	if got := s.mustMe(t, a.token); got["id"] != a.id {
		t.Errorf("local account's /users/me = %v", got)
	}
}

// TestProviderTokenCannotLogOut: logout and password change belong to the
// provider, which alone can revoke its tokens.
func TestProviderTokenCannotLogOut(t *testing.T) {
	op := oidctest.Start(t)
	op.AddUser(t, keycloakAda)
	s := startServer(t, providerEnv(nil, op))
	token := op.Token(t, keycloakAda.Subject)
	assertProblem(t, postJSONT(t, s.base+"/auth/logout", token, nil), http.StatusForbidden, "managed_by_provider")
	assertProblem(t, postJSONT(t, s.base+"/auth/password", token, map[string]string{
		"current_password": "whatever at all", "new_password": "a new password here"}), http.StatusForbidden, "managed_by_provider")
	s.mustMe(t, token)
}

// TestProvisionFromUserinfo: a bare access token (as Auth0 sends) makes
// Portrait ask the provider's userinfo endpoint, once for the identity.
func TestProvisionFromUserinfo(t *testing.T) {
	op := oidctest.Start(t)
	bare := oidctest.User{Subject: "auth0|64b0c0ffee", GivenName: "Grace", FamilyName: "Hopper", Email: "grace@example.com"}
	op.AddUser(t, bare)
	s := startServer(t, providerEnv(nil, op))
	var wg sync.WaitGroup
	ids := make([]string, 8)
	for i := range ids {
		token := op.Token(t, bare.Subject)
		wg.Go(func() {
			r := s.me(t, token)
			if r.status == http.StatusOK {
				ids[i], _ = r.data(t)["id"].(string)
			}
		})
	}
	wg.Wait()
	u := s.mustMe(t, op.Token(t, bare.Subject))
	if u["first_name"] != "Grace" || u["last_name"] != "Hopper" || u["email"] != "grace@example.com" || u["phone_number"] != "" {
		t.Errorf("provisioned from userinfo: %v", u)
	}
	for i, id := range ids {
		if id != u["id"] {
			t.Errorf("concurrent first request %d got user %q, want the one user %v", i, id, u["id"])
		}
	}
	if n := op.Hits(t, "/userinfo"); n != 1 {
		t.Errorf("userinfo called %d times, want 1", n)
	}
}

// TestEmailOfLocalAccount: a provider identity whose email is a local
// account's is not merged into it, nor given an account beside it: 403
// identity_email_conflict until an operator links it, after which the
// identity is that account, image and password login included.
func TestEmailOfLocalAccount(t *testing.T) {
	op := oidctest.Start(t)
	s := startServer(t, providerEnv(nil, op))
	local := s.newAccount(t)
	if r := s.uploadFile(t, local.token, photo(t, 64, 64)); r.status != http.StatusOK {
		t.Fatalf("upload: %s", r)
	}
	img := profileImage(t, s.base, local.token)
	claimer := keycloakAda
	claimer.Email = strings.ToUpper(local.email)
	op.AddUser(t, claimer)
	token := op.Token(t, claimer.Subject)
	r := s.me(t, token)
	assertProblem(t, r, http.StatusForbidden, "identity_email_conflict")
	if !strings.Contains(r.json(t)["detail"].(string), claimer.Subject) {
		t.Errorf("the refusal does not tell the subject to give the operator: %s", r)
	}
	out, err := runLink(t, s, "--issuer", op.Issuer, "--subject", claimer.Subject, "--user", local.email)
	if err != nil {
		t.Fatalf("portrait link: %v\n%s", err, out)
	}
	u := s.mustMe(t, token)
	if u["id"] != local.id || u["profile_image"] != img {
		t.Errorf("after the link the token is %v with %v, want the local account %s with %s", u["id"], u["profile_image"], local.id, img)
	}
	s.login(t, local.email, local.password)
}

// TestProvisioningOff: with provisioning off, an unknown identity is 403
// identity_not_linked until an operator links it; portrait link --new
// makes its account, --remove undoes the link.
func TestProvisioningOff(t *testing.T) {
	op := oidctest.Start(t)
	op.AddUser(t, keycloakAda)
	s := startServer(t, providerEnv(map[string]string{"PORTRAIT_OIDC_PROVISION": "false"}, op))
	token := op.Token(t, keycloakAda.Subject)
	assertProblem(t, s.me(t, token), http.StatusForbidden, "identity_not_linked")
	link := []string{"--issuer", op.Issuer, "--subject", keycloakAda.Subject}
	if out, err := runLink(t, s, append(link, "--new", "--first-name", "Ada", "--last-name", "King", "--email", "ada.king@example.com")...); err != nil {
		t.Fatalf("portrait link --new: %v\n%s", err, out)
	}
	u := s.mustMe(t, token)
	if u["last_name"] != "King" || u["email"] != "ada.king@example.com" {
		t.Errorf("linked account = %v, want the operator's profile, not the token's", u)
	}
	if out, err := runLink(t, s, append(link, "--user", u["id"].(string))...); err != nil {
		t.Errorf("linking again to the same user: %v\n%s", err, out)
	}
	if out, err := runLink(t, s, append(link, "--remove")...); err != nil {
		t.Fatalf("portrait link --remove: %v\n%s", err, out)
	}
	assertProblem(t, s.me(t, token), http.StatusForbidden, "identity_not_linked")
	if out, err := runLink(t, s, append(link, "--new", "--email", "not an email")...); err == nil {
		t.Errorf("link --new accepted an invalid email:\n%s", out)
	}
}

// TestLocalAccountsOff: register, login, logout and password answer 403
// local_accounts_disabled, and a token Portrait issued before is refused;
// provider tokens work.
func TestLocalAccountsOff(t *testing.T) {
	op := oidctest.Start(t)
	op.AddUser(t, keycloakAda)
	s := startServer(t, nil)
	local := s.newAccount(t)
	s.stop(t)
	s.env = providerEnv(map[string]string{"PORTRAIT_LOCAL_ACCOUNTS": "false", "PORTRAIT_DATA_DIR": s.dataDir, "PORTRAIT_ADDR": s.env["PORTRAIT_ADDR"]}, op)
	s.launch(t)
	for _, path := range []string{"/auth/register", "/auth/login", "/auth/logout", "/auth/password"} {
		assertProblem(t, postJSONT(t, s.base+path, local.token, map[string]string{"email": local.email, "password": local.password}),
			http.StatusForbidden, "local_accounts_disabled")
	}
	assertProblem(t, s.me(t, local.token), http.StatusUnauthorized, "invalid_token")
	s.mustMe(t, op.Token(t, keycloakAda.Subject))

	err := run(t.Context(), []string{"serve"}, func(k string) string {
		return map[string]string{"PORTRAIT_LOCAL_ACCOUNTS": "false", "PORTRAIT_DATA_DIR": t.TempDir(), "PORTRAIT_ADDR": freeAddr(t)}[k]
	}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "PORTRAIT_OIDC_ISSUER") {
		t.Errorf("serve without local accounts nor issuer: %v, want a refusal naming PORTRAIT_OIDC_ISSUER", err)
	}
}

// TestRefusedProviderTokens sends through the server what must be
// refused — expired, for another audience, unsigned, forged with the
// public key as an HMAC secret, tampered, naming unknown keys — each 401
// invalid_token, the unknown keys costing the provider one key-set fetch
// at most.
func TestRefusedProviderTokens(t *testing.T) {
	op := oidctest.Start(t)
	op.AddUser(t, keycloakAda)
	expired, elsewhere := keycloakAda, keycloakAda
	expired.Subject, expired.LifetimeSeconds = "expired", -300
	elsewhere.Subject, elsewhere.Audience = "elsewhere", []string{"another-api"}
	op.AddUser(t, expired)
	op.AddUser(t, elsewhere)
	s := startServer(t, providerEnv(nil, op))
	good := op.Token(t, keycloakAda.Subject)
	tokens := map[string]string{
		"expired": op.Token(t, expired.Subject), "wrong audience": op.Token(t, elsewhere.Subject),
		"alg none": oidctest.Unsigned(good), "tampered": oidctest.Tampered(good),
	}
	for _, enc := range oidctest.PublicKeyEncodings {
		tokens["hs256 keyed with the public key, "+enc] = op.HMACWithPublicKey(t, good, enc)
	}
	keys := op.Hits(t, "/keys")
	for i := range 100 {
		tokens[fmt.Sprintf("unknown kid %d", i)] = oidctest.Junk(op.Issuer, fmt.Sprintf("storm-%d", i))
	}
	for name, token := range tokens {
		r := s.me(t, token)
		if r.status != http.StatusUnauthorized || r.header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: %s", name, r)
		}
	}
	if n := op.Hits(t, "/keys") - keys; n > 1 {
		t.Errorf("100 tokens naming unknown keys made %d key-set fetches, want at most 1", n)
	}
	s.mustMe(t, good)
}

// TestProviderDown: a provider that does not answer makes Portrait answer
// 503 with Retry-After wherever it is needed (discovery at the first
// request, userinfo for a new bare token), never 401 nor 500; a known
// user's token of a key already held keeps working.
func TestProviderDown(t *testing.T) {
	op := oidctest.Start(t)
	op.AddUser(t, keycloakAda)
	op.AddUser(t, oidctest.User{Subject: "bare", GivenName: "Grace"})
	known, bare := op.Token(t, keycloakAda.Subject), op.Token(t, "bare")
	op.Stop(t)
	cold := startServer(t, providerEnv(nil, op))
	r := cold.me(t, known)
	assertProblem(t, r, http.StatusServiceUnavailable, "unavailable")
	if r.header.Get("Retry-After") == "" {
		t.Errorf("503 without Retry-After: %v", r.header)
	}
	if !strings.Contains(cold.logs.String(), "identity provider unavailable") {
		t.Errorf("the start did not log the unreachable provider:\n%s", cold.logs)
	}

	op.Restart(t)
	warm := startServer(t, providerEnv(nil, op))
	warm.mustMe(t, known)
	op.Stop(t)
	warm.mustMe(t, known)
	assertProblem(t, warm.me(t, bare), http.StatusServiceUnavailable, "unavailable")
}

// TestTwoIssuers accepts two providers at once; one subject and one email
// at both are two identities, so two users: neither sub nor email is an
// identity without its issuer.
func TestTwoIssuers(t *testing.T) {
	a, b := oidctest.Start(t), oidctest.Start(t)
	a.AddUser(t, keycloakAda)
	b.AddUser(t, keycloakAda)
	s := startServer(t, providerEnv(nil, a, b))
	ua, ub := s.mustMe(t, a.Token(t, keycloakAda.Subject)), s.mustMe(t, b.Token(t, keycloakAda.Subject))
	if ua["id"] == ub["id"] {
		t.Errorf("one user %v for the same subject at two issuers", ua["id"])
	}
	if ua["email"] != "ada@example.com" || ub["email"] != "ada@example.com" {
		t.Errorf("emails %v, %v: both providers vouch for ada@example.com", ua["email"], ub["email"])
	}
}

// TestProviderUserProcess runs `portrait serve` as a process, as it ships:
// a provider's token uploads through the contract's PATCH
// /users/image/upload, and after a restart the identity is the same user
// with the same image.
func TestProviderUserProcess(t *testing.T) {
	op := oidctest.Start(t)
	op.AddUser(t, keycloakAda)
	p := startProc(t, "PORTRAIT_DATA_DIR="+t.TempDir(), "PORTRAIT_OIDC_ISSUER="+op.Issuer, "PORTRAIT_OIDC_AUDIENCE="+oidctest.Audience)
	token := op.Token(t, keycloakAda.Subject)
	r, err := tryUpload(p.base, token, photo(t, 120, 90))
	if err != nil || r.status != http.StatusOK {
		t.Fatalf("upload with a provider token: %v %s", err, r)
	}
	img, _ := r.data(t)["profile_image"].(string)
	id, _ := r.data(t)["id"].(string)
	p.restart()
	if got := profileImage(t, p.base, op.Token(t, keycloakAda.Subject)); got != img {
		t.Errorf("after a restart profile_image = %q, want %q", got, img)
	}
	me := do(t, "GET", p.base+"/users/me", token, "", nil)
	if me.status != http.StatusOK || me.data(t)["id"] != id {
		t.Errorf("after a restart: %s, want user %s", me, id)
	}
}

// TestLinkFlagsIgnoreEnvironment: the flags of portrait link come from its
// command line only, so that a stray PORTRAIT_REMOVE=true or PORTRAIT_USER
// cannot change what an operator's command does; the shared ones still
// fall back to the environment.
func TestLinkFlagsIgnoreEnvironment(t *testing.T) {
	var f linkFlags
	env := map[string]string{"PORTRAIT_REMOVE": "true", "PORTRAIT_USER": "u1", "PORTRAIT_OIDC_ISSUER": "https://idp.example.com"}
	cfg, err := parseConfig("link", []string{"--subject", "s"}, func(k string) string { return env[k] }, io.Discard, io.Discard, f.add)
	if err != nil {
		t.Fatal(err)
	}
	if f.remove || f.user != "" || f.subject != "s" || cfg.OIDCIssuer != "https://idp.example.com" {
		t.Errorf("link flags %+v, issuer %q: want only --subject from the command line, the issuer from the environment", f, cfg.OIDCIssuer)
	}
}
