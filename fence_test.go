package portrait_test

import (
	"bytes"
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/portraitsvc/portrait"
	"github.com/portraitsvc/portrait/localfs"
	"github.com/portraitsvc/portrait/postgres"
	"github.com/portraitsvc/portrait/postgres/pgtest"
)

// TestSweepDuringSlowCommit: a sweep whose grace a slow commit outlives
// releases the upload and deletes its objects; the commit then fails with
// EUPLOADEXPIRED and the user keeps the previous image, which is served.
// Without the fence the commit would succeed and point the user at objects
// already deleted.
func TestSweepDuringSlowCommit(t *testing.T) {
	f := newFixture(t)
	old, _ := f.replace(t, "old")
	var rep portrait.SweepReport
	f.store.beforeCommit = func() {
		f.store.beforeCommit = nil
		var err error
		if rep, err = f.images.Sweep(context.Background(), 0); err != nil {
			t.Errorf("Sweep during the commit: %v", err)
		}
	}
	_, err := f.replace(t, "new")
	if portrait.ErrorCode(err) != portrait.EUPLOADEXPIRED {
		t.Fatalf("Replace outlived by a sweep: err %v, want code %s", err, portrait.EUPLOADEXPIRED)
	}
	if rep.Abandoned != 1 || rep.Deleted != 2 {
		t.Errorf("sweep report %+v; want the upload abandoned and its 2 objects deleted", rep)
	}
	f.assertOnly(t, old)
}

// TestSweepReleasesAbandonedUploads: uploads recorded and never committed
// (the process died), with or without objects written, are released and
// their objects deleted once older than the grace, and not before.
func TestSweepReleasesAbandonedUploads(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	current, _ := f.replace(t, "current")
	withObjects, without := portrait.NewImageSet(f.user), portrait.NewImageSet(f.user)
	for _, set := range []string{withObjects, without} {
		if err := f.store.BeginUpload(ctx, f.user, set); err != nil {
			t.Fatal(err)
		}
	}
	f.putOrphan(t, withObjects+"512.jpg")
	f.putOrphan(t, withObjects+"64.jpg")
	if rep, err := f.images.Sweep(ctx, time.Hour); err != nil || rep.Abandoned != 0 || rep.Deleted != 0 {
		t.Fatalf("Sweep of young uploads = %+v, %v; want nothing done", rep, err)
	}
	f.images.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	rep, err := f.images.Sweep(ctx, time.Hour)
	if err != nil || rep.Abandoned != 2 || rep.Deleted != 2 {
		t.Fatalf("Sweep = %+v, %v; want 2 uploads abandoned and 2 objects deleted", rep, err)
	}
	f.assertOnly(t, current)
}

// TestUploadInProgressSurvivesSweep: an upload younger than the grace keeps
// its objects through a sweep and commits afterwards.
func TestUploadInProgressSurvivesSweep(t *testing.T) {
	f := newFixture(t)
	f.store.beforeCommit = func() {
		f.store.beforeCommit = nil
		if rep, err := f.images.Sweep(context.Background(), time.Hour); err != nil || rep.Deleted != 0 {
			t.Errorf("Sweep during a young upload = %+v, %v; want nothing deleted", rep, err)
		}
	}
	key, err := f.replace(t, "new")
	if err != nil {
		t.Fatalf("Replace: %v", err)
	}
	f.assertOnly(t, key)
}

// TestImagesStoredBeforeSets: an image stored under the old layout,
// profileImages/<user>/<name>, is its own set: kept by sweeps while
// referenced, deleted when replaced, and swept as an orphan otherwise.
func TestImagesStoredBeforeSets(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	legacy, orphan := portrait.ImagePrefix+"u2/abc-1.jpg", portrait.ImagePrefix+"u2/def-2.jpg"
	if err := f.store.CreateUser(ctx, &portrait.User{ID: "u2", Email: "u2@example.com", Image: portrait.Image{Key: legacy, Set: legacy}}); err != nil {
		t.Fatal(err)
	}
	f.putOrphan(t, legacy)
	f.putOrphan(t, orphan)
	f.images.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	if rep, err := f.images.Sweep(ctx, time.Hour); err != nil || rep.Deleted != 1 {
		t.Fatalf("Sweep = %+v, %v; want the legacy orphan deleted", rep, err)
	}
	f.user = "u2"
	f.assertOnly(t, legacy)
	current, err := f.replace(t, "new")
	if err != nil {
		t.Fatal(err)
	}
	f.assertOnly(t, current)
}

