package avatar

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	_ "golang.org/x/image/webp"

	"github.com/portraitsvc/portrait"
	pjpeg "github.com/portraitsvc/portrait/jpeg"
)

// corpus is the shared test corpus, relative to this package's directory.
const corpus = "../../shared/corpus"

// corpusDir returns the named folder of the shared corpus, skipping the
// test if it is absent.
func corpusDir(tb testing.TB, name string) string {
	tb.Helper()
	dir := filepath.Join(corpus, name)
	if _, err := os.Stat(dir); err != nil {
		tb.Skipf("shared corpus absent (%v)", err)
	}
	return dir
}

// largest returns the first avatar of the set of a call of Process: the
// largest, in JPEG or PNG.
func largest(s *Set, err error) (*Avatar, error) {
	if err != nil {
		return nil, err
	}
	return s.Avatars[0], nil
}

// process runs a default Processor on data.
func process(data []byte) (*Avatar, error) {
	return largest(New(Config{}).Process(context.Background(), bytes.NewReader(data), Options{}))
}

// mustProcess processes data and checks that the avatar is a decodable
// square of the declared type and size, returning its decoded image.
func mustProcess(tb testing.TB, p *Processor, data []byte) (*Avatar, image.Image) {
	tb.Helper()
	a, err := largest(p.Process(context.Background(), bytes.NewReader(data), Options{}))
	if err != nil {
		tb.Fatalf("Process: %v", err)
	}
	return a, checkAvatar(tb, a)
}

// checkAvatar decodes a and checks what every avatar promises.
func checkAvatar(tb testing.TB, a *Avatar) image.Image {
	tb.Helper()
	img, format, err := image.Decode(bytes.NewReader(a.Data))
	if err != nil {
		tb.Fatalf("avatar does not decode: %v", err)
	}
	want := map[string][2]string{"jpeg": {"image/jpeg", "jpg"}, "png": {"image/png", "png"}}[format]
	if a.ContentType != want[0] || a.Ext != want[1] {
		tb.Fatalf("avatar is %s but declared %s/%s", format, a.ContentType, a.Ext)
	}
	b := img.Bounds()
	if b.Dx() != b.Dy() || b.Dx() != a.Width || b.Dy() != a.Height || b.Dx() > MaxSize {
		tb.Fatalf("avatar is %v, declared %d×%d; want a square of at most %d", b, a.Width, a.Height, MaxSize)
	}
	return img
}

// codeOf returns the portrait code of err, or "" for nil, or "not a
// *portrait.Error" for anything else.
func codeOf(err error) string {
	var pe *portrait.Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &pe):
		return pe.Code
	}
	return "not a *portrait.Error: " + err.Error()
}

// clientError reports whether code is one of the 400-class codes of Process.
func clientError(code string) bool {
	switch code {
	case portrait.EUNSUPPORTEDIMAGE, portrait.ECORRUPTIMAGE, portrait.EIMAGETOOLARGE, portrait.EEMPTYFILE:
		return true
	}
	return false
}

func encodePNG(tb testing.TB, img image.Image) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func encodeJPEG(tb testing.TB, img image.Image) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// pattern returns a w×h opaque image with gradients and detail.
func pattern(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	waves := make([]float64, w)
	for x := range waves {
		waves[x] = 128 + 60*math.Sin(float64(x)/37)
	}
	for y := range h {
		row, v := img.Pix[y*img.Stride:], 50*math.Cos(float64(y)/23)
		for x := range w {
			copy(row[4*x:], []uint8{uint8(waves[x] + v), uint8(x * 255 / w), uint8(y * 255 / h), 0xff})
		}
	}
	return img
}

// grid reduces img to a 24×24 grey grid by area averaging (0–255).
func grid(img image.Image) (g [24][24]float64) {
	var n [24][24]float64
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, gg, bb, _ := img.At(x, y).RGBA()
			gy, gx := (y-b.Min.Y)*24/b.Dy(), (x-b.Min.X)*24/b.Dx()
			g[gy][gx] += (0.299*float64(r) + 0.587*float64(gg) + 0.114*float64(bb)) / 257
			n[gy][gx]++
		}
	}
	for y := range g {
		for x := range g[y] {
			g[y][x] /= max(n[y][x], 1)
		}
	}
	return g
}

