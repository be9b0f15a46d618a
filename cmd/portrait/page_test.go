package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bbrks/go-blurhash"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// pageScreenshots, if set, is the folder TestPageInBrowser writes its
// screenshots to: go test ./cmd/portrait -run TestPageInBrowser -page-screenshots=$PWD/docs
var pageScreenshots = flag.String("page-screenshots", "", "folder to write screenshots of the page to")

// pagePhoto is a 1200×1800 JPEG whose EXIF orientation (6) makes it an
// upright 1800×1200 landscape.
const pagePhoto = "../../../shared/corpus/exif-orientation/Landscape_6.jpg"

// viewport is a screen the page is tried on.
type viewport struct {
	name          string
	width, height int64
	scale         float64 // device pixels per CSS pixel
	touch         bool    // a phone: touch emulation, and the crop is dragged by touch
}

var viewports = []viewport{
	{name: "desktop", width: 1280, height: 860, scale: 1},
	{name: "phone", width: 390, height: 844, scale: 2, touch: true},
}

// TestPageInBrowser drives the page at / in headless Chromium as a person
// would, at a desktop and at a phone width: sign up, choose a photo with
// EXIF rotation, crop it with the keyboard, the mouse (or touch) and a
// corner handle, upload, see the avatar and every size, delete, log out,
// log in again after a wrong password. Requests go through a proxy that
// records what the browser sent.
func TestPageInBrowser(t *testing.T) {
	exe := chromium(t)
	abs, photo := readPagePhoto(t)
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			p := startPageSession(t, exe, vp, true)
			p.signUp()
			p.cropAndUpload(abs, photo)
			p.deletePicture()
			p.logOutAndBackIn()
			p.checkConsole()
		})
	}
}

// TestPageServed: the binary serves the page at /, under a policy that
// lets it show images from the configured image base URL; / takes only
// GET, and an unknown asset is a 404 problem.
func TestPageServed(t *testing.T) {
	s := startServer(t, map[string]string{"PORTRAIT_IMAGE_BASE_URL": "https://cdn.example.com/portrait"})
	r := do(t, "GET", s.base+"/", "", "", nil)
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "text/html; charset=utf-8" || !bytes.Contains(r.body, []byte("<title>Portrait")) {
		t.Fatalf("GET /: %s %v", r, r.header)
	}
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self' "+s.base+" https://cdn.example.com blob:") {
		t.Errorf("the page's policy %q does not let it show the images", csp)
	}
	if r := do(t, "POST", s.base+"/", "", "", nil); r.status != http.StatusMethodNotAllowed || r.code(t) != "method_not_allowed" {
		t.Errorf("POST /: %s", r)
	}
	if r := do(t, "GET", s.base+"/assets/app.js", "", "", nil); r.status != http.StatusNotFound || r.code(t) != "not_found" {
		t.Errorf("an unhashed asset name: %s", r)
	}
}

// readPagePhoto returns the absolute path and the bytes of pagePhoto, or
// skips the test when the corpus is absent.
func readPagePhoto(t *testing.T) (string, []byte) {
	t.Helper()
	photo, err := os.ReadFile(pagePhoto)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("the photo corpus is absent (%s)", pagePhoto)
	}
	if err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs(pagePhoto)
	if err != nil {
		t.Fatal(err)
	}
	return abs, photo
}

// chromium returns the path of the Chromium to drive, or skips the test
// when there is none (and fails it under CI=true).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("Chromium is not installed; .ci/chromium-setup installs it (apt-get install chromium)")
	}
	t.Skip("Chromium is not installed (apt-get install chromium): skipping the page's browser test")
	return ""
}

// pageSession is a server, the recording proxy in front of it, whose URL
// is the server's public URL, and a browser tab on it.
type pageSession struct {
	t        *testing.T
	vp       viewport
	s        *testServer
	front    string // the proxy's URL: the page's origin
	rec      *uploadRecorder
	ctx      context.Context
	acct     account
	messages *consoleLog
}

