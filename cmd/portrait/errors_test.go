package main

import (
	"bytes"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestUploadRejections sends every kind of bad upload and checks the
// status and code, and that the user keeps the image they had.
func TestUploadRejections(t *testing.T) {
	s := startServer(t, nil)
	a := s.newAccount(t)
	good := photo(t, 64, 64)
	current := s.uploadFile(t, a.token, good).data(t)["profile_image"]
	big := bytes.Repeat([]byte{0xFF}, 17<<20)
	manyParts := make([]part, 40)
	for i := range manyParts {
		manyParts[i] = part{"extra", "", "", []byte("x")}
	}

	cases := []struct {
		name   string
		ctype  string
		body   []byte
		status int
		code   string
	}{
		{"json body", "application/json", []byte(`{"file":"x"}`), 400, "not_multipart"},
		{"no content type", "", good, 400, "not_multipart"},
		{"multipart without boundary", "multipart/form-data", good, 400, "not_multipart"},
		{"no file part", bodyOf(part{"avatar", "a.jpg", "image/jpeg", good}), nil, 400, "missing_file"},
		{"two file parts", bodyOf(part{"file", "a.jpg", "", good}, part{"file", "b.jpg", "", good}), nil, 400, "multiple_files"},
		{"empty file", bodyOf(part{"file", "a.jpg", "image/jpeg", nil}), nil, 400, "empty_file"},
		{"text named .jpg", bodyOf(part{"file", "notes.jpg", "image/jpeg", []byte("just some text")}), nil, 400, "unsupported_image_type"},
		{"svg with script", bodyOf(part{"file", "a.svg", "image/svg+xml", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`)}), nil, 400, "unsupported_image_type"},
		{"html", bodyOf(part{"file", "a.png", "image/png", []byte("<!doctype html><script>alert(1)</script>")}), nil, 400, "unsupported_image_type"},
		{"truncated jpeg", bodyOf(part{"file", "a.jpg", "image/jpeg", good[:len(good)/3]}), nil, 400, "corrupt_image"},
		{"17 MiB file", bodyOf(part{"file", "big.jpg", "image/jpeg", big}), nil, 413, "file_too_large"},
		{"too many parts", bodyOf(append(manyParts, part{"file", "a.jpg", "", good})...), nil, 400, "too_many_parts"},
		{"cut-off multipart", "multipart/form-data; boundary=xyz", []byte("--xyz\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nabc"), 400, "invalid_request"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctype, body := c.ctype, c.body
			if body == nil {
				ctype, body = splitBody(c.ctype)
			}
			r := do(t, "PATCH", s.base+"/users/image/upload", a.token, ctype, bytes.NewReader(body))
			if r.status != c.status || r.code(t) != c.code {
				t.Fatalf("got %s, want %d %s", r, c.status, c.code)
			}
		})
	}
	if me := do(t, "GET", s.base+"/users/me", a.token, "", nil); me.data(t)["profile_image"] != current {
		t.Fatalf("rejected uploads changed the image: %s", me)
	}
	if got, want := s.storedKeys(t), setKeys(t, s.base, a.token); !slices.Equal(got, want) {
		t.Fatalf("rejected uploads left %q, want the current set %q", got, want)
	}
}

// bodyOf encodes parts as one string "<content type>\x00<body>" so that
// table rows stay one line; splitBody undoes it.
func bodyOf(parts ...part) string {
	ct, b := multipartBody(parts...)
	return ct + "\x00" + string(b)
}

func splitBody(s string) (string, []byte) {
	ct, b, _ := strings.Cut(s, "\x00")
	return ct, []byte(b)
}

// TestChunkedBodyOverCap streams a body with no Content-Length past the cap.
func TestChunkedBodyOverCap(t *testing.T) {
	s := startServer(t, map[string]string{"PORTRAIT_MAX_UPLOAD_BYTES": "1048576"})
	a := s.newAccount(t)
	ct, head := multipartBody(part{"file", "a.jpg", "", []byte{0xFF, 0xD8}})
	head = head[:bytes.LastIndex(head, []byte("\r\n--"))]
	body := io.MultiReader(bytes.NewReader(head), io.LimitReader(zeros{}, 4<<20))
	req, _ := http.NewRequest("PATCH", s.base+"/users/image/upload", body)
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.ContentLength = -1
	if r := send(t, req); r.status != 413 || r.code(t) != "file_too_large" {
		t.Fatalf("4 MiB chunked over a 1 MiB cap: %s", r)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestAuthRejections(t *testing.T) {
	s := startServer(t, nil)
	a := s.newAccount(t)
	good := photo(t, 32, 32)
	for name, header := range map[string]string{
		"no header":        "",
		"garbage token":    "Bearer not-a-token",
		"basic scheme":     "Basic dXNlcjpwYXNz",
		"bearer, no token": "Bearer ",
		"token only":       a.token,
	} {
		t.Run(name, func(t *testing.T) {
			ct, body := multipartBody(part{"file", "a.jpg", "", good})
			req, _ := http.NewRequest("PATCH", s.base+"/users/image/upload", bytes.NewReader(body))
			req.Header.Set("Content-Type", ct)
			if header != "" {
				req.Header.Set("Authorization", header)
			}
			r := send(t, req)
			if r.status != 401 || r.code(t) != "invalid_token" || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("got %s, WWW-Authenticate %q", r, r.header.Get("WWW-Authenticate"))
			}
		})
	}
	req, _ := http.NewRequest("GET", s.base+"/users/me", nil)
	req.Header.Set("Authorization", "bEaReR "+a.token)
	if r := send(t, req); r.status != 200 {
		t.Fatalf("scheme in other case rejected: %s", r)
	}
}

func TestRegisterAndLogin(t *testing.T) {
	s := startServer(t, nil)
	valid := func() map[string]any {
		return map[string]any{"first_name": "Ada", "last_name": "Lovelace", "email": "Ada@Example.com",
			"phone_number": "+15551234567", "password": "correct horse"}
	}
	if r := postJSONT(t, s.base+"/auth/register", "", valid()); r.status != 201 {
		t.Fatalf("register: %s", r)
	}
	with := func(k string, v any) map[string]any { m := valid(); m[k] = v; return m }
	cases := []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"same email in other case", with("email", "ada@EXAMPLE.com"), 409, "email_taken"},
		{"bad email", with("email", "ada-at-example.com"), 400, "validation_failed"},
		{"email with display name", with("email", "Ada <ada2@example.com>"), 400, "validation_failed"},
		{"short password", with("password", "1234567"), 400, "validation_failed"},
		{"password over 1024 bytes", with("password", strings.Repeat("p", 1025)), 400, "validation_failed"},
		{"phone not E.164", with("phone_number", "555-1234"), 400, "validation_failed"},
		{"empty first name", with("first_name", "  "), 400, "validation_failed"},
		{"unknown field", with("admin", true), 400, "invalid_request"},
		{"wrong type", with("first_name", 42), 400, "invalid_request"},
		{"not json", "{", 400, "invalid_request"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := postJSONT(t, s.base+"/auth/register", "", c.body)
			if raw, ok := c.body.(string); ok {
				r = do(t, "POST", s.base+"/auth/register", "", "application/json", strings.NewReader(raw))
			}
			if r.status != c.status || r.code(t) != c.code {
				t.Fatalf("got %s, want %d %s", r, c.status, c.code)
			}
		})
	}
	for name, creds := range map[string]map[string]string{
		"wrong password": {"email": "ada@example.com", "password": "wrong password"},
		"unknown email":  {"email": "nobody@example.com", "password": "correct horse"},
	} {
		r := postJSONT(t, s.base+"/auth/login", "", creds)
		if r.status != 401 || r.code(t) != "invalid_credentials" || !strings.Contains(string(r.body), "email or password") {
			t.Errorf("login with %s: %s", name, r)
		}
	}
	r := postJSONT(t, s.base+"/auth/login", "", map[string]string{"email": "ADA@example.com", "password": "correct horse"})
	if r.status != 200 || r.data(t)["token_type"] != "Bearer" || r.data(t)["expires_in"] != float64(3600) {
		t.Fatalf("login with the email in other case: %s", r)
	}
}
