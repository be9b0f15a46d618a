package http

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portraitsvc/portrait"
	"github.com/portraitsvc/portrait/argon2id"
	"github.com/portraitsvc/portrait/avatar"
	"github.com/portraitsvc/portrait/jwt"
	"github.com/portraitsvc/portrait/localfs"
	"github.com/portraitsvc/portrait/sqlite"
)

// uploadHarness is the real API on a real SQLite file and local folder,
// with one logged-in user.
type uploadHarness struct {
	handler http.Handler
	token   string
}

func newUploadHarness(tb testing.TB) *uploadHarness {
	tb.Helper()
	dir := tb.TempDir()
	st, err := sqlite.Open(filepath.Join(dir, "db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	b, err := localfs.Open(filepath.Join(dir, "bucket"))
	if err != nil {
		tb.Fatal(err)
	}
	tokens, _ := jwt.New(bytes.Repeat([]byte("k"), 32), time.Hour, 0)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h, err := NewHandler(context.Background(), Config{
		Users: st, Bucket: b, Tokens: tokens, Log: log,
		Images:       &portrait.Images{Users: st, Bucket: b, Log: log},
		Passwords:    argon2id.New(argon2id.Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}, 1),
		Avatars:      avatar.New(avatar.Config{MaxPixels: 4_000_000, MemoryBudget: 64 << 20}),
		ImageBaseURL: "http://portrait.test",
		Upload:       UploadLimits{MaxFileBytes: 1 << 20, MaxParts: 8, TempDir: dir},
	})
	if err != nil {
		tb.Fatal(err)
	}
	if err := st.CreateUser(context.Background(), &portrait.User{ID: "u1", Email: "u1@example.com"}); err != nil {
		tb.Fatal(err)
	}
	tok, _ := tokens.Issue("u1", 0)
	return &uploadHarness{handler: h, token: tok}
}

func (u *uploadHarness) upload(contentType string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest("PATCH", "/users/image/upload", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+u.token)
	req.Header.Set("Content-Type", contentType)
	rec := httptest.NewRecorder()
	u.handler.ServeHTTP(rec, req)
	return rec
}

// FuzzUpload sends arbitrary multipart bodies to the upload handler: it
// must never panic and never answer 5xx, and every error must be a
// problem document with a code.
func FuzzUpload(f *testing.F) {
	for _, seed := range uploadSeeds(f) {
		ct, body := multipartFile(seed)
		f.Add(ct, body)
	}
	f.Add("multipart/form-data; boundary=x", []byte("--x\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n\x89PNG\r\n--x--\r\n"))
	f.Add("text/plain", []byte("hello"))
	h := newUploadHarness(f)
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		rec := h.upload(contentType, body)
		if rec.Code >= 500 {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		if rec.Code >= 400 {
			var p problem
			if json.Unmarshal(rec.Body.Bytes(), &p) != nil || p.Code == "" || rec.Header().Get("Content-Type") != "application/problem+json" {
				t.Fatalf("status %d without a problem document: %s", rec.Code, rec.Body)
			}
		}
	})
}

// uploadSeeds returns a few real images from the shared corpus and Go's
// testdata, where present.
func uploadSeeds(tb testing.TB) [][]byte {
	var seeds [][]byte
	for _, p := range []string{
		"../../shared/corpus/exif-orientation/Landscape_6.jpg",
		"../../shared/corpus/pngsuite/basi3p02.png",
		"../../shared/corpus/pngsuite/xcrn0g04.png",
		filepath.Join(goroot(tb), "src/image/testdata/video-001.gif"),
	} {
		if b, err := os.ReadFile(p); err == nil {
			seeds = append(seeds, b)
		}
	}
	return seeds
}

func goroot(tb testing.TB) string {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		tb.Logf("no Go testdata seeds: %v", err)
	}
	return strings.TrimSpace(string(out))
}

func multipartFile(data []byte) (string, []byte) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	fw, _ := w.CreateFormFile("file", "seed")
	fw.Write(data)
	w.Close()
	return w.FormDataContentType(), buf.Bytes()
}