// startPageSession starts it all; env holds the server's extra settings as
// name, value pairs. Without the proxy (proxied false), the browser talks
// to the server itself, as it would in production.
func startPageSession(t *testing.T, exe string, vp viewport, proxied bool, env ...string) *pageSession {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &pageSession{t: t, vp: vp, front: "http://" + l.Addr().String(), rec: &uploadRecorder{}}
	settings := map[string]string{"PORTRAIT_PUBLIC_URL": p.front}
	if !proxied {
		l.Close()
		settings = map[string]string{}
	}
	for i := 0; i+1 < len(env); i += 2 {
		settings[env[i]] = env[i+1]
	}
	p.s = startServer(t, settings)
	if proxied {
		target, _ := url.Parse(p.s.base)
		proxy := &http.Server{Handler: p.rec.wrap(httputil.NewSingleHostReverseProxy(target))}
		go proxy.Serve(l)
		t.Cleanup(func() { proxy.Close() })
	} else {
		p.front = p.s.base
	}
	p.ctx = newTab(t, exe)
	p.messages = collectConsole(p.ctx)
	opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(vp.scale)}
	if vp.touch {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	p.do(chromedp.EmulateViewport(vp.width, vp.height, opts...), reducedMotion())
	return p
}

// newTab starts a headless Chromium with a new, empty profile and returns
// the context of its tab; both end at cleanup. The flags keep Chromium
// from reaching out to the network on its own.
func newTab(t *testing.T, exe string) context.Context {
	profile := t.TempDir() // removed after the browser has exited (cleanups run last first)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(profile),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("force-color-profile", "srgb"))
	ctx, cancelTab := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelTab(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium (%s): %v", exe, err)
	}
	return ctx
}

// reducedMotion asks for prefers-reduced-motion, so that the page scrolls
// at once and the test reads positions that stay put.
func reducedMotion() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-reduced-motion", Value: "reduce"}}})
		return err
	})
}

func (p *pageSession) do(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, actions...); err != nil {
		p.t.Fatalf("%s: %v", p.vp.name, err)
	}
}

