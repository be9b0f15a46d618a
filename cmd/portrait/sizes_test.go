package main

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/portraitsvc/portrait/internal/testimage"
	"github.com/portraitsvc/portrait/webp"
)

// TestEverySizeAtTheStableURL: an upload is stored at every default size,
// as JPEG and, up to 256, as WebP; GET /users/me lists them all with the
// placeholder and colour, and the stable URL redirects each request to the
// smallest stored size that covers it, in the format asked for.
func TestEverySizeAtTheStableURL(t *testing.T) {
	requireWebP(t)
	s := startServer(t, nil)
	a := s.newAccount(t)
	if r := s.uploadFile(t, a.token, photo(t, 1200, 900)); r.status != 200 {
		t.Fatalf("upload: %s", r)
	}
	var got []string
	for _, v := range imageVariants(t, s.base, a.token) {
		got = append(got, fmt.Sprintf("%d %s", v.Size, v.Type))
	}
	slices.Sort(got)
	want := []string{"128 image/jpeg", "128 image/webp", "256 image/jpeg", "256 image/webp", "512 image/jpeg", "64 image/jpeg", "64 image/webp"}
	if !slices.Equal(got, want) {
		t.Fatalf("variants %q, want %q", got, want)
	}
	checkSet(t, s.base, a.token)
	img, _ := do(t, "GET", s.base+"/users/me", a.token, "", nil).data(t)["image"].(map[string]any)
	if p, c := fmt.Sprint(img["placeholder"]), fmt.Sprint(img["color"]); len(p) != 36 || len(c) != 7 || c[0] != '#' {
		t.Errorf("placeholder %q, colour %q; want a BlurHash and #rrggbb", p, c)
	}
	for _, c := range []struct {
		query, accept, wantType string
		wantSide                int
	}{
		{"?size=40", "", "image/jpeg", 64},
		{"?size=64", "", "image/jpeg", 64},
		{"?size=65&format=jpeg", "", "image/jpeg", 128},
		{"?size=200", "", "image/jpeg", 256},
		{"?size=300", "", "image/jpeg", 512},
		{"?size=2000", "", "image/jpeg", 512},
		{"", "", "image/jpeg", 512},
		{"?size=100&format=webp", "", "image/webp", 128},
		{"?size=100", "image/avif,image/webp,*/*", "image/webp", 128},
		{"?size=256", "image/webp", "image/webp", 256},
		{"?size=257&format=webp", "", "image/jpeg", 512}, // WebP stops at --webp-max-size
		{"?size=100", "image/webp;q=0, */*", "image/jpeg", 128},
	} {
		r := getPicture(t, s, a.id, c.query, c.accept)
		if r.status != http.StatusFound {
			t.Errorf("GET %s (Accept %q): %s", c.query, c.accept, r)
			continue
		}
		v := variant{Size: c.wantSide, Type: c.wantType, URL: r.header.Get("Location")}
		if err := servedVariant(v); err != nil {
			t.Errorf("GET %s (Accept %q): %v", c.query, c.accept, err)
		}
	}
}

// requireWebP skips the test if this build of the server makes no WebP:
// one built without -tags nodynamic on a machine with a system libwebp
// (package webp), which serve runs without WebP, saying so.
func requireWebP(t *testing.T) {
	if _, err := webp.New(1); err != nil {
		t.Skipf("this build makes no WebP (%v); build with -tags nodynamic", err)
	}
}

// TestWebPSettings: --webp-max-size 0 stores no WebP, and --avatar-sizes
// decides the sizes, the largest being profile_image.
func TestWebPSettings(t *testing.T) {
	s := startServer(t, map[string]string{"PORTRAIT_WEBP_MAX_SIZE": "0", "PORTRAIT_AVATAR_SIZES": "40, 300"})
	a := s.newAccount(t)
	r := s.uploadFile(t, a.token, photo(t, 800, 600))
	if url, _ := r.data(t)["profile_image"].(string); r.status != 200 || !strings.HasSuffix(url, "/300.jpg") {
		t.Fatalf("upload: %s; want profile_image …/300.jpg", r)
	}
	keys := checkSet(t, s.base, a.token)
	if len(keys) != 2 || !strings.HasSuffix(keys[0], "/300.jpg") || !strings.HasSuffix(keys[1], "/40.jpg") {
		t.Errorf("set %q, want 300.jpg and 40.jpg", keys)
	}
	for _, bad := range []string{"0", "4096", "big", ""} {
		ctx, env := t.Context(), map[string]string{"PORTRAIT_DATA_DIR": t.TempDir(), "PORTRAIT_AVATAR_SIZES": bad, "PORTRAIT_ADDR": "127.0.0.1:0"}
		if bad == "" {
			env["PORTRAIT_AVATAR_SIZES"] = " , "
		}
		err := run(ctx, []string{"serve"}, func(k string) string { return env[k] }, &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "--avatar-sizes") {
			t.Errorf("--avatar-sizes %q: serve returned %v, want an error naming the setting", bad, err)
		}
	}
}

