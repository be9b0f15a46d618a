package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/portraitsvc/portrait"
	"github.com/portraitsvc/portrait/postgres/pgtest"
	"github.com/portraitsvc/portrait/s3"
	"github.com/portraitsvc/portrait/s3/s3test"
)

const (
	scaleOutUploads  = 50 // uploads through each node
	scaleOutInFlight = 8  // uploads in flight at once on each node
)

// TestScaleOut runs two `portrait serve` processes that share one
// PostgreSQL schema and one S3 bucket, and has one user upload through
// both at once. Afterwards the nodes agree on the user's image, both serve
// it, and once `portrait gc` has retried pending deletions the bucket holds
// that one object of the user and nothing is left pending.
func TestScaleOut(t *testing.T) {
	dbURL, storageURL := pgtest.URL(t), s3test.URL(t)
	secret := make([]byte, 32)
	rand.Read(secret)
	shared := append(s3test.Env(t), "PORTRAIT_DATABASE_URL="+dbURL, "PORTRAIT_STORAGE_URL="+storageURL,
		"PORTRAIT_JWT_SECRET="+hex.EncodeToString(secret), "PORTRAIT_UPLOAD_PER_MINUTE=0")
	nodes := []*proc{
		startProc(t, slices.Concat(shared, []string{"PORTRAIT_DATA_DIR=" + t.TempDir()})...),
		startProc(t, slices.Concat(shared, []string{"PORTRAIT_DATA_DIR=" + t.TempDir()})...),
	}
	a := registerAt(t, nodes[0].base)

	uploadThroughAll(t, nodes, a.token, photo(t, 320, 240))
	key := agreedImageKey(t, nodes, a.token)
	for _, n := range nodes {
		fetchImage(t, n.base+"/"+key, "image/jpeg")
	}
	if rep := gcReport(t, runPortrait(t, shared, "gc")); rep.Failures != 0 {
		t.Errorf("portrait gc: %+v", rep)
	} else {
		t.Logf("portrait gc: %+v", rep)
	}

	if got := userImageKey(t, dbURL, a.id); got != key {
		t.Errorf("users.image_key = %q, want %q as GET /users/me says", got, key)
	}
	if n := pendingDeletions(t, dbURL); n != 0 {
		t.Errorf("%d pending deletions left after portrait gc, want 0", n)
	}
	objs, set := bucketKeys(t, storageURL, portrait.ImagePrefix), checkSet(t, nodes[1].base, a.token)
	if !slices.Equal(objs, set) || !slices.Contains(set, key) {
		t.Errorf("bucket holds %q under %s; want only the set of %s: %q", objs, portrait.ImagePrefix, key, set)
	}
}

// uploadThroughAll makes scaleOutUploads uploads of data through each
// node, all nodes at once, scaleOutInFlight at a time on each, and fails
// the test unless every one answers 200.
func uploadThroughAll(t *testing.T, nodes []*proc, token string, data []byte) {
	t.Helper()
	start := time.Now()
	errs := make(chan error, len(nodes)*scaleOutUploads)
	var wg sync.WaitGroup
	for _, n := range nodes {
		jobs := make(chan int)
		for range scaleOutInFlight {
			wg.Go(func() {
				for i := range jobs {
					if r, err := tryUpload(n.base, token, data); err != nil || r.status != 200 {
						errs <- fmt.Errorf("upload %d through %s: %v %v", i, n.base, r, err)
					}
				}
			})
		}
		go func() {
			for i := range scaleOutUploads {
				jobs <- i
			}
			close(jobs)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	t.Logf("%d uploads through %d nodes in %v", len(nodes)*scaleOutUploads, len(nodes), time.Since(start).Round(time.Millisecond))
	if t.Failed() {
		t.FailNow()
	}
}

// agreedImageKey asks every node for the user's profile_image, checks that
// each is under that node's own URL and that all name the same object, and
// returns its key.
func agreedImageKey(t *testing.T, nodes []*proc, token string) string {
	t.Helper()
	var key string
	for _, n := range nodes {
		img := profileImage(t, n.base, token)
		rest, ok := strings.CutPrefix(img, n.base+"/")
		if !ok || !strings.HasPrefix(rest, portrait.ImagePrefix) {
			t.Fatalf("%s says profile_image %q, want %s/%s…", n.base, img, n.base, portrait.ImagePrefix)
		}
		k, err := url.PathUnescape(rest)
		if err != nil {
			t.Fatal(err)
		}
		if key != "" && k != key {
			t.Fatalf("nodes disagree on the image: %q and %q", key, k)
		}
		key = k
	}
	return key
}

// userImageKey reads the user's image_key from the database, "" for NULL.
func userImageKey(t *testing.T, dbURL, id string) string {
	t.Helper()
	var key *string
	queryRow(t, dbURL, `SELECT image_key FROM users WHERE id = $1`, []any{id}, &key)
	if key == nil {
		return ""
	}
	return *key
}

// pendingDeletions counts the rows of pending_deletions.
func pendingDeletions(t *testing.T, dbURL string) int {
	t.Helper()
	var n int
	queryRow(t, dbURL, `SELECT count(*) FROM pending_deletions`, nil, &n)
	return n
}

// queryRow runs a one-row query on a connection of its own and scans it
// into dest.
func queryRow(t *testing.T, dbURL, query string, args []any, dest ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if err := conn.QueryRow(ctx, query, args...).Scan(dest...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// bucketKeys lists the keys under prefix in the S3 bucket of storageURL,
// with the credentials that s3test gives subprocesses.
func bucketKeys(t *testing.T, storageURL, prefix string) []string {
	t.Helper()
	cfg, err := s3.ParseURL(storageURL)
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range s3test.Env(t) {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "AWS_ACCESS_KEY_ID":
			cfg.AccessKey = v
		case "AWS_SECRET_ACCESS_KEY":
			cfg.SecretKey = v
		}
	}
	b, err := s3.OpenConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	err = b.List(t.Context(), prefix, func(o portrait.ObjectInfo) error {
		keys = append(keys, o.Key)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// gcReport parses the JSON report that `portrait gc` prints.
func gcReport(t testing.TB, out string) portrait.SweepReport {
	t.Helper()
	var rep portrait.SweepReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("portrait gc printed %q: %v", out, err)
	}
	return rep
}
