// Package web is the page that lets a person try Portrait in a browser:
// sign up or log in, choose a picture, crop it, upload it through the
// contract's PATCH /users/image/upload, see its sizes, replace and delete
// it. Its files are embedded in the binary; nothing is fetched from
// elsewhere, and the page runs under a strict Content-Security-Policy.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"
)

//go:embed static
var static embed.FS

// Cache lifetimes: the page is revalidated on every visit, so that a new
// release is seen at once; assets have their content's hash in their
// names, so they never change and are kept for a year.
const (
	pageCache  = "no-cache"
	assetCache = "public, max-age=31536000, immutable"
)

// Site is the page and its assets, rendered once.
type Site struct {
	page   asset
	assets map[string]asset // by hashed name, such as "app.1a2b3c4d5e.js"
	csp    string
}

// asset is one file as served.
type asset struct {
	body        []byte
	contentType string
	etag        string
}

// New renders the page. publicURL is the base URL of this API, the
// stable picture URLs' origin; imageBaseURL is the base of the image
// URLs, which may be a CDN's. The page's policy lets it show images from
// both origins and nothing else from elsewhere.
func New(publicURL, imageBaseURL string) (*Site, error) {
	s := &Site{assets: map[string]asset{}}
	hashed := map[string]string{} // file name → hashed name
	if err := s.loadAssets(hashed); err != nil {
		return nil, err
	}
	page, err := renderPage(hashed)
	if err != nil {
		return nil, err
	}
	s.page = newAsset(page, "text/html; charset=utf-8")
	origins, err := imageOrigins(publicURL, imageBaseURL)
	if err != nil {
		return nil, err
	}
	s.csp = policy(origins)
	return s, nil
}

// loadAssets reads every file under static/assets and names it by hash.
func (s *Site) loadAssets(hashed map[string]string) error {
	return fs.WalkDir(static, "static/assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		ctype, ok := contentTypes[path.Ext(p)]
		if !ok {
			return fmt.Errorf("web: no content type for %s", p)
		}
		a := newAsset(body, ctype)
		name := d.Name()
		ext := path.Ext(name)
		h := strings.Trim(a.etag, `"`)[:10]
		hashed[name] = strings.TrimSuffix(name, ext) + "." + h + ext
		s.assets[hashed[name]] = a
		return nil
	})
}

// contentTypes are the types of the files under static/assets.
var contentTypes = map[string]string{
	".js":  "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8",
	".svg": "image/svg+xml",
}

func newAsset(body []byte, contentType string) asset {
	sum := sha256.Sum256(body)
	return asset{body: body, contentType: contentType, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
}

// renderPage executes static/index.html, whose {{asset "name"}} calls
// become the hashed URLs of assets, relative like the page's API calls.
func renderPage(hashed map[string]string) ([]byte, error) {
	funcs := template.FuncMap{"asset": func(name string) (string, error) {
		h, ok := hashed[name]
		if !ok {
			return "", fmt.Errorf("web: no asset %q", name)
		}
		return "assets/" + h, nil
	}}
	t, err := template.New("index.html").Funcs(funcs).ParseFS(static, "static/index.html")
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, nil); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// imageOrigins returns the distinct origins of the given base URLs,
// skipping empty ones.
func imageOrigins(bases ...string) ([]string, error) {
	var origins []string
	for _, b := range bases {
		if b == "" {
			continue
		}
		u, err := url.Parse(b)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("web: %q is not an http(s) URL", b)
		}
		if o := u.Scheme + "://" + u.Host; !slices.Contains(origins, o) {
			origins = append(origins, o)
		}
	}
	return origins, nil
}

// policy is the page's Content-Security-Policy: its own scripts, styles
// and API only; images also from imageOrigins and from blob: URLs (the
// picture being cropped, which never leaves the browser until uploaded);
// no inline code, no eval, no plugins, no frames, no native form posts,
// and Trusted Types enforced, so that no string can become markup.
func policy(imageOrigins []string) string {
	return strings.Join([]string{
		"default-src 'none'",
		"script-src 'self'",
		"style-src 'self'",
		"img-src " + strings.Join(slices.Concat([]string{"'self'"}, imageOrigins, []string{"blob:"}), " "),
		"connect-src 'self'",
		"base-uri 'none'",
		"form-action 'none'",
		"frame-ancestors 'none'",
		"require-trusted-types-for 'script'",
		"trusted-types 'none'",
	}, "; ")
}

// Page answers the page, revalidated on every visit.
func (s *Site) Page() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", s.csp)
		s.page.serve(w, r, pageCache)
	})
}

// Assets answers GET /assets/{name} with the asset of that hashed name,
// immutable; any other name is answered by notFound.
func (s *Site) Assets(notFound http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := s.assets[r.PathValue("name")]
		if !ok {
			notFound.ServeHTTP(w, r)
			return
		}
		a.serve(w, r, assetCache)
	})
}

// serve writes a with its type, ETag and cache lifetime; http.ServeContent
// answers conditional requests, HEAD and ranges.
func (a asset) serve(w http.ResponseWriter, r *http.Request, cacheControl string) {
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", cacheControl)
	h.Set("ETag", a.etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}