// uploadCropped uploads data with the crop fields given as strings ("" to
// leave one out).
func uploadCropped(t *testing.T, s *testServer, token string, data []byte, crop [4]string) reply {
	t.Helper()
	parts := []part{{"file", "photo.jpg", "image/jpeg", data}}
	for i, name := range []string{"crop_x", "crop_y", "crop_width", "crop_height"} {
		if crop[i] != "" {
			parts = append(parts, part{name, "", "", []byte(crop[i])})
		}
	}
	return s.upload(t, token, parts...)
}

// TestCropThroughTheAPI: the crop fields, in pixels of the upright picture
// as a crop dialog reports them (decimals included), decide what the
// stored avatar shows, for a photo stored upright and one stored turned
// with Exif orientation 6 as phones do.
func TestCropThroughTheAPI(t *testing.T) {
	s := startServer(t, nil)
	a := s.newAccount(t)
	for _, o := range []int{1, 6} {
		data := testimage.WithOrientation(encodeJPEGQ(t, testimage.Quadrants(800, 600, o)), o)
		for _, c := range []struct {
			crop [4]string
			want [3]int // quadrants at the top left, top right and bottom centre (-1: any)
		}{
			{[4]string{"0", "0", "400", "300"}, [3]int{0, 0, 0}},
			{[4]string{"400.4", "300", "399.6", "299.5"}, [3]int{3, 3, 3}},
			{[4]string{"200", "0", "400", "300"}, [3]int{0, 1, -1}},
			{[4]string{"450", "50", "300", "500"}, [3]int{1, 1, 3}},
		} {
			r := uploadCropped(t, s, a.token, data, c.crop)
			if r.status != 200 {
				t.Fatalf("orientation %d, crop %v: %s", o, c.crop, r)
			}
			img := fetchImage(t, r.data(t)["profile_image"].(string), "image/jpeg")
			if got := testimage.QuadrantsShown(img); !testimage.QuadrantsMatch(got, c.want) {
				t.Errorf("orientation %d, crop %v: the avatar shows quadrants %v, want %v", o, c.crop, got, c.want)
			}
		}
	}
}

// TestCropRefused: a crop rectangle partly given, not numbers, empty or
// negative, or outside the upright picture is a 400 invalid_crop, and the
// current image stays.
func TestCropRefused(t *testing.T) {
	s := startServer(t, nil)
	a := s.newAccount(t)
	data := testimage.WithOrientation(encodeJPEGQ(t, testimage.Quadrants(400, 300, 6)), 6)
	current := s.uploadFile(t, a.token, data).data(t)["profile_image"]
	for _, crop := range [][4]string{
		{"0", "0", "100", ""}, {"", "", "", "100"}, {"0", "0", "abc", "100"}, {"0", "0", "NaN", "100"},
		{"0", "0", "Inf", "100"}, {"-5", "0", "100", "100"}, {"0", "0", "0", "100"}, {"0", "0", "0.2", "100"},
		{"0", "0", "401", "300"}, // inside the stored 300×400, outside the upright 400×300
		{"0", "0", "300", "400"}, {"350", "250", "100", "100"}, {"0", "0", strings.Repeat("1", 40), "1"},
	} {
		r := uploadCropped(t, s, a.token, data, crop)
		if r.status != 400 || r.code(t) != "invalid_crop" {
			t.Errorf("crop %q: %s, want 400 invalid_crop", crop, r)
		}
	}
	if got := profileImage(t, s.base, a.token); got != current {
		t.Errorf("profile_image %q after refused crops, want %q", got, current)
	}
}

// encodeJPEGQ encodes m as a quality-95 JPEG.
func encodeJPEGQ(t *testing.T, m image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
