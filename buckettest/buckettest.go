// Package buckettest is the conformance suite that every portrait.Bucket
// passes: each subtest checks one contract a user of the Bucket would
// notice.
package buckettest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/portraitsvc/portrait"
)

// Run runs the suite. open returns an empty Bucket for the test it is
// given, and cleans it up with t.Cleanup; each subtest calls it once and
// runs in parallel with the others.
func Run(t *testing.T, open func(t *testing.T) portrait.Bucket) {
	tests := []struct {
		name string
		fn   func(*testing.T, portrait.Bucket)
	}{
		{"RoundTrip", testRoundTrip},
		{"OpenMissing", testOpenMissing},
		{"DeleteMissing", testDeleteMissing},
		{"DeleteThenOpen", testDeleteThenOpen},
		{"ListPrefix", testListPrefix},
		{"ListStopsOnError", testListStopsOnError},
		{"PutCancelledBefore", testPutCancelledBefore},
		{"PutCancelledDuring", testPutCancelledDuring},
		{"PutFailingReader", testPutFailingReader},
		{"PutShortReader", testPutShortReader},
		{"Seek", testSeek},
		{"SeekPatterns", testSeekPatterns},
		{"DeleteMany", testDeleteMany},
		{"Ping", testPing},
		{"ConcurrentPuts", testConcurrentPuts},
		{"NestedKeys", testNestedKeys},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
		})
	}
}

// testRoundTrip checks that Open returns what Put stored, with its info,
// that the ETag is stable and that List reports the same info.
func testRoundTrip(t *testing.T, b portrait.Bucket) {
	key, data := "profileImages/u1/roundtrip.png", randomBytes(t, 100_000)
	MustPut(t, b, key, data, "image/png")
	got, info := MustRead(t, b, key)
	if !bytes.Equal(got, data) {
		t.Fatalf("Open returned %d bytes, not the %d put", len(got), len(data))
	}
	checkInfo(t, info, key, int64(len(data)), "image/png")
	if _, again := MustRead(t, b, key); again.ETag != info.ETag {
		t.Errorf("ETag changed between opens: %s then %s", info.ETag, again.ETag)
	}
	listed := ListAll(t, b, key)
	if len(listed) != 1 {
		t.Fatalf("List(%q) = %d objects, want 1", key, len(listed))
	}
	l := listed[0]
	if l.Key != key || l.Size != info.Size || l.ETag != info.ETag || l.ContentType != info.ContentType {
		t.Errorf("List gives %+v, Open gives %+v", l, info)
	}
}

// checkInfo checks the info that Open returned for a fresh object.
func checkInfo(t *testing.T, info portrait.ObjectInfo, key string, size int64, contentType string) {
	t.Helper()
	if info.Key != key || info.Size != size || info.ContentType != contentType {
		t.Errorf("info = %+v, want key %s, size %d, content type %s", info, key, size, contentType)
	}
	if len(info.ETag) < 3 || info.ETag[0] != '"' || info.ETag[len(info.ETag)-1] != '"' {
		t.Errorf("ETag %q is not a quoted, non-empty string", info.ETag)
	}
	if age := time.Since(info.ModTime); age < -time.Minute || age > time.Minute {
		t.Errorf("ModTime %v is not recent (age %v)", info.ModTime, age)
	}
}

func testOpenMissing(t *testing.T, b portrait.Bucket) {
	_, _, err := b.Open(t.Context(), "profileImages/u1/missing.jpg")
	if code := portrait.ErrorCode(err); code != portrait.ENOTFOUND {
		t.Fatalf("Open(missing) = %v (code %q), want %s", err, code, portrait.ENOTFOUND)
	}
}

func testDeleteMissing(t *testing.T, b portrait.Bucket) {
	if err := b.Delete(t.Context(), "profileImages/u1/missing.jpg"); err != nil {
		t.Fatalf("Delete(missing) = %v, want nil", err)
	}
}

// testDeleteThenOpen checks that a deleted object is gone from Open and
// List, and that its neighbour is not.
func testDeleteThenOpen(t *testing.T, b portrait.Bucket) {
	gone, kept := "profileImages/u1/gone.jpg", "profileImages/u1/kept.jpg"
	MustPut(t, b, gone, []byte("gone"), "image/jpeg")
	MustPut(t, b, kept, []byte("kept"), "image/jpeg")
	if err := b.Delete(t.Context(), gone); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	MustBeMissing(t, b, gone)
	if got, _ := MustRead(t, b, kept); string(got) != "kept" {
		t.Errorf("neighbour reads %q after Delete", got)
	}
	if err := b.Delete(t.Context(), gone); err != nil {
		t.Errorf("second Delete = %v, want nil", err)
	}
}

