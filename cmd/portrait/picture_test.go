package main

import (
	"bytes"
	"image"
	"image/png"
	"io"
	"net/http"
	"strings"
	"testing"
)

// noRedirects is a client that shows redirects instead of following them.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// getPicture asks the stable picture URL of user id, with query and an
// Accept header, without following its redirect.
func getPicture(t *testing.T, s *testServer, id, query, accept string, header ...string) reply {
	t.Helper()
	req, err := http.NewRequest("GET", s.base+"/users/"+id+"/image"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, b}
}

// TestDefaultPicture: a user without a picture gets, at the stable URL, a
// generated one at the size asked, cacheable and conditional; an unknown
// user is 404 and a bad size 400.
func TestDefaultPicture(t *testing.T) {
	s := startServer(t, nil)
	a := s.newAccount(t)
	r := getPicture(t, s, a.id, "?size=40", "")
	if r.status != 200 || r.header.Get("Content-Type") != "image/png" || r.header.Get("Cache-Control") != "public, max-age=60" {
		t.Fatalf("default picture: %d %v", r.status, r.header)
	}
	img, err := png.Decode(bytes.NewReader(r.body))
	if err != nil || img.Bounds() != image.Rect(0, 0, 48, 48) {
		t.Fatalf("default picture at 40 px: %v, %v; want a 48×48 PNG (sizes go by 16)", img.Bounds(), err)
	}
	etag := r.header.Get("ETag")
	if again := getPicture(t, s, a.id, "?size=40", "", "If-None-Match", etag); etag == "" || again.status != 304 {
		t.Errorf("conditional request with ETag %q: %d, want 304", etag, again.status)
	}
	if other := getPicture(t, s, a.id, "?size=200", ""); other.header.Get("ETag") == etag {
		t.Error("two sizes share an ETag")
	}
	if r := getPicture(t, s, "01234567-89ab-cdef-0123-456789abcdef", "", ""); r.status != 404 || r.code(t) != "not_found" {
		t.Errorf("unknown user: %s", r)
	}
	for _, q := range []string{"?size=0", "?size=big", "?size=5000", "?format=gif"} {
		if r := getPicture(t, s, a.id, q, ""); r.status != 400 || r.code(t) != "invalid_request" {
			t.Errorf("GET %s: %s, want 400 invalid_request", q, r)
		}
	}
}

// TestStablePictureURL: once a user has a picture, the stable URL, which
// GET /users/me names, redirects briefly to the object of the size and
// format asked for.
func TestStablePictureURL(t *testing.T) {
	s := startServer(t, nil)
	a := s.newAccount(t)
	up := s.uploadFile(t, a.token, photo(t, 600, 600))
	profileImage, _ := up.data(t)["profile_image"].(string)
	me := do(t, "GET", s.base+"/users/me", a.token, "", nil).data(t)
	picture, _ := me["image"].(map[string]any)
	if url, _ := picture["url"].(string); url != s.base+"/users/"+a.id+"/image" {
		t.Fatalf("GET /users/me image.url = %v, want the stable URL", picture["url"])
	}
	r := getPicture(t, s, a.id, "?size=64", "image/avif,image/webp,*/*")
	if r.status != http.StatusFound || r.header.Get("Cache-Control") != "public, max-age=60" ||
		!strings.Contains(strings.Join(r.header.Values("Vary"), ","), "Accept") {
		t.Fatalf("stable URL: %d %v", r.status, r.header)
	}
	if loc := r.header.Get("Location"); !strings.HasPrefix(loc, strings.TrimSuffix(profileImage, "512.jpg")) {
		t.Errorf("redirect to %q, want an object of the set of %q", loc, profileImage)
	}
}
