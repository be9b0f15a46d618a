package web

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

func newSite(t *testing.T) *Site {
	t.Helper()
	s, err := New("http://127.0.0.1:8080", "https://cdn.example.com/images")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func get(h http.Handler, target string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// assetMux serves the site as http/routes.go does.
func assetMux(s *Site) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", s.Page())
	mux.Handle("GET /assets/{name}", s.Assets(http.NotFoundHandler()))
	return mux
}

// TestPagePolicy: the page runs its own code only, shows images from the
// API's and the image base URL's origins and blob: URLs, and nothing else.
func TestPagePolicy(t *testing.T) {
	w := get(newSite(t).Page(), "/")
	if w.Code != 200 || w.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /: %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	csp := w.Header().Get("Content-Security-Policy")
	for _, want := range []string{
		"default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'",
		"img-src 'self' http://127.0.0.1:8080 https://cdn.example.com blob:",
		"frame-ancestors 'none'", "form-action 'none'", "base-uri 'none'", "require-trusted-types-for 'script'",
	} {
		if !strings.Contains(csp, want) {
			t.Errorf("policy %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") || strings.Contains(csp, "data:") || strings.Contains(csp, "*") {
		t.Errorf("policy %q allows more than the page needs", csp)
	}
}

// TestPageCaching: the page is revalidated on every visit (so a release is
// seen at once) and answers 304 to its ETag; assets are immutable under
// names that change with their content.
func TestPageCaching(t *testing.T) {
	s := newSite(t)
	w := get(s.Page(), "/")
	etag := w.Header().Get("ETag")
	if w.Header().Get("Cache-Control") != "no-cache" || etag == "" {
		t.Fatalf("page: Cache-Control %q, ETag %q", w.Header().Get("Cache-Control"), etag)
	}
	if again := get(s.Page(), "/", "If-None-Match", etag); again.Code != http.StatusNotModified {
		t.Errorf("page with If-None-Match: %d, want 304", again.Code)
	}
	for _, ref := range pageRefs(t, w.Body.Bytes()) {
		a := get(assetMux(s), "/"+ref)
		if a.Code != 200 || a.Header().Get("Cache-Control") != "public, max-age=31536000, immutable" {
			t.Errorf("%s: %d, Cache-Control %q", ref, a.Code, a.Header().Get("Cache-Control"))
		}
		name := strings.TrimPrefix(ref, "assets/")
		if hash := strings.Split(name, ".")[1]; !strings.Contains(a.Header().Get("ETag"), hash) {
			t.Errorf("%s: name does not carry its content's hash (ETag %s)", ref, a.Header().Get("ETag"))
		}
	}
	if w := get(assetMux(s), "/assets/app.js"); w.Code != http.StatusNotFound {
		t.Errorf("an asset by its unhashed name: %d, want 404", w.Code)
	}
}

// TestAssetTypes: each asset has its own type, so that nosniff browsers
// run the script and apply the style.
func TestAssetTypes(t *testing.T) {
	s := newSite(t)
	want := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
	refs := pageRefs(t, get(s.Page(), "/").Body.Bytes())
	if len(refs) < 3 {
		t.Fatalf("page refers to %v, want its script, style and icon", refs)
	}
	for _, ref := range refs {
		ext := ref[strings.LastIndex(ref, "."):]
		if got := get(assetMux(s), "/"+ref).Header().Get("Content-Type"); got != want[ext] {
			t.Errorf("%s: Content-Type %q, want %q", ref, got, want[ext])
		}
	}
}

// TestNoInlineCode: the page has no inline script or style, no event
// handler attributes and no javascript: URLs, which its policy would
// block anyway; every script and style is one of its assets.
func TestNoInlineCode(t *testing.T) {
	doc, err := html.Parse(bytes.NewReader(get(newSite(t).Page(), "/").Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		if n.Data == "style" || (n.Data == "script" && (attr(n, "src") == "" || n.FirstChild != nil)) {
			t.Errorf("inline <%s>", n.Data)
		}
		for _, a := range n.Attr {
			if a.Key == "style" || strings.HasPrefix(a.Key, "on") || strings.HasPrefix(strings.TrimSpace(a.Val), "javascript:") {
				t.Errorf("<%s %s=%q>", n.Data, a.Key, a.Val)
			}
		}
	}
}

// TestBadBaseURL: a base URL that is not http(s) is refused at start.
func TestBadBaseURL(t *testing.T) {
	for _, base := range []string{"ftp://x", "127.0.0.1:8080", "http://"} {
		if _, err := New(base, ""); err == nil {
			t.Errorf("New(%q) succeeded", base)
		}
	}
	if s, err := New("", ""); err != nil || !strings.Contains(s.csp, "img-src 'self' blob:") {
		t.Errorf("without base URLs: %v, policy %q", err, s.csp)
	}
}

// pageRefs returns the src and href of the page's script, link and img
// elements that point into assets/.
func pageRefs(t *testing.T, page []byte) []string {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var refs []string
	for n := range doc.Descendants() {
		for _, key := range []string{"src", "href"} {
			if v := attr(n, key); strings.HasPrefix(v, "assets/") && !seen[v] {
				seen[v] = true
				refs = append(refs, v)
			}
		}
	}
	return refs
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}
