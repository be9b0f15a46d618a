package portrait_test

import (
	"reflect"
	"testing"

	"github.com/portraitsvc/portrait"
)

func TestPick(t *testing.T) {
	img := portrait.Image{Set: "s/", Key: "s/512.jpg", Variants: []portrait.Variant{
		{Name: "512.jpg", Side: 512, ContentType: "image/jpeg"}, {Name: "256.jpg", Side: 256, ContentType: "image/jpeg"}, {Name: "64.jpg", Side: 64, ContentType: "image/jpeg"},
		{Name: "512.webp", Side: 512, ContentType: "image/webp"}, {Name: "64.webp", Side: 64, ContentType: "image/webp"},
	}}
	for _, c := range []struct {
		side  int
		types []string
		want  string
	}{
		{40, []string{"image/jpeg"}, "64.jpg"},
		{64, []string{"image/jpeg"}, "64.jpg"},
		{65, []string{"image/jpeg"}, "256.jpg"},
		{300, []string{"image/jpeg"}, "512.jpg"},
		{2000, []string{"image/jpeg"}, "512.jpg"},
		{100, []string{"image/webp", "image/jpeg"}, "512.webp"},
		{100, []string{"image/png", "image/jpeg"}, "256.jpg"},
	} {
		if v, ok := img.Pick(c.side, c.types...); !ok || img.KeyOf(v) != "s/"+c.want {
			t.Errorf("Pick(%d, %q) = %q, %v; want %q", c.side, c.types, img.KeyOf(v), ok, "s/"+c.want)
		}
	}
	if _, ok := img.Pick(64, "image/gif"); ok {
		t.Error("Pick found a type the image does not have")
	}
	if v, _ := img.Pick(600, "image/webp", "image/jpeg"); v.Name != "512.webp" {
		t.Errorf("Pick(600) of WebP or JPEG = %q; want the largest, in the preferred type", v.Name)
	}
}

// TestPickLargerJPEGOverSmallerWebP: when WebP stops below the size asked
// (--webp-max-size), the larger JPEG is served rather than an enlarged
// WebP.
func TestPickLargerJPEGOverSmallerWebP(t *testing.T) {
	img := portrait.Image{Set: "s/", Key: "s/512.jpg", Variants: []portrait.Variant{
		{Name: "512.jpg", Side: 512, ContentType: "image/jpeg"}, {Name: "256.jpg", Side: 256, ContentType: "image/jpeg"},
		{Name: "256.webp", Side: 256, ContentType: "image/webp"}, {Name: "64.webp", Side: 64, ContentType: "image/webp"},
	}}
	for side, want := range map[int]string{40: "64.webp", 200: "256.webp", 256: "256.webp", 300: "512.jpg", 1000: "512.jpg"} {
		if v, _ := img.Pick(side, "image/webp", "image/jpeg"); v.Name != want {
			t.Errorf("Pick(%d) = %q, want %q", side, v.Name, want)
		}
	}
}

// TestPickImageWithoutVariants: an image stored before sets had sizes is
// served as its one object, whatever size is asked.
func TestPickImageWithoutVariants(t *testing.T) {
	img := portrait.Image{Set: "profileImages/u/ab-1.jpg", Key: "profileImages/u/ab-1.jpg"}
	v, ok := img.Pick(64, "image/webp", "image/jpeg")
	if !ok || img.KeyOf(v) != img.Key || v.ContentType != "image/jpeg" {
		t.Fatalf("Pick = %+v, %v; want the one object", v, ok)
	}
	if got := (portrait.Image{}).Stored(); len(got) != 0 {
		t.Errorf("no image has variants %v", got)
	}
}

func TestDetailsRoundTrip(t *testing.T) {
	img := portrait.Image{Set: "s/", Key: "s/512.png", Placeholder: "LEHV6nWB2yk8", Color: "#ffffff",
		Variants: []portrait.Variant{{Name: "512.png", Side: 512, ContentType: "image/png"}, {Name: "512.webp", Side: 512, ContentType: "image/webp"}}}
	back, err := portrait.Image{Set: img.Set, Key: img.Key}.WithDetails(img.Details())
	if err != nil || !reflect.DeepEqual(back, img) {
		t.Fatalf("round trip = %+v, %v; want %+v", back, err, img)
	}
	if d := (portrait.Image{Set: "s/", Key: "s/a.jpg"}).Details(); d != "" {
		t.Errorf("Details of an image without any = %q, want \"\"", d)
	}
}
