package portrait_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/portraitsvc/portrait"
	"github.com/portraitsvc/portrait/localfs"
	"github.com/portraitsvc/portrait/sqlite"
)

var errInjected = errors.New("injected failure")

// faultyBucket is a real bucket whose operations fail on demand.
type faultyBucket struct {
	portrait.Bucket
	failPut, failDelete bool
}

func (b *faultyBucket) Put(ctx context.Context, key string, r io.Reader, size int64, ct string) error {
	if b.failPut {
		io.CopyN(io.Discard, r, size/2) // fail midway, as a dropped connection would
		return errInjected
	}
	return b.Bucket.Put(ctx, key, r, size, ct)
}

func (b *faultyBucket) Delete(ctx context.Context, keys ...string) error {
	if b.failDelete {
		return errInjected
	}
	return b.Bucket.Delete(ctx, keys...)
}

// faultyStore is a real store whose SetImage fails on demand: before the
// commit, or after it took effect (as when a connection drops while the
// commit's answer is on its way).
type faultyStore struct {
	portrait.UserStore
	failBeforeCommit, failAfterCommit, failReads bool
	// beforeCommit, if set, runs as SetImage starts, as a slow commit
	// would let other work happen.
	beforeCommit func()
}

func (s *faultyStore) ImageReferenced(ctx context.Context, set string) (bool, error) {
	if s.failReads {
		return false, errInjected
	}
	return s.UserStore.ImageReferenced(ctx, set)
}

func (s *faultyStore) ReleaseUpload(ctx context.Context, set string, before time.Time) (bool, error) {
	if s.failReads {
		return false, errInjected
	}
	return s.UserStore.ReleaseUpload(ctx, set, before)
}

func (s *faultyStore) SetImage(ctx context.Context, id string, img portrait.Image) (*portrait.User, string, error) {
	if s.beforeCommit != nil {
		s.beforeCommit()
	}
	if s.failBeforeCommit {
		return nil, "", errInjected
	}
	u, prev, err := s.UserStore.SetImage(ctx, id, img)
	if s.failAfterCommit {
		return nil, "", errInjected
	}
	return u, prev, err
}

