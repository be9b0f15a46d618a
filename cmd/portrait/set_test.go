package main

import (
	"bytes"
	"fmt"
	"image"
	_ "image/jpeg" // the variants' formats, for image.DecodeConfig
	_ "image/png"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	_ "golang.org/x/image/webp"

	"github.com/portraitsvc/portrait"
)

// variant is one stored object of a user's image as GET /users/me lists it.
type variant struct {
	Size int
	Type string
	URL  string
	Key  string // the object key: the URL's path under the image base URL
}

// imageVariants returns what GET base/users/me lists of the user's
// current image, image.variants, or nil for a user without a picture;
// the images are served from base too.
func imageVariants(t testing.TB, base, token string) []variant {
	t.Helper()
	return imageVariantsAt(t, base, base, token)
}

// imageVariantsAt is imageVariants for a server whose image URLs start
// with imageBase (PORTRAIT_IMAGE_BASE_URL), failing the test on a variant
// URL that does not.
func imageVariantsAt(t testing.TB, base, imageBase, token string) []variant {
	t.Helper()
	r := do(t, "GET", base+"/users/me", token, "", nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET %s/users/me: %s", base, r)
	}
	img, _ := r.data(t)["image"].(map[string]any)
	list, _ := img["variants"].([]any)
	var out []variant
	for _, e := range list {
		m, _ := e.(map[string]any)
		v := variant{Type: fmt.Sprint(m["type"]), URL: fmt.Sprint(m["url"])}
		size, _ := m["size"].(float64)
		v.Size = int(size)
		rest, ok := strings.CutPrefix(v.URL, imageBase+"/")
		key, err := url.PathUnescape(rest)
		if !ok || err != nil || !strings.HasPrefix(key, portrait.ImagePrefix) {
			t.Fatalf("variant URL %q is not under %s/%s", v.URL, imageBase, portrait.ImagePrefix)
		}
		v.Key = key
		out = append(out, v)
	}
	return out
}

// setKeys returns the sorted object keys of the user's current image.
func setKeys(t testing.TB, base, token string) []string {
	t.Helper()
	return keysOf(imageVariants(t, base, token))
}

// keysOf returns the sorted object keys of vs.
func keysOf(vs []variant) []string {
	var keys []string
	for _, v := range vs {
		keys = append(keys, v.Key)
	}
	slices.Sort(keys)
	return keys
}

// servedVariant checks that v's URL answers 200 with an image of v's type
// and size a side.
func servedVariant(v variant) error {
	r, err := tryDo("GET", v.URL, "", "", nil)
	switch {
	case err != nil:
		return err
	case r.status != http.StatusOK || r.header.Get("Content-Type") != v.Type:
		return fmt.Errorf("GET %s answered %s, want 200 %s", v.URL, r, v.Type)
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(r.body))
	if err != nil || cfg.Width != v.Size || cfg.Height != v.Size {
		return fmt.Errorf("%s is %d×%d (%v), want %d×%d", v.URL, cfg.Width, cfg.Height, err, v.Size, v.Size)
	}
	return nil
}

// checkSet checks that every object of the user's current image is
// served, whole and of its size, and returns their keys, sorted.
func checkSet(t testing.TB, base, token string) []string {
	t.Helper()
	vs := imageVariants(t, base, token)
	for _, v := range vs {
		if err := servedVariant(v); err != nil {
			t.Error(err)
		}
	}
	return keysOf(vs)
}

// storedKeys returns the sorted keys of the objects of the in-process
// server's local bucket.
func (s *testServer) storedKeys(t testing.TB) []string {
	t.Helper()
	return bucketFiles(t, s.dataDir, false)
}
