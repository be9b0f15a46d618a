package localfs_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portraitsvc/portrait"
	"github.com/portraitsvc/portrait/buckettest"
	"github.com/portraitsvc/portrait/localfs"
)

func TestBucket(t *testing.T) {
	buckettest.Run(t, func(t *testing.T) portrait.Bucket {
		b, _ := mustOpen(t)
		return b
	})
}

// mustOpen returns a Bucket on a fresh folder, and the folder.
func mustOpen(tb testing.TB) (*localfs.Bucket, string) {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), "data")
	b, err := localfs.Open(dir)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { b.Close() })
	return b, dir
}

func TestInvalidKeys(t *testing.T) {
	b, dir := mustOpen(t)
	secret := filepath.Join(filepath.Dir(dir), "secret.jpg")
	if err := os.WriteFile(secret, []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{
		"", ".", "..", "../secret.jpg", "/etc/passwd", "profileImages/../../secret.jpg",
		"a/../../b", `a\b`, "a\x00b", "a//b", "a/", "/a", "./a", "a/./b", "a/.hidden",
	} {
		t.Run(key, func(t *testing.T) {
			if _, _, err := b.Open(t.Context(), key); portrait.ErrorCode(err) != portrait.ENOTFOUND {
				t.Errorf("Open = %v, want %s", err, portrait.ENOTFOUND)
			}
			err := b.Put(t.Context(), key, strings.NewReader("x"), 1, "image/jpeg")
			if portrait.ErrorCode(err) != portrait.EINVALID {
				t.Errorf("Put = %v, want %s", err, portrait.EINVALID)
			}
			if err := b.Delete(t.Context(), key); portrait.ErrorCode(err) != portrait.EINVALID {
				t.Errorf("Delete = %v, want %s", err, portrait.EINVALID)
			}
		})
	}
	if data, err := os.ReadFile(secret); err != nil || string(data) != "secret" {
		t.Errorf("file outside the folder changed: %q, %v", data, err)
	}
	if names := walk(t, dir); len(names) != 0 {
		t.Errorf("files were created: %q", names)
	}
}

// TestSymlinkEscape checks that a symbolic link out of the folder is not
// followed.
func TestSymlinkEscape(t *testing.T) {
	b, dir := mustOpen(t)
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "x.jpg"), []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "profileImages")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.Open(t.Context(), "profileImages/x.jpg"); err == nil {
		t.Error("Open followed a link out of the folder")
	}
	if err := b.Put(t.Context(), "profileImages/y.jpg", strings.NewReader("x"), 1, "image/jpeg"); err == nil {
		t.Error("Put followed a link out of the folder")
	}
}

func TestFileLayout(t *testing.T) {
	b, dir := mustOpen(t)
	buckettest.MustPut(t, b, "profileImages/u1/a.jpg", []byte("jpeg"), "image/jpeg")
	data, err := os.ReadFile(filepath.Join(dir, "profileImages", "u1", "a.jpg"))
	if err != nil || string(data) != "jpeg" {
		t.Fatalf("file = %q, %v", data, err)
	}
	if names := walk(t, dir); len(names) != 1 {
		t.Errorf("files = %q, want only the object", names)
	}
}

// TestFailedPutLeavesNoTempFile checks every way a Put can fail.
func TestFailedPutLeavesNoTempFile(t *testing.T) {
	b, dir := mustOpen(t)
	ctx := t.Context()
	failing := &failingReader{data: bytes.Repeat([]byte("x"), 5000)}
	if err := b.Put(ctx, "profileImages/u1/a.jpg", failing, 10_000, "image/jpeg"); err == nil {
		t.Error("Put from a failing reader succeeded")
	}
	if err := b.Put(ctx, "profileImages/u1/b.jpg", strings.NewReader("short"), 100, "image/jpeg"); err == nil {
		t.Error("Put from a short reader succeeded")
	}
	if names := walk(t, dir); len(names) != 0 {
		t.Errorf("files left behind: %q", names)
	}
}