// gridDistance is the root mean square difference of two grids.
func gridDistance(a, b [24][24]float64) float64 {
	var s float64
	for y := range a {
		for x := range a[y] {
			s += (a[y][x] - b[y][x]) * (a[y][x] - b[y][x])
		}
	}
	return math.Sqrt(s / 576)
}

// turned returns g under each of the 8 dihedral transforms (0 = identity).
func turned(g [24][24]float64) (out [8][24][24]float64) {
	for k := range out {
		for y := range 24 {
			for x := range 24 {
				sx, sy := x, y
				switch k {
				case 1:
					sx = 23 - x
				case 2:
					sx, sy = 23-x, 23-y
				case 3:
					sy = 23 - y
				case 4:
					sx, sy = y, x
				case 5:
					sx, sy = y, 23-x
				case 6:
					sx, sy = 23-y, 23-x
				case 7:
					sx, sy = 23-y, x
				}
				out[k][y][x] = g[sy][sx]
			}
		}
	}
	return out
}

func TestCorpusComesOutUpright(t *testing.T) {
	dir := corpusDir(t, "exif-orientation")
	p := New(Config{})
	for _, kind := range []string{"Landscape", "Portrait"} {
		_, ref := mustProcess(t, p, readFile(t, filepath.Join(dir, kind+"_1.jpg")))
		want := grid(ref)
		for n := 0; n <= 8; n++ {
			name := fmt.Sprintf("%s_%d.jpg", kind, n)
			t.Run(name, func(t *testing.T) {
				a, img := mustProcess(t, p, readFile(t, filepath.Join(dir, name)))
				if a.ContentType != "image/jpeg" || a.Width != DefaultSizes[0] {
					t.Errorf("got %s %d×%d, want a %d-pixel JPEG", a.ContentType, a.Width, a.Height, DefaultSizes[0])
				}
				var d [8]float64
				for k, g := range turned(grid(img)) {
					d[k] = gridDistance(g, want)
				}
				for k := 1; k < 8; k++ {
					if d[0] >= 12 || d[k] <= d[0] {
						t.Fatalf("not upright: distance to _1 is %.1f, but %.1f after transform %d", d[0], d[k], k)
					}
				}
			})
		}
	}
}

// TestOrientKeepsShape checks, before any cropping, that every corpus image
// turned by its Exif orientation keeps the shape its name says.
func TestOrientKeepsShape(t *testing.T) {
	dir := corpusDir(t, "exif-orientation")
	for _, kind := range []string{"Landscape", "Portrait"} {
		for n := 0; n <= 8; n++ {
			name := fmt.Sprintf("%s_%d.jpg", kind, n)
			data := readFile(t, filepath.Join(dir, name))
			exif := jpegExif(t, data)
			if o := orientation(exif); o != max(n, 1) {
				t.Errorf("%s: orientation %d, want %d", name, o, max(n, 1))
			}
			src, err := jpeg.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			rgba := image.NewRGBA(src.Bounds())
			draw.Draw(rgba, rgba.Rect, src, src.Bounds().Min, draw.Src)
			b := orient(rgba, orientation(exif)).Bounds()
			if wide := b.Dx() > b.Dy(); wide != (kind == "Landscape") {
				t.Errorf("%s is %v once oriented", name, b)
			}
		}
	}
}

func TestPNGSuite(t *testing.T) {
	dir := corpusDir(t, "pngsuite")
	names, _ := filepath.Glob(filepath.Join(dir, "*.png"))
	p := New(Config{})
	for _, path := range names {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			a, err := largest(p.Process(context.Background(), bytes.NewReader(readFile(t, path)), Options{}))
			if strings.HasPrefix(name, "x") {
				if !clientError(codeOf(err)) {
					t.Fatalf("corrupt file: got %q, want a 400-class code", codeOf(err))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkAvatar(t, a)
			// Files whose names start with "t" have a transparent tRNS
			// colour that occurs in the image, but tm3n3p02 and tp* do not
			// (tp1n3p08 and tbbn*, tbgn*... do).
			if strings.HasPrefix(name, "tb") && a.ContentType != "image/png" {
				t.Errorf("transparent image came out as %s", a.ContentType)
			}
		})
	}
}

