package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/portraitsvc/portrait"
)

// farFuture is after every record a test makes.
var farFuture = time.Now().Add(1000 * time.Hour)

// longAgo is before every record a test makes.
var longAgo = time.Now().Add(-1000 * time.Hour)

func mustBegin(t *testing.T, s portrait.UserStore, id, set string) {
	t.Helper()
	if err := s.BeginUpload(t.Context(), id, set); err != nil {
		t.Fatalf("BeginUpload(%s, %q): %v", id, set, err)
	}
}

func assertRelease(t *testing.T, s portrait.UserStore, set string, before time.Time, want bool) {
	t.Helper()
	got, err := s.ReleaseUpload(t.Context(), set, before)
	if err != nil || got != want {
		t.Fatalf("ReleaseUpload(%q, %v) = %v, %v; want %v", set, before, got, err, want)
	}
}

// testUploadConsumedOnce: a commit consumes its upload record, so the same
// set cannot be committed twice.
func testUploadConsumedOnce(t *testing.T, s portrait.UserStore) {
	mustCreate(t, s, newUser("u1", "ada@example.com"))
	mustSetImage(t, s, "u1", "k1", "")
	_, _, err := s.SetImage(t.Context(), "u1", image("k1"))
	assertCode(t, err, portrait.EUPLOADEXPIRED)
	if got, err := s.StaleUploads(t.Context(), farFuture, 10); err != nil || len(got) != 0 {
		t.Errorf("StaleUploads after the commit = %q, %v; want none", got, err)
	}
}

// testUploadOfOtherUser: one user cannot commit the set another began.
func testUploadOfOtherUser(t *testing.T, s portrait.UserStore) {
	mustCreate(t, s, newUser("u1", "ada@example.com"))
	mustCreate(t, s, newUser("u2", "bob@example.com"))
	mustBegin(t, s, "u1", "k1")
	_, _, err := s.SetImage(t.Context(), "u2", image("k1"))
	assertCode(t, err, portrait.EUPLOADEXPIRED)
	if u := mustGet(t, s, "u2"); u.Image.Set != "" {
		t.Fatalf("u2 points at %q", u.Image.Set)
	}
	if _, _, err := s.SetImage(t.Context(), "u1", image("k1")); err != nil {
		t.Fatalf("the owner's commit after a stranger's attempt: %v", err)
	}
}

// testReleaseYoungUpload: a record made after the release's cutoff is an
// upload in progress: not released, and its commit still succeeds.
func testReleaseYoungUpload(t *testing.T, s portrait.UserStore) {
	mustCreate(t, s, newUser("u1", "ada@example.com"))
	mustBegin(t, s, "u1", "k1")
	assertRelease(t, s, "k1", longAgo, false)
	if _, _, err := s.SetImage(t.Context(), "u1", image("k1")); err != nil {
		t.Fatalf("commit after a release that found the upload young: %v", err)
	}
}

// testReleaseStaleUpload: once a stale record is released, its commit fails
// and changes nothing: the previous image is kept, nothing is pending.
func testReleaseStaleUpload(t *testing.T, s portrait.UserStore) {
	mustCreate(t, s, newUser("u1", "ada@example.com"))
	before := mustSetImage(t, s, "u1", "k1", "")
	mustBegin(t, s, "u1", "k2")
	assertRelease(t, s, "k2", farFuture, true)
	_, _, err := s.SetImage(t.Context(), "u1", image("k2"))
	assertCode(t, err, portrait.EUPLOADEXPIRED)
	assertUser(t, mustGet(t, s, "u1"), before)
	assertPending(t, s, nil)
	assertRelease(t, s, "k2", farFuture, true)
}

// testReleaseReferenced: a committed set is never released, however old.
func testReleaseReferenced(t *testing.T, s portrait.UserStore) {
	mustCreate(t, s, newUser("u1", "ada@example.com"))
	mustSetImage(t, s, "u1", "k1", "")
	assertRelease(t, s, "k1", farFuture, false)
	mustSetImage(t, s, "u1", "k2", "k1")
	assertRelease(t, s, "k1", farFuture, true)
}

// testReleaseUnknown: a set nobody recorded or references is free.
func testReleaseUnknown(t *testing.T, s portrait.UserStore) {
	assertRelease(t, s, "never-recorded", farFuture, true)
}

func testStaleUploads(t *testing.T, s portrait.UserStore) {
	mustCreate(t, s, newUser("u1", "ada@example.com"))
	for _, set := range []string{"k3", "k2", "k1", "k0"} {
		mustBegin(t, s, "u1", set)
		time.Sleep(2 * time.Millisecond)
	}
	mustSetImageBegun(t, s, "u1", "k2")
	assertRelease(t, s, "k1", farFuture, true)
	for limit, want := range map[int][]string{0: nil, 1: {"k3"}, 5: {"k3", "k0"}} {
		got, err := s.StaleUploads(t.Context(), farFuture, limit)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("StaleUploads(limit %d) = %q, %v; want %q", limit, got, err, want)
		}
	}
	if got, err := s.StaleUploads(t.Context(), longAgo, 10); err != nil || len(got) != 0 {
		t.Errorf("StaleUploads before every record = %q, %v; want none", got, err)
	}
}

// mustSetImageBegun commits set, whose upload is already recorded.
func mustSetImageBegun(t *testing.T, s portrait.UserStore, id, set string) {
	t.Helper()
	if _, _, err := s.SetImage(t.Context(), id, image(set)); err != nil {
		t.Fatalf("SetImage(%s, %q): %v", id, set, err)
	}
}

// testCommitRacesRelease is the fence: for sets whose commit and release
// run at the same moment, never may both win, since the release's true
// lets a sweep delete the objects that the commit would point the user at.
func testCommitRacesRelease(t *testing.T, s portrait.UserStore) {
	const n = 24
	for i := range n {
		mustCreate(t, s, newUser(fmt.Sprintf("u%d", i), fmt.Sprintf("u%d@example.com", i)))
		mustBegin(t, s, fmt.Sprintf("u%d", i), fmt.Sprintf("k%d", i))
	}
	released := make([]bool, n)
	errs := parallel(2*n, func(j int) (err error) {
		i := j / 2
		if j%2 == 0 {
			_, _, err = s.SetImage(t.Context(), fmt.Sprintf("u%d", i), image(fmt.Sprintf("k%d", i)))
			if portrait.ErrorCode(err) == portrait.EUPLOADEXPIRED {
				err = nil
			}
			return err
		}
		released[i], err = s.ReleaseUpload(t.Context(), fmt.Sprintf("k%d", i), farFuture)
		return err
	})
	for j, err := range errs {
		if err != nil {
			t.Fatalf("call %d: %v", j, err)
		}
	}
	for i := range n {
		committed := mustGet(t, s, fmt.Sprintf("u%d", i)).Image.Set != ""
		if committed == released[i] {
			t.Errorf("set %d: committed %v, released %v; exactly one must win", i, committed, released[i])
		}
	}
}

func testPing(t *testing.T, s portrait.UserStore) {
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping of a working store: %v", err)
	}
}