type fixture struct {
	images *portrait.Images
	bucket *faultyBucket
	store  *faultyStore
	user   string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(filepath.Join(dir, "portrait.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	b, err := localfs.Open(filepath.Join(dir, "bucket"))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{bucket: &faultyBucket{Bucket: b}, store: &faultyStore{UserStore: st}, user: "u1"}
	f.images = &portrait.Images{Users: f.store, Bucket: f.bucket}
	if err := st.CreateUser(context.Background(), &portrait.User{ID: f.user, Email: "u1@example.com", FirstName: "U", LastName: "One"}); err != nil {
		t.Fatal(err)
	}
	return f
}

// replace uploads content as a set of two objects, the image and a
// smaller size of it, and returns the key the user then points at.
func (f *fixture) replace(t *testing.T, content string) (string, error) {
	t.Helper()
	u, err := f.images.Replace(context.Background(), f.user, portrait.Upload{Objects: []portrait.Object{
		{Name: "512.jpg", Side: 512, Data: []byte(content), ContentType: "image/jpeg"},
		{Name: "64.jpg", Side: 64, Data: []byte(content[:1]), ContentType: "image/jpeg"}}})
	if err != nil {
		return "", err
	}
	if u.Image.Set != portrait.SetOf(u.Image.Key) {
		t.Fatalf("user points at %q in set %q", u.Image.Key, u.Image.Set)
	}
	return u.Image.Key, nil
}

// objects lists every stored key.
func (f *fixture) objects(t *testing.T) []string {
	t.Helper()
	var keys []string
	err := f.bucket.List(context.Background(), portrait.ImagePrefix, func(o portrait.ObjectInfo) error {
		keys = append(keys, o.Key)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// assertOnly checks that the user points at key, that key is readable, and
// that the objects of its set are the only stored objects, with no upload
// left recorded.
func (f *fixture) assertOnly(t *testing.T, key string) {
	t.Helper()
	u, err := f.store.UserByID(context.Background(), f.user)
	if err != nil || u.Image.Key != key {
		t.Fatalf("user points at %q (err %v), want %q", u.Image.Key, err, key)
	}
	for _, o := range f.objects(t) {
		if key == "" || portrait.SetOf(o) != u.Image.Set {
			t.Fatalf("bucket holds %v, want only the objects of %q", f.objects(t), u.Image.Set)
		}
	}
	if key != "" {
		r, _, err := f.bucket.Open(context.Background(), key)
		if err != nil {
			t.Fatalf("current image unreadable: %v", err)
		}
		r.Close()
	}
	if ups, err := f.store.StaleUploads(context.Background(), time.Now().Add(time.Hour), 10); err != nil || len(ups) != 0 {
		t.Fatalf("uploads still recorded: %q, %v", ups, err)
	}
}

func TestReplaceDeletesThePreviousImage(t *testing.T) {
	f := newFixture(t)
	first, err := f.replace(t, "first")
	if err != nil {
		t.Fatal(err)
	}
	second, err := f.replace(t, "second")
	if err != nil {
		t.Fatal(err)
	}
	if second == first {
		t.Fatal("two uploads got the same key")
	}
	f.assertOnly(t, second)
	same, _ := f.replace(t, "second")
	if same == second {
		t.Fatal("re-uploading the same bytes reused the key; a pending deletion of it could delete the current image")
	}
	f.assertOnly(t, same)
}

func TestFailuresKeepTheCurrentImage(t *testing.T) {
	cases := []struct {
		name   string
		inject func(*fixture)
	}{
		{"put fails", func(f *fixture) { f.bucket.failPut = true }},
		{"commit fails", func(f *fixture) { f.store.failBeforeCommit = true }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			old, _ := f.replace(t, "old")
			c.inject(f)
			if _, err := f.replace(t, "new"); !errors.Is(err, errInjected) {
				t.Fatalf("Replace err = %v, want the injected failure", err)
			}
			f.assertOnly(t, old)
		})
	}
}

// TestCommitThatTookEffectKeepsTheNewImage: when SetImage reports failure
// although it committed, the new object is referenced and must survive.
func TestCommitThatTookEffectKeepsTheNewImage(t *testing.T) {
	f := newFixture(t)
	old, _ := f.replace(t, "old")
	f.store.failAfterCommit = true
	if _, err := f.replace(t, "new"); err == nil {
		t.Fatal("want the injected error")
	}
	f.store.failAfterCommit = false
	u, _ := f.store.UserByID(context.Background(), f.user)
	if u.Image.Key == old {
		t.Fatal("the commit did not take effect; the fault was not injected after it")
	}
	if _, err := f.images.RetryDeletions(context.Background(), 0, 10); err != nil {
		t.Fatal(err)
	}
	f.assertOnly(t, u.Image.Key)
}

// TestUnreadableStateKeepsObjects: when the store cannot say whether an
// object is referenced, nothing is deleted; the sweep cleans up later.
func TestUnreadableStateKeepsObjects(t *testing.T) {
	f := newFixture(t)
	old, _ := f.replace(t, "old")
	f.store.failBeforeCommit, f.store.failReads = true, true
	if _, err := f.replace(t, "new"); err == nil {
		t.Fatal("want the injected error")
	}
	if n := len(f.objects(t)); n != 4 {
		t.Fatalf("bucket holds %d objects; the uncommitted new set must be kept while in doubt", n)
	}
	if _, err := f.images.Sweep(context.Background(), 0); err == nil {
		t.Fatal("Sweep with unreadable references must fail, not guess")
	}
	if n := len(f.objects(t)); n != 4 {
		t.Fatalf("Sweep deleted objects without knowing they were unreferenced: %d left", n)
	}
	f.store.failBeforeCommit, f.store.failReads = false, false
	if _, err := f.images.Sweep(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	f.assertOnly(t, old)
}

func TestFailedDeleteIsRetried(t *testing.T) {
	f := newFixture(t)
	f.replace(t, "old")
	f.bucket.failDelete = true
	current, err := f.replace(t, "new")
	if err != nil {
		t.Fatalf("Replace must succeed although the old image could not be deleted: %v", err)
	}
	if n := len(f.objects(t)); n != 4 {
		t.Fatalf("bucket holds %d objects; the failing delete was not injected", n)
	}
	if n, err := f.images.RetryDeletions(context.Background(), 0, 10); n != 0 || err == nil {
		t.Fatalf("retry while deletes still fail: %d deleted, err %v", n, err)
	}
	f.bucket.failDelete = false
	if n, err := f.images.RetryDeletions(context.Background(), 0, 10); n != 1 || err != nil {
		t.Fatalf("retry: %d deleted, err %v; want 1, nil", n, err)
	}
	f.assertOnly(t, current)
}

func TestRemoveWithFailingDelete(t *testing.T) {
	f := newFixture(t)
	f.replace(t, "old")
	f.bucket.failDelete = true
	if u, err := f.images.Remove(context.Background(), f.user); err != nil || u.Image.Key != "" {
		t.Fatalf("Remove = %+v, %v", u, err)
	}
	f.bucket.failDelete = false
	f.images.RetryDeletions(context.Background(), 0, 10)
	f.assertOnly(t, "")
}

func TestSweepDeletesOnlyOldOrphans(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	current, _ := f.replace(t, "current")
	f.putOrphan(t, portrait.NewImageSet(f.user)+"512.jpg")
	rep, err := f.images.Sweep(ctx, time.Hour)
	if err != nil || rep.Deleted != 0 || len(f.objects(t)) != 3 {
		t.Fatalf("young orphan swept: %+v, %v", rep, err)
	}
	f.images.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	rep, err = f.images.Sweep(ctx, time.Hour)
	if err != nil || rep.Deleted != 1 || rep.Scanned != 3 {
		t.Fatalf("Sweep = %+v, %v; want 3 scanned, 1 deleted", rep, err)
	}
	f.assertOnly(t, current)
}

// TestConcurrentSweeps: several nodes sweeping at once delete every old
// orphan, never a referenced image, and do not fail on each other's work.
func TestConcurrentSweeps(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	current, _ := f.replace(t, "current")
	for range 20 {
		f.putOrphan(t, portrait.NewImageSet(f.user)+"512.jpg")
	}
	f.images.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			_, err := f.images.Sweep(ctx, time.Hour)
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Errorf("concurrent Sweep: %v", err)
		}
	}
	f.assertOnly(t, current)
}

// putOrphan stores an object at key that no upload recorded and no user
// references, as a crash of an older version could leave.
func (f *fixture) putOrphan(t *testing.T, key string) {
	t.Helper()
	if err := f.bucket.Put(context.Background(), key, bytes.NewReader([]byte("orphan")), 6, "image/jpeg"); err != nil {
		t.Fatal(err)
	}
}
