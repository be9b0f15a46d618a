package main

import (
	"bytes"
	crand "crypto/rand"
	"encoding/binary"
	"fmt"
	"image"
	"image/jpeg"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portraitsvc/portrait"
)

const (
	crashRounds     = 60                     // rounds of the crash loop: one kill -9 each
	crashMinKills   = 50                     // kills the test must have made
	crashUsers      = 3                      // accounts uploading
	crashMaxUploads = 4                      // most uploads fired in one round
	crashMaxDelay   = 150 * time.Millisecond // longest wait between the uploads and the kill
	crashSeedEnv    = "PORTRAIT_TEST_CRASH_SEED"
)

// crashUser is an account of TestCrashSafety.
type crashUser struct {
	account
	// hadImage is set once an upload answered 200 or the user was seen
	// with an image: from then on the user must never be without one.
	hadImage bool
}

// crashStats is what the crash loop did, for the log.
type crashStats struct {
	kills       int // SIGKILLs that ended a running server
	hits        int // kills that cut at least one upload
	ok, cut     int // uploads answered 200; cut by the kill
	sweep       portrait.SweepReport
	tmpFiles    []int // files in <data>/tmp after each round
	bucketTemps []int // Put temp files in the bucket after each round
}

// TestCrashSafety runs `portrait serve` on its embedded defaults (SQLite
// and a local folder) and kills it with SIGKILL at random points while
// users replace their images. After each kill it runs `portrait gc` with a
// tiny grace period (safe: nothing is in flight while the server is down),
// restarts the server and checks that every user who ever had an image
// has one that is served, and that the bucket holds exactly the images the
// users reference: no orphan, nothing missing.
//
// The random choices come from a seed that is logged; set
// PORTRAIT_TEST_CRASH_SEED to replay them (timing still varies).
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the crash loop (≥ 50 kill -9s of a subprocess, ~30 s) in -short mode")
	}
	seed := crashSeed(t)
	rng := rand.New(rand.NewPCG(seed, seed))
	data := t.TempDir()
	env := []string{"PORTRAIT_DATA_DIR=" + data, "PORTRAIT_UPLOAD_PER_MINUTE=0",
		"PORTRAIT_JWT_SECRET=crash-safety-test-secret-0123456789abcdef"}
	srv := startProc(t, env...)
	users := make([]*crashUser, crashUsers)
	for i := range users {
		users[i] = &crashUser{account: registerAt(t, srv.base)}
	}
	images := crashImages()
	var st crashStats
	start := time.Now()
	for round := 1; round <= crashRounds; round++ {
		uploadAndKill(t, srv, rng, users, images, &st)
		sweepStopped(t, env, &st)
		st.countTemps(t, data)
		srv.launch()
		referenced := checkUsers(t, srv, users)
		checkBucket(t, data, referenced)
		if t.Failed() {
			t.Fatalf("round %d failed (seed %d; rerun with %s=%d)", round, seed, crashSeedEnv, seed)
		}
	}
	t.Logf("%d rounds in %v: %d kills, %d of them mid-upload; uploads: %d answered 200, %d cut; "+
		"gc: %d orphans deleted, %d pending deletions completed",
		crashRounds, time.Since(start).Round(time.Millisecond), st.kills, st.hits, st.ok, st.cut,
		st.sweep.Deleted, st.sweep.Retried)
	st.logTemps(t)
	if st.kills < crashMinKills {
		t.Errorf("%d kills, want at least %d", st.kills, crashMinKills)
	}
}

// crashSeed returns the seed of the crash loop's choices: that of
// PORTRAIT_TEST_CRASH_SEED, else a random one. It logs it.
func crashSeed(t *testing.T) uint64 {
	t.Helper()
	var seed uint64
	if s := os.Getenv(crashSeedEnv); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("%s: %v", crashSeedEnv, err)
		}
	} else {
		var b [8]byte
		crand.Read(b[:])
		seed = binary.LittleEndian.Uint64(b[:])
	}
	t.Logf("seed %d (replay with %s=%d)", seed, crashSeedEnv, seed)
	return seed
}

// crashImages returns JPEGs from a thumbnail to a noisy 4 MP photo, whose
// upload and processing leave a long window for a kill to land in.
func crashImages() [][]byte {
	sizes := []struct{ w, h int }{{64, 64}, {320, 240}, {1024, 768}, {2400, 1600}}
	out := make([][]byte, len(sizes))
	for i, s := range sizes {
		out[i] = noisyJPEG(s.w, s.h, uint64(i))
	}
	return out
}

// noisyJPEG returns a w×h JPEG of a gradient with noise, which compresses
// about as badly as a photo.
func noisyJPEG(w, h int, seed uint64) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(seed, 1))
	for y := range h {
		row := img.Pix[y*img.Stride:]
		for x := range w {
			n := uint8(rng.Uint32() & 31)
			row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = uint8(x*223/w)+n, uint8(y*223/h)+n, 100+n, 255
		}
	}
	var buf bytes.Buffer
	jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85})
	return buf.Bytes()
}

// uploadOutcome is the answer to one upload of the crash loop.
type uploadOutcome struct {
	user *crashUser
	r    reply
	err  error
}