// eval returns the value of a JavaScript expression in the page.
func eval[T any](p *pageSession, expr string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitFor waits until a JavaScript expression is truthy, and returns it.
func waitFor[T any](p *pageSession, what, expr string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Poll[T](expr, chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil {
		p.t.Fatalf("waiting for %s (%s): %v\nthe page says: %s", what, expr, err, p.pageNotices())
	}
	return v
}

// pageNotices returns the page's visible messages, for failures.
func (p *pageSession) pageNotices() string {
	v, _ := chromedp.Run(p.ctx, chromedp.Evaluate[string](
		`[...document.querySelectorAll(".notice, .field-error")].filter(e => !e.hidden && e.textContent).map(e => e.id + ": " + e.textContent).join("; ")`))
	return v
}

// waitStatus waits for the page's status line to say text.
func (p *pageSession) waitStatus(text string) {
	p.t.Helper()
	waitFor[bool](p, fmt.Sprintf("status %q", text), fmt.Sprintf(`document.getElementById("status").textContent === %q`, text))
}

func (p *pageSession) signUp() {
	p.t.Helper()
	p.acct = account{email: "ada.lovelace@example.com", password: "correct horse battery staple"} // each session has its own server
	p.do(chromedp.Navigate(p.front+"/"), chromedp.WaitVisible(chromedp.ID("login")),
		chromedp.Click(chromedp.ID("tab-register")), chromedp.WaitVisible(chromedp.ID("register")),
		chromedp.SendKeys(chromedp.ID("reg-first"), "Ada"), chromedp.SendKeys(chromedp.ID("reg-last"), "Lovelace"),
		chromedp.SendKeys(chromedp.ID("reg-email"), p.acct.email), chromedp.SendKeys(chromedp.ID("reg-phone"), "+15551234567"),
		chromedp.SendKeys(chromedp.ID("reg-password"), p.acct.password),
		chromedp.Click(chromedp.CSS("#register button[type=submit]")))
	waitFor[bool](p, "the profile", `!document.getElementById("profile").hidden`)
	p.acct.token = eval[string](p, `sessionStorage.getItem("portrait.token")`)
	p.acct.id, _ = p.me()["id"].(string)
	// No picture yet: the default one, from the stable URL, sharp on this screen.
	img := p.waitAvatar()
	if want := p.front + "/users/" + p.acct.id + "/image?size="; !strings.HasPrefix(img.CurrentSrc, want) {
		p.t.Errorf("%s: avatar of a new user from %q, want the stable URL %q…", p.vp.name, img.CurrentSrc, want)
	}
	if want := int(240 * p.vp.scale); img.NaturalWidth != want || img.NaturalHeight != want {
		p.t.Errorf("%s: default picture is %d×%d, want %d² for 240 CSS px", p.vp.name, img.NaturalWidth, img.NaturalHeight, want)
	}
}

// me returns GET /users/me of the session's user, asked of the server.
func (p *pageSession) me() map[string]any {
	p.t.Helper()
	r := do(p.t, "GET", p.s.base+"/users/me", p.acct.token, "", nil)
	if r.status != http.StatusOK {
		p.t.Fatalf("GET /users/me with the page's token: %s", r)
	}
	return r.data(p.t)
}

// imageState is what the page shows of an <img>.
type imageState struct {
	CurrentSrc string  `json:"currentSrc"`
	Width      float64 `json:"width"` // CSS pixels on screen
	// NaturalWidth and NaturalHeight are the pixels of the image chosen:
	// not the <img>'s naturalWidth, which srcset divides by its density.
	NaturalWidth, NaturalHeight int
}

// waitAvatar waits until the avatar has loaded and faded in.
func (p *pageSession) waitAvatar() imageState {
	p.t.Helper()
	img := waitFor[imageState](p, "the avatar", `(() => {
		const i = document.getElementById("avatar-img");
		return i && i.complete && i.naturalWidth > 0 && i.classList.contains("loaded") &&
			{currentSrc: i.currentSrc, width: i.getBoundingClientRect().width};
	})()`)
	img.NaturalWidth, img.NaturalHeight = p.pixelSize(img.CurrentSrc)
	return img
}

// pixelSize returns the width and height of the image at url as the page
// decodes it (from its cache).
func (p *pageSession) pixelSize(url string) (int, int) {
	p.t.Helper()
	wh, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]int](fmt.Sprintf(
		`(async () => { const i = new Image(); i.src = %q; await i.decode(); return [i.naturalWidth, i.naturalHeight]; })()`, url),
		chromedp.EvalAwaitPromise))
	if err != nil || len(wh) != 2 {
		p.t.Fatalf("%s: decode %s in the page: %v", p.vp.name, url, err)
	}
	return wh[0], wh[1]
}

// cropAndUpload chooses the photo, checks the editor shows it upright,
// moves and resizes the square with every input the page offers, uploads,
// and checks what was sent and what is shown.
func (p *pageSession) cropAndUpload(path string, photo []byte) {
	p.t.Helper()
	p.do(chromedp.SetUploadFiles(chromedp.ID("file"), []string{path}), chromedp.WaitVisible(chromedp.ID("crop")))
	size := waitFor[[]int](p, "the photo in the editor", `(() => { const i = document.getElementById("source"); return i.complete && i.naturalWidth > 0 && [i.naturalWidth, i.naturalHeight]; })()`)
	if !slices.Equal(size, []int{1800, 1200}) {
		p.t.Fatalf("%s: the editor shows the photo as %v, want upright 1800×1200 (EXIF orientation 6)", p.vp.name, size)
	}
	p.expectCrop("the largest centred square", "1200 × 1200 px at 300, 0 of 1800 × 1200")
	p.keys("-", 5) // 12 px a step, on each side
	p.expectCrop("− five times", "1080 × 1080 px at 360, 60 of 1800 × 1200")
	p.dragCrop("#crop", -1000, -1000) // past the top-left corner: stops there
	p.expectCrop("dragged to the top left", "1080 × 1080 px at 0, 0 of 1800 × 1200")
	p.dragCrop(".handle.se", 150, 150) // past the bottom edge: stops there
	p.expectCrop("the corner dragged out", "1200 × 1200 px at 0, 0 of 1800 × 1200")
	p.keys("-", 10)
	p.do(chromedp.KeyEvent(kb.ArrowRight, chromedp.KeyModifiers(chromedp.ModifierShift)))
	p.expectCrop("− ten times and Shift+→", "960 × 960 px at 240, 120 of 1800 × 1200")
	p.screenshot("crop")

	p.do(chromedp.Click(chromedp.ID("upload")))
	p.waitStatus("Your picture is updated.")
	p.checkSent(photo, map[string]string{"crop_x": "240", "crop_y": "120", "crop_width": "960", "crop_height": "960"})
	variants := p.variants()
	p.checkAvatar(variants)
	p.checkPlaceholder()
	p.checkSizes(variants)
	p.checkFits()
	p.screenshot("")
}