func TestGoTestdataFormats(t *testing.T) {
	dirs := []string{filepath.Join(runtime.GOROOT(), "src", "image", "testdata")}
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "golang.org/x/image").Output()
	if err != nil {
		t.Fatalf("go list x/image: %v", err)
	}
	dirs = append(dirs, filepath.Join(strings.TrimSpace(string(out)), "testdata"))
	p := New(Config{})
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			name := e.Name()
			switch filepath.Ext(name) {
			case ".jpeg", ".png", ".gif", ".webp":
			default:
				continue
			}
			t.Run(name, func(t *testing.T) {
				a, err := largest(p.Process(context.Background(), bytes.NewReader(readFile(t, filepath.Join(dir, name))), Options{}))
				if err != nil && strings.Contains(name, "truncated") && clientError(codeOf(err)) {
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				checkAvatar(t, a)
			})
		}
	}
}

// jpegExif returns the Exif block of a JPEG as the decoder's parser reads it.
func jpegExif(tb testing.TB, data []byte) []byte {
	tb.Helper()
	d, err := pjpeg.NewDecoder(bytes.NewReader(data))
	if err != nil {
		tb.Fatal(err)
	}
	return d.Header().Exif
}

func readFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestSizeNeverUpscales(t *testing.T) {
	for _, tc := range []struct{ w, h, want int }{
		{100, 60, 60}, {60, 100, 60}, {1, 1, 1}, {1, 700, 1}, {512, 512, 512},
		{513, 900, 512}, {1023, 1023, 512}, {1024, 768, 512}, {2049, 1537, 512},
	} {
		t.Run(fmt.Sprintf("%dx%d", tc.w, tc.h), func(t *testing.T) {
			data := encodePNG(t, pattern(tc.w, tc.h))
			if tc.w*tc.h > 500_000 { // PNG encoding is slow; JPEG decodes to YCbCr
				data = encodeJPEG(t, pattern(tc.w, tc.h))
			}
			a, _ := mustProcess(t, New(Config{}), data)
			if a.Width != tc.want || a.ContentType != "image/jpeg" {
				t.Errorf("got %s %d×%d, want a %d-pixel JPEG", a.ContentType, a.Width, a.Height, tc.want)
			}
		})
	}
}

func TestTransparencyDecidesFormat(t *testing.T) {
	half := pattern(300, 200)
	for y := range 100 {
		for x := range 300 {
			half.Pix[half.PixOffset(x, y)+3] = 0x40
		}
	}
	pal := image.NewPaletted(image.Rect(0, 0, 40, 40), color.Palette{color.NRGBA{0, 0, 0, 0}, color.NRGBA{200, 10, 10, 255}})
	for i := range pal.Pix {
		pal.Pix[i] = uint8(i % 3 % 2)
	}
	grayA := image.NewNRGBA64(image.Rect(0, 0, 30, 30))
	for i := range grayA.Pix {
		grayA.Pix[i] = uint8(i * 7)
	}
	opaqueNRGBA := pattern(50, 50) // NRGBA model, but every alpha is full
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"half-transparent NRGBA", encodePNG(t, half), "image/png"},
		{"paletted with transparent entry", encodePNG(t, pal), "image/png"},
		{"16-bit with alpha", encodePNG(t, grayA), "image/png"},
		{"opaque NRGBA", encodePNG(t, opaqueNRGBA), "image/jpeg"},
		{"opaque JPEG", encodeJPEG(t, pattern(50, 50)), "image/jpeg"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, img := mustProcess(t, New(Config{}), tc.data)
			if a.ContentType != tc.want {
				t.Fatalf("got %s, want %s", a.ContentType, tc.want)
			}
			if tc.want == "image/png" {
				if _, _, _, alpha := img.At(0, 0).RGBA(); alpha == 0xffff {
					t.Errorf("corner pixel lost its transparency")
				}
			}
		})
	}
}