// testListPrefix checks that List's prefix is a plain string prefix.
func testListPrefix(t *testing.T, b portrait.Bucket) {
	keys := []string{
		"profileImages/u1/a.jpg", "profileImages/u1/b.png", "profileImages/u10/c.jpg",
		"profileImages/u2/d.jpg", "other/profileImages/u1/e.jpg",
	}
	for _, k := range keys {
		MustPut(t, b, k, []byte(k), "image/jpeg")
	}
	for _, tt := range []struct {
		prefix string
		want   []string
	}{
		{"profileImages/u1/", keys[:2]},
		{"profileImages/u1", keys[:3]},
		{"profileImages/u3/", nil},
		{"nothing/here/", nil},
		{"", keys},
	} {
		if got := ListKeys(t, b, tt.prefix); !slices.Equal(got, sorted(tt.want)) {
			t.Errorf("List(%q) = %q, want %q", tt.prefix, got, sorted(tt.want))
		}
	}
}

func testListStopsOnError(t *testing.T, b portrait.Bucket) {
	for i := range 3 {
		MustPut(t, b, fmt.Sprintf("profileImages/u1/%d.jpg", i), []byte("x"), "image/jpeg")
	}
	stop, calls := errors.New("stop"), 0
	err := b.List(t.Context(), "profileImages/", func(portrait.ObjectInfo) error {
		calls++
		return stop
	})
	if err != stop || calls != 1 {
		t.Fatalf("List = %v after %d calls, want %v after 1", err, calls, stop)
	}
}

func testPutCancelledBefore(t *testing.T, b portrait.Bucket) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	key, data := "profileImages/u1/cancelled.jpg", randomBytes(t, 10_000)
	if err := b.Put(ctx, key, bytes.NewReader(data), int64(len(data)), "image/jpeg"); err == nil {
		t.Fatal("Put with a cancelled context succeeded")
	}
	MustBeMissing(t, b, key)
}

func testPutCancelledDuring(t *testing.T, b portrait.Bucket) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	key, data := "profileImages/u1/cancelled.jpg", randomBytes(t, 100_000)
	r := &stepReader{data: data, step: 1000, after: 5, fail: func() error { cancel(); return nil }}
	if err := b.Put(ctx, key, r, int64(len(data)), "image/jpeg"); err == nil {
		t.Fatal("Put whose context was cancelled while reading succeeded")
	}
	MustBeMissing(t, b, key)
}

func testPutFailingReader(t *testing.T, b portrait.Bucket) {
	key, data := "profileImages/u1/failed.jpg", randomBytes(t, 100_000)
	broken := errors.New("connection reset")
	r := &stepReader{data: data, step: 1000, after: 5, fail: func() error { return broken }}
	if err := b.Put(t.Context(), key, r, int64(len(data)), "image/jpeg"); !errors.Is(err, broken) {
		t.Fatalf("Put = %v, want the reader's error", err)
	}
	MustBeMissing(t, b, key)
}

func testPutShortReader(t *testing.T, b portrait.Bucket) {
	key, data := "profileImages/u1/short.jpg", randomBytes(t, 1000)
	if err := b.Put(t.Context(), key, bytes.NewReader(data), 2000, "image/jpeg"); err == nil {
		t.Fatal("Put of 1000 bytes announced as 2000 succeeded")
	}
	MustBeMissing(t, b, key)
}