// keys presses key n times in the crop square.
func (p *pageSession) keys(key string, n int) {
	p.t.Helper()
	p.do(chromedp.Focus(chromedp.ID("crop")))
	for range n {
		p.do(chromedp.KeyEvent(key))
	}
}

func (p *pageSession) expectCrop(after, want string) {
	p.t.Helper()
	if got := eval[string](p, `document.getElementById("crop-readout").textContent`); got != want {
		p.t.Fatalf("%s: after %s the page's crop is %q, want %q", p.vp.name, after, got, want)
	}
}

// rect is an element's box on screen, in CSS pixels.
type rect struct{ X, Y, Width, Height float64 }

// dragCrop drags the element sel from its centre by (dx, dy) CSS pixels,
// limited to the stage: with the mouse, or a finger on a phone.
func (p *pageSession) dragCrop(sel string, dx, dy float64) {
	p.t.Helper()
	r := eval[rect](p, fmt.Sprintf(`(() => { const r = document.querySelector(%q).getBoundingClientRect(); return {X: r.x, Y: r.y, Width: r.width, Height: r.height}; })()`, sel))
	stage := eval[rect](p, `(() => { const r = document.getElementById("stage").getBoundingClientRect(); return {X: r.x, Y: r.y, Width: r.width, Height: r.height}; })()`)
	fromX, fromY := r.X+r.Width/2, r.Y+r.Height/2
	toX := min(max(fromX+dx, stage.X+1), stage.X+stage.Width-1)
	toY := min(max(fromY+dy, stage.Y+1), stage.Y+stage.Height-1)
	if p.vp.touch {
		p.do(touchDrag(fromX, fromY, toX, toY, 10))
	} else {
		p.do(chromedp.DragAndDropXY(fromX, fromY, toX, toY, 10))
	}
}

// touchDrag moves one finger from one point to another in steps.
func touchDrag(fromX, fromY, toX, toY float64, steps int) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		touch := func(typ input.DispatchTouchEventType, x, y float64) error {
			points := []*input.TouchPoint{{X: x, Y: y, ID: new(0.0)}}
			if typ == input.DispatchTouchEventTypeTouchEnd {
				points = []*input.TouchPoint{}
			}
			_, err := cdp.Call(ctx, t, input.DispatchTouchEvent, input.DispatchTouchEventParams{Type: typ, TouchPoints: points})
			return err
		}
		if err := touch(input.DispatchTouchEventTypeTouchStart, fromX, fromY); err != nil {
			return err
		}
		for i := 1; i <= steps; i++ {
			f := float64(i) / float64(steps)
			if err := touch(input.DispatchTouchEventTypeTouchMove, fromX+(toX-fromX)*f, fromY+(toY-fromY)*f); err != nil {
				return err
			}
		}
		return touch(input.DispatchTouchEventTypeTouchEnd, toX, toY)
	})
}

// checkSent checks that the browser sent one upload: the photo's bytes
// unchanged, and the crop fields.
func (p *pageSession) checkSent(photo []byte, crop map[string]string) {
	p.t.Helper()
	ups := p.rec.all()
	if len(ups) != 1 {
		p.t.Fatalf("%s: the browser sent %d uploads, want 1", p.vp.name, len(ups))
	}
	if !bytes.Equal(ups[0].file, photo) {
		p.t.Errorf("%s: the browser sent a file of %d bytes, not the photo's %d", p.vp.name, len(ups[0].file), len(photo))
	}
	for k, v := range crop {
		if ups[0].fields[k] != v {
			p.t.Errorf("%s: the upload's %s is %q, want %q (fields sent: %v)", p.vp.name, k, ups[0].fields[k], v, ups[0].fields)
		}
	}
}