// TestListSkipsTempFiles checks that a Put in progress is not listed.
func TestListSkipsTempFiles(t *testing.T) {
	b, dir := mustOpen(t)
	buckettest.MustPut(t, b, "profileImages/u1/a.jpg", []byte("a"), "image/jpeg")
	tmp := filepath.Join(dir, "profileImages", "u1", ".b.jpg.tmp-0123456789abcdef")
	if err := os.WriteFile(tmp, []byte("partial"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := buckettest.ListKeys(t, b, ""); len(got) != 1 || got[0] != "profileImages/u1/a.jpg" {
		t.Errorf("List = %q, want only profileImages/u1/a.jpg", got)
	}
}

func TestContentTypeFromExtension(t *testing.T) {
	b, _ := mustOpen(t)
	for key, want := range map[string]string{
		"a.jpg": "image/jpeg", "a.JPEG": "image/jpeg", "a.png": "image/png",
		"a.gif": "image/gif", "a.webp": "image/webp", "a.bin": "application/octet-stream",
		"noext": "application/octet-stream",
	} {
		buckettest.MustPut(t, b, key, []byte("x"), "ignored/type")
		if _, info := buckettest.MustRead(t, b, key); info.ContentType != want {
			t.Errorf("%s: content type %q, want %q", key, info.ContentType, want)
		}
	}
}

// TestDeleteRemovesEmptyFolders checks that Delete leaves no empty user
// folder behind, and keeps a folder that still holds an object.
func TestDeleteRemovesEmptyFolders(t *testing.T) {
	b, dir := mustOpen(t)
	buckettest.MustPut(t, b, "profileImages/u1/a.jpg", []byte("a"), "image/jpeg")
	buckettest.MustPut(t, b, "profileImages/u2/b.jpg", []byte("b"), "image/jpeg")
	if err := b.Delete(t.Context(), "profileImages/u1/a.jpg"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "profileImages", "u1")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("empty user folder kept: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "profileImages", "u2", "b.jpg")); err != nil {
		t.Errorf("other user's file: %v", err)
	}
	if err := b.Delete(t.Context(), "profileImages/u2/b.jpg"); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "profileImages")); err != nil || !fi.IsDir() {
		t.Errorf("top folder removed: %v", err)
	}
	buckettest.MustPut(t, b, "profileImages/u1/c.jpg", []byte("c"), "image/jpeg")
}

func TestOpenCreatesFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	b, err := localfs.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Fatalf("folder not created: %v", err)
	}
}

// walk returns the paths of the files under dir, relative to it.
func walk(tb testing.TB, dir string) []string {
	tb.Helper()
	var names []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			names = append(names, rel)
		}
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return names
}

// failingReader returns data, then an error.
type failingReader struct{ data []byte }

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, errors.New("connection reset")
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestInvalidListPrefix(t *testing.T) {
	b, _ := mustOpen(t)
	for _, prefix := range []string{"../", "/etc/", "a/../../", "a//", `a\b/`} {
		err := b.List(t.Context(), prefix, func(portrait.ObjectInfo) error { return nil })
		if portrait.ErrorCode(err) != portrait.EINVALID {
			t.Errorf("List(%q) = %v, want %s", prefix, err, portrait.EINVALID)
		}
	}
}

// TestListDuringDeletes checks that List does not fail on files and
// folders removed while it walks.
func TestListDuringDeletes(t *testing.T) {
	b, _ := mustOpen(t)
	var keys []string
	for i := range 200 {
		key := fmt.Sprintf("profileImages/u%d/%d.jpg", i%20, i)
		buckettest.MustPut(t, b, key, []byte("x"), "image/jpeg")
		keys = append(keys, key)
	}
	done := make(chan error)
	go func() {
		var err error
		for _, key := range keys {
			err = errors.Join(err, b.Delete(context.Background(), key))
		}
		done <- err
	}()
	for {
		if err := b.List(t.Context(), "profileImages/", func(portrait.ObjectInfo) error { return nil }); err != nil {
			t.Fatalf("List: %v", err)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			return
		default:
		}
	}
}

// TestPutDeleteRace checks that Puts into a user's folder succeed while
// Deletes of the user's other objects remove the folder when it empties.
func TestPutDeleteRace(t *testing.T) {
	b, _ := mustOpen(t)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for w := range 2 {
		wg.Go(func() {
			key := fmt.Sprintf("profileImages/u1/%d.jpg", w)
			for range 100 {
				err := b.Put(context.Background(), key, strings.NewReader("x"), 1, "image/jpeg")
				errs[w] = errors.Join(errs[w], err, b.Delete(context.Background(), key))
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

// TestListRemovesAbandonedTempFiles: a temp file left by a crashed Put is
// removed by a later List once it is old; a young one may be a Put in
// progress and is kept.
func TestListRemovesAbandonedTempFiles(t *testing.T) {
	b, dir := mustOpen(t)
	buckettest.MustPut(t, b, "profileImages/u1/a.jpg", []byte("a"), "image/jpeg")
	old := filepath.Join(dir, "profileImages", "u1", ".b.jpg.tmp-0123456789abcdef")
	young := filepath.Join(dir, "profileImages", "u1", ".c.jpg.tmp-fedcba9876543210")
	for _, p := range []string{old, young} {
		if err := os.WriteFile(p, []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	past := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(old, past, past); err != nil {
		t.Fatal(err)
	}
	buckettest.ListKeys(t, b, "profileImages/")
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("abandoned temp file still there (err %v)", err)
	}
	if _, err := os.Stat(young); err != nil {
		t.Errorf("young temp file removed: %v", err)
	}
}