// testSeek checks that Open's reader seeks like a file.
func testSeek(t *testing.T, b portrait.Bucket) {
	key, data := "profileImages/u1/seek.jpg", randomBytes(t, 10_000)
	MustPut(t, b, key, data, "image/jpeg")
	r, _, err := b.Open(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if end, err := r.Seek(0, io.SeekEnd); err != nil || end != int64(len(data)) {
		t.Fatalf("Seek(0, SeekEnd) = %d, %v, want %d", end, err, len(data))
	}
	if _, err := r.Seek(4000, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 500)
	if _, err := io.ReadFull(r, got); err != nil || !bytes.Equal(got, data[4000:4500]) {
		t.Fatalf("reading bytes 4000-4500 after Seek: %v, or wrong bytes", err)
	}
}

// testSeekPatterns reads an object as http.ServeContent does for a whole
// response, for a range, and for several ranges, backward ones included.
func testSeekPatterns(t *testing.T, b portrait.Bucket) {
	key, data := "profileImages/u1/ranges.jpg", randomBytes(t, 300_000)
	MustPut(t, b, key, data, "image/jpeg")
	r, _, err := b.Open(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, span := range [][2]int64{{0, 300_000}, {250_000, 260_000}, {10, 20}, {20, 200_000}, {299_999, 300_000}, {0, 1}} {
		if _, err := r.Seek(0, io.SeekEnd); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Seek(span[0], io.SeekStart); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, span[1]-span[0])
		if _, err := io.ReadFull(r, got); err != nil || !bytes.Equal(got, data[span[0]:span[1]]) {
			t.Fatalf("bytes %d-%d: %v, or wrong bytes", span[0], span[1], err)
		}
	}
	r.Seek(0, io.SeekEnd)
	if n, err := r.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Errorf("Read at the end = %d, %v; want 0, EOF", n, err)
	}
}

// testDeleteMany deletes several objects, missing ones among them, in one
// call; no call at all is fine too.
func testDeleteMany(t *testing.T, b portrait.Bucket) {
	var keys []string
	for i := range 5 {
		key := fmt.Sprintf("profileImages/u1/set/%d.jpg", i)
		MustPut(t, b, key, []byte{byte(i)}, "image/jpeg")
		keys = append(keys, key)
	}
	MustPut(t, b, "profileImages/u1/kept.jpg", []byte("kept"), "image/jpeg")
	if err := b.Delete(t.Context(), append(keys, "profileImages/u1/missing.jpg")...); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if got := ListKeys(t, b, ""); !slices.Equal(got, []string{"profileImages/u1/kept.jpg"}) {
		t.Errorf("left after Delete: %q", got)
	}
	if err := b.Delete(t.Context()); err != nil {
		t.Errorf("Delete of no keys: %v", err)
	}
}

func testPing(t *testing.T, b portrait.Bucket) {
	if err := b.Ping(t.Context()); err != nil {
		t.Fatalf("Ping of a working bucket: %v", err)
	}
	if keys := ListKeys(t, b, ""); len(keys) != 0 {
		t.Errorf("Ping left objects: %q", keys)
	}
}

func testConcurrentPuts(t *testing.T, b portrait.Bucket) {
	const n = 20
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			key, data := fmt.Sprintf("profileImages/u%d/img.jpg", i), []byte(fmt.Sprint(i))
			errs[i] = b.Put(t.Context(), key, bytes.NewReader(data), int64(len(data)), "image/jpeg")
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if got, _ := MustRead(t, b, fmt.Sprintf("profileImages/u%d/img.jpg", i)); string(got) != fmt.Sprint(i) {
			t.Errorf("object %d reads %q", i, got)
		}
	}
	if got := ListKeys(t, b, "profileImages/"); len(got) != n {
		t.Errorf("List found %d objects, want %d: %q", len(got), n, got)
	}
}

func testNestedKeys(t *testing.T, b portrait.Bucket) {
	key := "profileImages/u1/a/b/c/deep.gif"
	MustPut(t, b, key, []byte("GIF89a"), "image/gif")
	if got, info := MustRead(t, b, key); string(got) != "GIF89a" || info.ContentType != "image/gif" {
		t.Errorf("Open = %q, %+v", got, info)
	}
	if got := ListKeys(t, b, "profileImages/u1/a/"); !slices.Equal(got, []string{key}) {
		t.Errorf("List = %q, want [%s]", got, key)
	}
	if err := b.Delete(t.Context(), key); err != nil {
		t.Fatal(err)
	}
	MustBeMissing(t, b, key)
}

// stepReader returns data step bytes at a time; after that many reads it
// returns the error of fail, or carries on if fail returns nil.
type stepReader struct {
	data        []byte
	step, after int
	fail        func() error
	reads       int
}

func (r *stepReader) Read(p []byte) (int, error) {
	if r.reads++; r.reads > r.after {
		if err := r.fail(); err != nil {
			return 0, err
		}
	}
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), r.step)], r.data)
	r.data = r.data[n:]
	return n, nil
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func sorted(s []string) []string {
	return slices.Sorted(slices.Values(s))
}