// variants returns the picture's variants as the server lists them, all
// at the page's origin (the server's public URL).
func (p *pageSession) variants() []variant {
	p.t.Helper()
	out := imageVariantsAt(p.t, p.s.base, p.front, p.acct.token)
	if len(out) == 0 {
		p.t.Fatalf("%s: after the upload GET /users/me lists no variants", p.vp.name)
	}
	return out
}

// checkAvatar checks that the avatar shown is one of the stored variants,
// at its size, WebP when a WebP variant covers its box, and sharp on this
// screen: no smaller than its box in device pixels, unless it is the
// largest.
func (p *pageSession) checkAvatar(variants []variant) {
	p.t.Helper()
	img := p.waitAvatar()
	i := slices.IndexFunc(variants, func(v variant) bool { return v.URL == img.CurrentSrc })
	if i < 0 {
		p.t.Fatalf("%s: the avatar shows %q, which is none of the variants %v", p.vp.name, img.CurrentSrc, variants)
	}
	v := variants[i]
	if img.NaturalWidth != v.Size || img.NaturalHeight != v.Size {
		p.t.Errorf("%s: the avatar's %s is %d×%d, want %d²", p.vp.name, v.URL, img.NaturalWidth, img.NaturalHeight, v.Size)
	}
	largest := slices.MaxFunc(variants, func(a, b variant) int { return a.Size - b.Size }).Size
	need := int(img.Width * p.vp.scale)
	webpFits := slices.ContainsFunc(variants, func(v variant) bool {
		return v.Type == "image/webp" && (v.Size >= need || v.Size == largest)
	})
	if webpFits && v.Type != "image/webp" {
		p.t.Errorf("%s: the avatar is %s though a WebP variant covers its box of %d device px", p.vp.name, v.Type, need)
	}
	if v.Size < need && v.Size != largest {
		p.t.Errorf("%s: the avatar is the %d px variant for a box of %d device px", p.vp.name, v.Size, need)
	}
}

// checkPlaceholder checks that the page drew the picture's BlurHash under
// the avatar as the reference decoder does, to within rounding, or left
// the canvas blank when the server gave no placeholder.
func (p *pageSession) checkPlaceholder() {
	p.t.Helper()
	img, _ := p.me()["image"].(map[string]any)
	hash, _ := img["placeholder"].(string)
	drawn := eval[[]int](p, `Array.from(document.getElementById("avatar-placeholder").getContext("2d").getImageData(0, 0, 32, 32).data)`)
	if len(drawn) != 32*32*4 {
		p.t.Fatalf("%s: the placeholder canvas has %d values", p.vp.name, len(drawn))
	}
	want := image.Image(image.NewNRGBA(image.Rect(0, 0, 32, 32))) // transparent
	if hash != "" {
		var err error
		if want, err = blurhash.Decode(hash, 32, 32, 1); err != nil {
			p.t.Fatalf("%s: placeholder %q: %v", p.vp.name, hash, err)
		}
	}
	worst := 0
	for i := range 32 * 32 {
		c := color.NRGBAModel.Convert(want.At(i%32, i/32)).(color.NRGBA)
		for k, v := range []uint8{c.R, c.G, c.B, c.A} {
			worst = max(worst, abs(drawn[4*i+k]-int(v)))
		}
	}
	if worst > 2 {
		p.t.Errorf("%s: the page's placeholder differs from %q decoded by up to %d levels", p.vp.name, hash, worst)
	}
}

func abs(n int) int { return max(n, -n) }