// uploadAndKill fires 1 to crashMaxUploads concurrent uploads of random
// images for random users, kills the server after a random delay and
// waits for the uploads to end. An upload cut by the kill is ignored; one
// answered but not with 200 fails the test.
func uploadAndKill(t *testing.T, srv *proc, rng *rand.Rand, users []*crashUser, images [][]byte, st *crashStats) {
	t.Helper()
	n := 1 + rng.IntN(crashMaxUploads)
	outcomes := make(chan uploadOutcome, n)
	var wg sync.WaitGroup
	for range n {
		u, img := users[rng.IntN(len(users))], images[rng.IntN(len(images))]
		wg.Go(func() {
			r, err := tryUpload(srv.base, u.token, img)
			outcomes <- uploadOutcome{u, r, err}
		})
	}
	time.Sleep(time.Duration(rng.Int64N(int64(crashMaxDelay) + 1)))
	if !srv.kill() {
		t.Fatalf("the server was not running when it was to be killed:\n%s", srv.logs.Tail(4000))
	}
	st.kills++
	wg.Wait()
	close(outcomes)
	hit := false
	for o := range outcomes {
		switch {
		case o.err != nil:
			st.cut++
			hit = true
		case o.r.status == http.StatusOK:
			st.ok++
			o.user.hadImage = true
		default:
			t.Errorf("upload answered %s", o.r)
		}
	}
	if hit {
		st.hits++
	}
	procClient.CloseIdleConnections()
	http.DefaultClient.CloseIdleConnections()
}

// sweepStopped runs `portrait gc` with a grace period of 1 ns on the data
// dir of the stopped server: with no upload in flight, every unreferenced
// image is an orphan.
func sweepStopped(t *testing.T, env []string, st *crashStats) {
	t.Helper()
	rep := gcReport(t, runPortrait(t, env, "gc", "--gc-grace=1ns"))
	if rep.Failures != 0 {
		t.Errorf("portrait gc: %+v", rep)
	}
	st.sweep.Orphans += rep.Orphans
	st.sweep.Deleted += rep.Deleted
	st.sweep.Retried += rep.Retried
}

// checkUsers checks that every user who ever had an image has one, that
// each image is served as a JPEG, and so is every other object of its set.
// It returns the keys of the objects the users' sets hold.
func checkUsers(t *testing.T, srv *proc, users []*crashUser) map[string]bool {
	t.Helper()
	referenced := map[string]bool{}
	for i, u := range users {
		img := profileImage(t, srv.base, u.token)
		if img == "" {
			if u.hadImage {
				t.Errorf("user %d lost their image: profile_image is null", i)
			}
			continue
		}
		u.hadImage = true
		key, ok := strings.CutPrefix(img, srv.base+"/")
		if !ok || !strings.HasPrefix(key, portrait.ImagePrefix+u.id+"/") {
			t.Fatalf("user %d: profile_image %q is not under %s/%s%s/", i, img, srv.base, portrait.ImagePrefix, u.id)
		}
		if err := served(img); err != nil {
			t.Errorf("user %d: profile_image %s: %v", i, img, err)
		}
		for _, key := range checkSet(t, srv.base, u.token) {
			referenced[key] = true
		}
		if !referenced[key] {
			t.Errorf("user %d: profile_image %s is not one of the image's variants", i, img)
		}
	}
	return referenced
}

// served checks that GET url answers 200 with a JPEG that decodes.
func served(url string) error {
	r, err := tryDo("GET", url, "", "", nil)
	switch {
	case err != nil:
		return err
	case r.status != http.StatusOK || r.header.Get("Content-Type") != "image/jpeg":
		return fmt.Errorf("GET answered %s", r)
	}
	if _, err := jpeg.Decode(bytes.NewReader(r.body)); err != nil {
		return fmt.Errorf("served bytes: %w", err)
	}
	return nil
}

// checkBucket checks that the local bucket of the data dir holds exactly
// the referenced images, Put's temp files aside.
func checkBucket(t *testing.T, data string, referenced map[string]bool) {
	t.Helper()
	stored := map[string]bool{}
	for _, key := range bucketFiles(t, data, false) {
		stored[key] = true
		if !referenced[key] {
			t.Errorf("orphan left after portrait gc: %s", key)
		}
	}
	for key := range referenced {
		if !stored[key] {
			t.Errorf("referenced image missing from the bucket: %s", key)
		}
	}
}

// bucketFiles returns the keys of the files under profileImages/ in the
// data dir's bucket: the objects, or with temps the temp files (whose
// names hold ".tmp").
func bucketFiles(t testing.TB, data string, temps bool) []string {
	t.Helper()
	root := filepath.Join(data, "bucket")
	var keys []string
	err := filepath.WalkDir(filepath.Join(root, portrait.ImagePrefix), func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() || strings.Contains(d.Name(), ".tmp") != temps {
			return err
		}
		rel, err := filepath.Rel(root, p)
		keys = append(keys, filepath.ToSlash(rel))
		return err
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return keys
}

// countTemps records how many temp files the data dir holds: uploads
// spooled to <data>/tmp and Put's temp files in the bucket.
func (st *crashStats) countTemps(t *testing.T, data string) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(data, "tmp"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	st.tmpFiles = append(st.tmpFiles, len(entries))
	st.bucketTemps = append(st.bucketTemps, len(bucketFiles(t, data, true)))
}

// logTemps logs how the temp files grew over the rounds. Those left by
// killed uploads are young here, and so are kept: a start or a sweep
// removes them only once no request can still be writing them (minutes
// for <data>/tmp, an hour in the bucket), which this short test never
// reaches; localfs and serve have their own tests of that removal.
func (st *crashStats) logTemps(t *testing.T) {
	t.Helper()
	var tmp, bucket []string
	for i := 9; i < len(st.tmpFiles); i += 10 {
		tmp = append(tmp, fmt.Sprint(st.tmpFiles[i]))
		bucket = append(bucket, fmt.Sprint(st.bucketTemps[i]))
	}
	t.Logf("temp files left by killed uploads, every 10 rounds: <data>/tmp: %s; bucket: %s",
		strings.Join(tmp, " "), strings.Join(bucket, " "))
}