// TestSlowCommitOnPostgreSQL holds a real row lock on the user, so that an
// upload's commit waits past the grace of sweeps that run meanwhile, as a
// slow or contended database would make it. The upload must either fail
// with EUPLOADEXPIRED, the previous image kept and served, or succeed with
// its image served: never answer success with an image already deleted.
func TestSlowCommitOnPostgreSQL(t *testing.T) {
	for name, grace := range map[string]time.Duration{"shorter than the commit": 200 * time.Millisecond, "longer": time.Hour} {
		t.Run(name, func(t *testing.T) {
			url := pgtest.URL(t)
			images, store := pgImages(t, url)
			old := mustReplace(t, images, "u1", "old")
			tx := lockUser(t, url, "u1")
			result := make(chan error, 1)
			go func() {
				_, err := images.Replace(context.Background(), "u1", portrait.Upload{Objects: []portrait.Object{
					{Name: "512.jpg", Side: 512, Data: []byte("new"), ContentType: "image/jpeg"}}})
				result <- err
			}()
			sweepFor(t, images, grace, time.Second)
			tx.Rollback(context.Background())
			err := <-result
			u, uerr := store.UserByID(context.Background(), "u1")
			if uerr != nil {
				t.Fatal(uerr)
			}
			switch {
			case err == nil:
				assertServed(t, images.Bucket, u.Image.Key)
				if grace < time.Second {
					t.Fatalf("the commit succeeded although sweeps with a %v grace ran while it waited", grace)
				}
			case portrait.ErrorCode(err) == portrait.EUPLOADEXPIRED:
				if u.Image.Key != old {
					t.Fatalf("user points at %q after a failed upload, want the previous %q", u.Image.Key, old)
				}
				assertServed(t, images.Bucket, old)
			default:
				t.Fatalf("Replace: %v", err)
			}
		})
	}
}

// pgImages returns Images on a new schema of the test PostgreSQL and a
// local folder, with user u1.
func pgImages(t *testing.T, url string) (*portrait.Images, *postgres.Store) {
	t.Helper()
	store, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	bucket, err := localfs.Open(filepath.Join(t.TempDir(), "bucket"))
	if err != nil {
		t.Fatal(err)
	}
	if err := store.CreateUser(t.Context(), &portrait.User{ID: "u1", Email: "u1@example.com"}); err != nil {
		t.Fatal(err)
	}
	return &portrait.Images{Users: store, Bucket: bucket}, store
}

func mustReplace(t *testing.T, images *portrait.Images, user, content string) string {
	t.Helper()
	u, err := images.Replace(t.Context(), user, portrait.Upload{Objects: []portrait.Object{
		{Name: "512.jpg", Side: 512, Data: []byte(content), ContentType: "image/jpeg"}}})
	if err != nil {
		t.Fatal(err)
	}
	return u.Image.Key
}

// lockUser locks the user's row in a transaction of a connection of its
// own, which the caller rolls back.
func lockUser(t *testing.T, url, id string) pgx.Tx {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	tx, err := conn.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(t.Context(), `SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, id); err != nil {
		t.Fatal(err)
	}
	return tx
}

// sweepFor sweeps with grace every 50 ms, from two goroutines as two nodes
// would, for d.
func sweepFor(t *testing.T, images *portrait.Images, grace, d time.Duration) {
	t.Helper()
	var wg sync.WaitGroup
	end := time.Now().Add(d)
	for range 2 {
		wg.Go(func() {
			for time.Now().Before(end) {
				if _, err := images.Sweep(context.Background(), grace); err != nil {
					t.Errorf("Sweep: %v", err)
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
	wg.Wait()
}

// assertServed checks that key can be read back whole.
func assertServed(t *testing.T, b portrait.Bucket, key string) {
	t.Helper()
	r, _, err := b.Open(context.Background(), key)
	if err != nil {
		t.Fatalf("image %q not served: %v", key, err)
	}
	defer r.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(r); err != nil || buf.Len() == 0 {
		t.Fatalf("image %q unreadable: %d bytes, %v", key, buf.Len(), err)
	}
}