// checkSizes checks that the page lists every variant, each loaded at its
// size.
func (p *pageSession) checkSizes(variants []variant) {
	p.t.Helper()
	type shown struct {
		URL                         string
		NaturalWidth, NaturalHeight int
	}
	got := waitFor[[]shown](p, "the sizes", `(() => {
		const imgs = [...document.querySelectorAll("#variants img")];
		return !document.getElementById("sizes").hidden && imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0) &&
			imgs.map(i => ({URL: i.currentSrc, NaturalWidth: i.naturalWidth, NaturalHeight: i.naturalHeight}));
	})()`)
	if len(got) != len(variants) {
		p.t.Fatalf("%s: the page lists %d sizes, the server %d", p.vp.name, len(got), len(variants))
	}
	for _, s := range got {
		i := slices.IndexFunc(variants, func(v variant) bool { return v.URL == s.URL })
		if i < 0 || s.NaturalWidth != variants[i].Size || s.NaturalHeight != variants[i].Size {
			p.t.Errorf("%s: the page lists %s at %d×%d; variants %v", p.vp.name, s.URL, s.NaturalWidth, s.NaturalHeight, variants)
		}
	}
}

// checkFits checks that the page needs no sideways scrolling.
func (p *pageSession) checkFits() {
	p.t.Helper()
	if w := eval[[]int](p, `[document.documentElement.scrollWidth, window.innerWidth]`); w[0] > w[1] {
		p.t.Errorf("%s: the page is %d px wide in a %d px window", p.vp.name, w[0], w[1])
	}
}

// screenshot writes the whole page to the -page-screenshots folder, if set.
func (p *pageSession) screenshot(what string) {
	p.t.Helper()
	if *pageScreenshots == "" {
		return
	}
	png, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Fatal(err)
	}
	name := strings.Join(slices.DeleteFunc([]string{"page", p.vp.name, what}, func(s string) bool { return s == "" }), "-") + ".png"
	if err := os.WriteFile(filepath.Join(*pageScreenshots, name), png, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// deletePicture deletes the picture through the page's confirmation and
// checks that the default picture is back, and the set gone.
func (p *pageSession) deletePicture() {
	p.t.Helper()
	p.do(chromedp.Click(chromedp.ID("delete")), chromedp.WaitVisible(chromedp.ID("confirm")), chromedp.Click(chromedp.ID("confirm-delete")))
	p.waitStatus("Your picture is deleted; others see your initials.")
	img := p.waitAvatar()
	if !strings.HasPrefix(img.CurrentSrc, p.front+"/users/"+p.acct.id+"/image?size=") {
		p.t.Errorf("%s: after delete the avatar is %q, want the default picture", p.vp.name, img.CurrentSrc)
	}
	pic, _ := p.me()["image"].(map[string]any)
	if v, _ := pic["variants"].([]any); len(v) != 0 {
		p.t.Errorf("%s: after delete the server lists %d variants", p.vp.name, len(v))
	}
	if hidden := eval[[]bool](p, `[document.getElementById("sizes").hidden, document.getElementById("delete").hidden]`); !hidden[0] || !hidden[1] {
		p.t.Errorf("%s: after delete the sizes or the delete button are still shown", p.vp.name)
	}
}

// logOutAndBackIn logs out, checks the token was revoked, then logs in with
// a wrong password (the page must show the server's own sentence) and the
// right one.
func (p *pageSession) logOutAndBackIn() {
	p.t.Helper()
	p.do(chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("login")))
	if tok := eval[*string](p, `sessionStorage.getItem("portrait.token")`); tok != nil {
		p.t.Errorf("%s: the token is still kept after logout", p.vp.name)
	}
	if r := do(p.t, "GET", p.s.base+"/users/me", p.acct.token, "", nil); r.status != http.StatusUnauthorized {
		p.t.Errorf("%s: the token after logging out: %s, want 401", p.vp.name, r)
	}
	wrong := postJSONT(p.t, p.s.base+"/auth/login", "", map[string]string{"email": p.acct.email, "password": "not the password"})
	detail, _ := wrong.json(p.t)["detail"].(string)
	p.do(chromedp.SendKeys(chromedp.ID("login-email"), p.acct.email), chromedp.SendKeys(chromedp.ID("login-password"), "not the password"),
		chromedp.Click(chromedp.CSS("#login button[type=submit]")))
	shown := waitFor[string](p, "the login error", `(() => { const e = document.getElementById("login-error"); return !e.hidden && e.textContent; })()`)
	if detail == "" || shown != detail {
		p.t.Errorf("%s: a wrong password shows %q, want the server's detail %q", p.vp.name, shown, detail)
	}
	p.do(chromedp.Evaluate[chromedp.Void](`document.getElementById("login-password").value = ""`), chromedp.SendKeys(chromedp.ID("login-password"), p.acct.password),
		chromedp.Click(chromedp.CSS("#login button[type=submit]")))
	waitFor[bool](p, "the profile again", `!document.getElementById("profile").hidden && document.getElementById("me-name").textContent === "Ada Lovelace"`)
}