// TestNoMetadataSurvives processes files carrying Exif, text chunks and
// trailing payloads (polyglots), and looks for any of it in the output.
func TestNoMetadataSurvives(t *testing.T) {
	trailer := []byte("<html><script>alert(1)</script></html>PK\x03\x04polyglot")
	inputs := map[string][]byte{
		"png+html": append(encodePNG(t, pattern(64, 64)), trailer...),
		"jpg+zip":  append(encodeJPEG(t, pattern(64, 64)), trailer...),
		"jpg+exif": withExif(encodeJPEG(t, pattern(64, 64)), exifTIFF(true, 6)),
	}
	if dir := filepath.Join(corpus, "exif-orientation"); dirExists(dir) {
		inputs["Landscape_6.jpg"] = readFile(t, filepath.Join(dir, "Landscape_6.jpg"))
		inputs["exif2c08.png"] = readFile(t, filepath.Join(corpus, "pngsuite", "exif2c08.png"))
		inputs["ctzn0g04.png"] = readFile(t, filepath.Join(corpus, "pngsuite", "ctzn0g04.png"))
	}
	for name, data := range inputs {
		t.Run(name, func(t *testing.T) {
			a, _ := mustProcess(t, New(Config{}), data)
			for _, bad := range []string{"Exif", "eXIf", "MM\x00*", "II*\x00", "ICC_PROFILE", "iCCP", "http://ns.adobe.com",
				"tEXt", "zTXt", "iTXt", "<html", "PK\x03\x04", "polyglot", "PngSuite", "Willem"} {
				if bytes.Contains(a.Data, []byte(bad)) {
					t.Errorf("output contains %q", bad)
				}
			}
		})
	}
}

func dirExists(dir string) bool {
	_, err := os.Stat(dir)
	return err == nil
}

func TestRejectsWhatIsNotAnImage(t *testing.T) {
	for _, tc := range []struct {
		name, data, code string
	}{
		{"empty", "", portrait.EEMPTYFILE},
		{"svg", `<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`, portrait.EUNSUPPORTEDIMAGE},
		{"svg bare", `<svg xmlns="http://www.w3.org/2000/svg"></svg>`, portrait.EUNSUPPORTEDIMAGE},
		{"html", "<!DOCTYPE html><html><body>hi</body></html>", portrait.EUNSUPPORTEDIMAGE},
		{"text", "hello, world\n", portrait.EUNSUPPORTEDIMAGE},
		{"one byte", "\xff", portrait.EUNSUPPORTEDIMAGE},
		{"heic", "\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", portrait.EUNSUPPORTEDIMAGE},
		{"avif", "\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf", portrait.EUNSUPPORTEDIMAGE},
		{"pdf", "%PDF-1.7\n%âãÏÓ\n1 0 obj", portrait.EUNSUPPORTEDIMAGE},
		{"bmp", "BM\x36\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00", portrait.EUNSUPPORTEDIMAGE},
		{"tiff le", "II*\x00\x08\x00\x00\x00\x00\x00", portrait.EUNSUPPORTEDIMAGE},
		{"tiff be", "MM\x00*\x00\x00\x00\x08\x00\x00", portrait.EUNSUPPORTEDIMAGE},
		{"zip", "PK\x03\x04\x14\x00\x00\x00\x08\x00", portrait.EUNSUPPORTEDIMAGE},
		{"riff wave", "RIFF\x24\x00\x00\x00WAVEfmt ", portrait.EUNSUPPORTEDIMAGE},
		{"png signature damaged", "\x89PNG\r\r\x1a\r\x00\x00\x00\x0dIHDR\x00\x00", portrait.ECORRUPTIMAGE},
		{"jpeg header only", "\xff\xd8\xff", portrait.ECORRUPTIMAGE},
		{"png signature only", pngSignature, portrait.ECORRUPTIMAGE},
		{"gif header only", "GIF89a", portrait.ECORRUPTIMAGE},
		{"webp header only", "RIFF\x04\x00\x00\x00WEBP", portrait.ECORRUPTIMAGE},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := process([]byte(tc.data))
			if got := codeOf(err); got != tc.code {
				t.Errorf("got %q (%v), want %q", got, err, tc.code)
			}
		})
	}
}

// TestTruncated cuts valid files of every format at many lengths; each
// must be refused as corrupt, or (JPEG and PNG, as Go decodes what is
// there) make a valid avatar.
func TestTruncated(t *testing.T) {
	inputs := map[string][]byte{
		"png":  encodePNG(t, pattern(64, 48)),
		"jpeg": encodeJPEG(t, pattern(64, 48)),
		"gif":  encodeGIF(t, 64, 48, 2),
	}
	if webpFile := xImageTestdata(t, "blue-purple-pink.lossy.webp"); webpFile != nil {
		inputs["webp"] = webpFile
		inputs["webp lossless"] = xImageTestdata(t, "gopher-doc.8bpp.lossless.webp")
	}
	p := New(Config{})
	for name, data := range inputs {
		t.Run(name, func(t *testing.T) {
			for n := 1; n < len(data); n += 1 + n/16 {
				a, err := largest(p.Process(context.Background(), bytes.NewReader(data[:n]), Options{}))
				switch code := codeOf(err); {
				case err == nil:
					checkAvatar(t, a)
				case code != portrait.ECORRUPTIMAGE && code != portrait.EUNSUPPORTEDIMAGE:
					t.Fatalf("cut at %d of %d: got %q", n, len(data), code)
				}
			}
		})
	}
}

// xImageTestdata returns a file of x/image's testdata, or nil.
func xImageTestdata(tb testing.TB, name string) []byte {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "golang.org/x/image").Output()
	if err != nil {
		return nil
	}
	b, _ := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "testdata", name))
	return b
}