// consoleLog keeps what the page wrote to the console.
type consoleLog struct {
	mu   sync.Mutex
	msgs []chromedp.ConsoleMessage
}

func collectConsole(ctx context.Context) *consoleLog {
	c := &consoleLog{}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			c.mu.Lock()
			c.msgs = append(c.msgs, m)
			c.mu.Unlock()
		}
	}()
	return c
}

// checkConsole fails the test on any exception or error the page logged
// (a policy violation among them), except the failed requests the test
// caused on purpose (the wrong password's 401).
func (p *pageSession) checkConsole() {
	p.t.Helper()
	time.Sleep(100 * time.Millisecond) // let the last messages arrive
	p.messages.mu.Lock()
	defer p.messages.mu.Unlock()
	for _, m := range p.messages.msgs {
		expected := m.Source == "network" && strings.Contains(m.Text, "status of 401")
		if (m.IsException() || m.Type == chromedp.ConsoleError) && !expected {
			p.t.Errorf("%s: the page logged %s %s: %s (%s:%d)", p.vp.name, m.Source, m.Type, m.Text, m.URL, m.Line+1)
		}
	}
}

// uploadRecorder is a handler wrapper that keeps the fields and the file
// of each upload request passing through it, unchanged on their way.
type uploadRecorder struct {
	mu      sync.Mutex
	uploads []recordedUpload
}

type recordedUpload struct {
	fields map[string]string
	file   []byte
}

func (u *uploadRecorder) all() []recordedUpload {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.uploads)
}

func (u *uploadRecorder) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPatch && r.URL.Path == "/users/image/upload" {
			body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			u.record(r.Header.Get("Content-Type"), body)
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		next.ServeHTTP(w, r)
	})
}

// record parses a multipart body; a body it cannot parse is kept with no
// fields, which the test reports.
func (u *uploadRecorder) record(contentType string, body []byte) {
	up := recordedUpload{fields: map[string]string{}}
	_, params, _ := mime.ParseMediaType(contentType)
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for {
		part, err := mr.NextPart()
		if err != nil {
			break
		}
		data, _ := io.ReadAll(part)
		if part.FormName() == "file" {
			up.file = data
		} else {
			up.fields[part.FormName()] = string(data)
		}
	}
	u.mu.Lock()
	u.uploads = append(u.uploads, up)
	u.mu.Unlock()
}

// TestPageUploadRefused: an upload the server refuses shows the problem's
// own sentence, and the current picture stays.
func TestPageUploadRefused(t *testing.T) {
	exe := chromium(t)
	abs, photo := readPagePhoto(t)
	p := startPageSession(t, exe, viewports[0], false, "PORTRAIT_MAX_UPLOAD_BYTES", "100000")
	p.signUp()
	refused := p.s.uploadFile(t, p.acct.token, photo)
	detail, _ := refused.json(t)["detail"].(string)
	if refused.status != http.StatusRequestEntityTooLarge || detail == "" {
		t.Fatalf("a photo over the limit: %s, want 413 with a detail", refused)
	}
	p.do(chromedp.SetUploadFiles(chromedp.ID("file"), []string{abs}), chromedp.WaitVisible(chromedp.ID("crop")), chromedp.Click(chromedp.ID("upload")))
	shown := waitFor[string](p, "the upload's error", `(() => { const e = document.getElementById("profile-error"); return !e.hidden && e.textContent; })()`)
	if shown != detail {
		t.Errorf("the page shows %q, want the server's detail %q", shown, detail)
	}
	if editorShown := eval[bool](p, `!document.getElementById("editor").hidden`); !editorShown {
		t.Error("the editor closed after a refused upload; the crop is lost")
	}
}