// encodeGIF returns a w×h GIF of the given number of frames.
func encodeGIF(tb testing.TB, w, h, frames int) []byte {
	tb.Helper()
	pal := color.Palette{color.Black, color.White, color.RGBA{200, 0, 0, 255}}
	g := &gif.GIF{}
	for i := range frames {
		f := image.NewPaletted(image.Rect(0, 0, w, h), pal)
		for j := range f.Pix {
			f.Pix[j] = uint8((i + j) % 3)
		}
		g.Image, g.Delay = append(g.Image, f), append(g.Delay, 1)
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, g); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// countingReader counts the bytes read through it.
type countingReader struct {
	*bytes.Reader
	n int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.Reader.Read(b)
	c.n += int64(n)
	return n, err
}

func TestGIFReadsOnlyFirstFrame(t *testing.T) {
	data := encodeGIF(t, 32, 32, 5000)
	r := &countingReader{Reader: bytes.NewReader(data)}
	var a *Avatar
	var err error
	allocated := allocatedBy(func() { a, err = largest(New(Config{}).Process(context.Background(), r, Options{})) })
	if err != nil {
		t.Fatal(err)
	}
	checkAvatar(t, a)
	if a.Width != 32 {
		t.Errorf("avatar is %d wide, want 32", a.Width)
	}
	if r.n > 256<<10 || r.n >= int64(len(data)) {
		t.Errorf("read %d bytes of a %d-byte GIF; want only the start", r.n, len(data))
	}
	if allocated > 4<<20 {
		t.Errorf("allocated %d bytes", allocated)
	}
}

// allocatedBy returns the bytes allocated on the heap while fn ran.
func allocatedBy(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestOverloaded(t *testing.T) {
	p := New(Config{Workers: 1, MaxWait: 50 * time.Millisecond})
	entered, unblock := make(chan struct{}), make(chan struct{})
	var once sync.Once
	p.admitted = func() {
		once.Do(func() {
			close(entered)
			<-unblock
		})
	}
	data := encodePNG(t, pattern(20, 20))
	first := make(chan error, 1)
	go func() {
		_, err := largest(p.Process(context.Background(), bytes.NewReader(data), Options{}))
		first <- err
	}()
	<-entered
	_, err := largest(p.Process(context.Background(), bytes.NewReader(data), Options{}))
	var pe *portrait.Error
	if !errors.As(err, &pe) || pe.Code != portrait.EOVERLOADED || pe.RetryAfter < 1 {
		t.Errorf("second call: got %v (%+v), want EOVERLOADED with RetryAfter ≥ 1", err, pe)
	}
	close(unblock)
	if err := <-first; err != nil {
		t.Errorf("first call: %v", err)
	}
	if _, err := largest(p.Process(context.Background(), bytes.NewReader(data), Options{})); err != nil {
		t.Errorf("after the first call ended: %v", err)
	}
}

func TestMemoryBudgetQueues(t *testing.T) {
	data := encodePNG(t, pattern(300, 300))
	budget := decodeCost(formatPNG, image.Config{Width: 300, Height: 300}, header{bpp: 4}) + New(Config{}).setCost(true)
	p := New(Config{MemoryBudget: budget, Workers: 4, MaxWait: 50 * time.Millisecond})
	entered, unblock := make(chan struct{}), make(chan struct{})
	var once sync.Once
	p.admitted = func() { once.Do(func() { close(entered); <-unblock }) }
	first := make(chan error, 1)
	go func() {
		_, err := largest(p.Process(context.Background(), bytes.NewReader(data), Options{}))
		first <- err
	}()
	<-entered
	if _, err := largest(p.Process(context.Background(), bytes.NewReader(data), Options{})); codeOf(err) != portrait.EOVERLOADED {
		t.Errorf("second call with the budget spent: got %v, want EOVERLOADED", err)
	}
	close(unblock)
	if err := <-first; err != nil {
		t.Error(err)
	}
	small := New(Config{MemoryBudget: budget / 2})
	if _, err := largest(small.Process(context.Background(), bytes.NewReader(data), Options{})); codeOf(err) != portrait.EIMAGETOOLARGE {
		t.Errorf("image over the whole budget: got %v, want EIMAGETOOLARGE", err)
	}
}

func TestContextEnded(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := largest(New(Config{}).Process(ctx, bytes.NewReader(encodePNG(t, pattern(20, 20))), Options{}))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

// TestCMYKColours compares the CMYK JPEG of Go's testdata with its PNG
// rendering.
func TestCMYKColours(t *testing.T) {
	dir := filepath.Join(runtime.GOROOT(), "src", "image", "testdata")
	_, cmyk := mustProcess(t, New(Config{}), readFile(t, filepath.Join(dir, "video-001.cmyk.jpeg")))
	_, ref := mustProcess(t, New(Config{}), readFile(t, filepath.Join(dir, "video-001.cmyk.png")))
	for _, ch := range []int{0, 1, 2} {
		a, b := channelMean(cmyk, ch), channelMean(ref, ch)
		if math.Abs(a-b) > 6 {
			t.Errorf("channel %d: mean %.1f, want %.1f", ch, a, b)
		}
	}
}

// channelMean is the mean of channel ch (0 R, 1 G, 2 B) over img, 0–255.
func channelMean(img image.Image, ch int) float64 {
	var sum float64
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bb, _ := img.At(x, y).RGBA()
			sum += float64([3]uint32{r, g, bb}[ch]) / 257
		}
	}
	return sum / float64(b.Dx()*b.Dy())
}

func TestReadErrorIsInternal(t *testing.T) {
	data := encodePNG(t, pattern(64, 64))
	r := &failingReader{ReadSeeker: bytes.NewReader(data), after: int64(len(data) / 2)}
	_, err := largest(New(Config{}).Process(context.Background(), r, Options{}))
	if err == nil || portrait.ErrorCode(err) != portrait.EINTERNAL {
		t.Errorf("got %v, want an internal error", err)
	}
}

// failingReader fails every read that would reach offset after.
type failingReader struct {
	io.ReadSeeker
	after int64
}

func (f *failingReader) Read(b []byte) (int, error) {
	pos, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, err
	}
	if pos+int64(len(b)) > f.after {
		return 0, errors.New("disk on fire")
	}
	return f.ReadSeeker.Read(b)
}
