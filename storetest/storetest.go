// Package storetest is the conformance suite of portrait.UserStore. Every
// implementation runs it against its real database, so that they all keep
// the same contract.
package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/portraitsvc/portrait"
)

// Run runs the suite, one subtest per behaviour, each on a new, empty store
// from open. open arranges (t.Cleanup) for the store to be closed, and its
// data removed, when the test ends.
func Run(t *testing.T, open func(t *testing.T) portrait.UserStore) {
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, c := range g.cases {
				t.Run(c.name, func(t *testing.T) { c.test(t, open(t)) })
			}
		})
	}
}

// testCase is one behaviour of the contract, tested on an empty store.
type testCase struct {
	name string
	test func(*testing.T, portrait.UserStore)
}

// groups are the suite's test cases, by method.
var groups = []struct {
	name  string
	cases []testCase
}{
	{"CreateUser", []testCase{
		{"RoundTrip", testRoundTrip},
		{"SetsTimes", testCreateSetsTimes},
		{"EmailTaken", testEmailTaken},
		{"ConcurrentSameEmail", testConcurrentEmails},
		{"FreshCopies", testFreshCopies},
	}},
	{"UserByEmail", []testCase{
		{"CaseInsensitive", testUserByEmailCaseInsensitive},
	}},
	{"NotFound", []testCase{
		{"EveryMethod", testNotFound},
	}},
	{"RevokeTokens", []testCase{
		{"Increments", testRevokeTokens},
	}},
	{"SetPassword", []testCase{
		{"ReplacesHashAndRevokes", testSetPassword},
	}},
	{"RehashPassword", []testCase{
		{"KeepsTokens", testRehashKeepsTokens},
		{"CompareAndSet", testRehashCompareAndSet},
		{"ConcurrentWithSetPassword", testRehashRacesSetPassword},
	}},
	{"SetImage", []testCase{
		{"First", testSetFirstImage},
		{"Replace", testReplaceImage},
		{"WithoutUpload", testSetImageWithoutUpload},
		{"Clear", testClearImage},
		{"ClearWithoutImage", testClearWithoutImage},
		{"KeyPendingTwice", testKeyPendingTwice},
		{"Concurrent", testConcurrentSetImage},
	}},
	{"DeleteUser", []testCase{
		{"RecordsImage", testDeleteRecordsImage},
		{"WithoutImage", testDeleteWithoutImage},
		{"FreesEmail", testDeleteFreesEmail},
	}},
	{"PendingDeletions", []testCase{
		{"OldestFirst", testPendingOldestFirst},
		{"Limit", testPendingLimit},
		{"Before", testPendingBefore},
		{"Count", testCountPending},
	}},
	{"DeletionDone", []testCase{
		{"Forgets", testDeletionDone},
		{"UnknownKey", testDeletionDoneUnknown},
		{"Many", testDeletionDoneMany},
	}},
	{"ImageReferenced", []testCase{
		{"TrueFalse", testImageReferenced},
	}},
	{"Uploads", []testCase{
		{"ConsumedOnce", testUploadConsumedOnce},
		{"OtherUser", testUploadOfOtherUser},
		{"ReleaseYoung", testReleaseYoungUpload},
		{"ReleaseStale", testReleaseStaleUpload},
		{"ReleaseReferenced", testReleaseReferenced},
		{"ReleaseUnknown", testReleaseUnknown},
		{"Stale", testStaleUploads},
		{"CommitRacesRelease", testCommitRacesRelease},
	}},
	{"Ping", []testCase{
		{"Writes", testPing},
	}},
	{"Identities", identityCases},
}

func testRoundTrip(t *testing.T, s portrait.UserStore) {
	want := newUser("u1", "Ada.Lovelace@Example.com")
	want.TokenVersion = 7
	want.Image = image(portrait.ImagePrefix + "u1/s/")
	mustCreate(t, s, want)
	got, err := s.UserByID(t.Context(), "u1")
	if err != nil {
		t.Fatal(err)
	}
	assertUser(t, got, want)
	got, err = s.UserByEmail(t.Context(), "ada.lovelace@example.com")
	if err != nil {
		t.Fatal(err)
	}
	assertUser(t, got, want)
}

func testCreateSetsTimes(t *testing.T, s portrait.UserStore) {
	before := time.Now().Truncate(time.Microsecond)
	u := newUser("u1", "ada@example.com")
	mustCreate(t, s, u)
	after := time.Now()
	if u.CreatedAt.Before(before) || u.CreatedAt.After(after) {
		t.Errorf("CreatedAt = %v, want within [%v, %v]", u.CreatedAt, before, after)
	}
	if !u.UpdatedAt.Equal(u.CreatedAt) {
		t.Errorf("UpdatedAt = %v, want CreatedAt %v", u.UpdatedAt, u.CreatedAt)
	}
	got := mustGet(t, s, "u1")
	assertUser(t, got, u)
}

func testEmailTaken(t *testing.T, s portrait.UserStore) {
	mustCreate(t, s, newUser("u1", "ada@example.com"))
	for i, email := range []string{"ada@example.com", "Ada@Example.COM", " ADA@example.com "} {
		id := fmt.Sprintf("u%d", i+2)
		err := s.CreateUser(t.Context(), newUser(id, email))
		assertCode(t, err, portrait.EEMAILTAKEN)
		_, err = s.UserByID(t.Context(), id)
		assertCode(t, err, portrait.ENOTFOUND)
	}
}

func testConcurrentEmails(t *testing.T, s portrait.UserStore) {
	const n = 8
	errs := parallel(n, func(i int) error {
		email := "ada@example.com"
		if i%2 == 1 {
			email = "ADA@example.com"
		}
		return s.CreateUser(t.Context(), newUser(fmt.Sprintf("u%d", i), email))
	})
	created := 0
	for _, err := range errs {
		if err == nil {
			created++
			continue
		}
		assertCode(t, err, portrait.EEMAILTAKEN)
	}
	if created != 1 {
		t.Errorf("%d of %d concurrent creations succeeded, want exactly 1", created, n)
	}
}

func testFreshCopies(t *testing.T, s portrait.UserStore) {
	mustCreate(t, s, newUser("u1", "ada@example.com"))
	a := mustGet(t, s, "u1")
	a.FirstName, a.Image.Key = "Changed", "changed"
	b := mustGet(t, s, "u1")
	if b == a || b.FirstName != "Ada" || b.Image.Key != "" {
		t.Errorf("UserByID returned a shared or altered user: %+v", b)
	}
}

func testUserByEmailCaseInsensitive(t *testing.T, s portrait.UserStore) {
	mustCreate(t, s, newUser("u1", "ada@example.com"))
	for _, email := range []string{"ada@example.com", "Ada@Example.COM", "  ada@EXAMPLE.com\t"} {
		u, err := s.UserByEmail(t.Context(), email)
		if err != nil {
			t.Fatalf("UserByEmail(%q): %v", email, err)
		}
		if u.ID != "u1" || u.Email != "ada@example.com" {
			t.Errorf("UserByEmail(%q) = %s <%s>, want u1 <ada@example.com>", email, u.ID, u.Email)
		}
	}
}

func testNotFound(t *testing.T, s portrait.UserStore) {
	mustCreate(t, s, newUser("u1", "ada@example.com"))
	calls := map[string]func() error{
		"UserByID":     func() error { _, err := s.UserByID(t.Context(), "nope"); return err },
		"UserByEmail":  func() error { _, err := s.UserByEmail(t.Context(), "nope@example.com"); return err },
		"RevokeTokens": func() error { _, err := s.RevokeTokens(t.Context(), "nope"); return err },
		"SetImage":     func() error { _, _, err := s.SetImage(t.Context(), "nope", portrait.Image{}); return err },
		"SetImage(set)": func() error {
			s.BeginUpload(t.Context(), "nope", "k")
			_, _, err := s.SetImage(t.Context(), "nope", image("k"))
			return err
		},
		"SetPassword": func() error { _, err := s.SetPassword(t.Context(), "nope", "h"); return err },
		"DeleteUser":  func() error { return s.DeleteUser(t.Context(), "nope") },
		"RehashPassword": func() error {
			_, err := s.RehashPassword(t.Context(), "nope", "h", "h2")
			return err
		},
	}
	for name, call := range calls {
		if err := call(); portrait.ErrorCode(err) != portrait.ENOTFOUND {
			t.Errorf("%s of a missing user: error %v, want code %s", name, err, portrait.ENOTFOUND)
		}
	}
	assertPending(t, s, nil)
	assertReferenced(t, s, "k", false)
}

func testSetPassword(t *testing.T, s portrait.UserStore) {
	mustCreate(t, s, newUser("u1", "ada@example.com"))
	version, err := s.SetPassword(t.Context(), "u1", "new-hash")
	if err != nil || version != 1 {
		t.Fatalf("SetPassword = %d, %v; want 1, nil", version, err)
	}
	u, err := s.UserByID(t.Context(), "u1")
	if err != nil || u.PasswordHash != "new-hash" || u.TokenVersion != 1 {
		t.Fatalf("after SetPassword: %+v, %v; want the new hash at version 1", u, err)
	}
}

func testRehashKeepsTokens(t *testing.T, s portrait.UserStore) {
	u := newUser("u1", "ada@example.com")
	u.TokenVersion = 4
	mustCreate(t, s, u)
	ok, err := s.RehashPassword(t.Context(), "u1", u.PasswordHash, "stronger-hash")
	if err != nil || !ok {
		t.Fatalf("RehashPassword = %v, %v; want true, nil", ok, err)
	}
	got := mustGet(t, s, "u1")
	if got.PasswordHash != "stronger-hash" || got.TokenVersion != 4 {
		t.Fatalf("after RehashPassword: hash %q, version %d; want the new hash at version 4", got.PasswordHash, got.TokenVersion)
	}
}

// testRehashCompareAndSet: a rehash computed from a hash that has changed
// since (a password change won) must not bring the old password back.
func testRehashCompareAndSet(t *testing.T, s portrait.UserStore) {
	u := newUser("u1", "ada@example.com")
	mustCreate(t, s, u)
	if _, err := s.SetPassword(t.Context(), "u1", "changed-hash"); err != nil {
		t.Fatal(err)
	}
	ok, err := s.RehashPassword(t.Context(), "u1", u.PasswordHash, "rehash-of-old-password")
	if err != nil || ok {
		t.Fatalf("RehashPassword from a stale hash = %v, %v; want false, nil", ok, err)
	}
	if got := mustGet(t, s, "u1"); got.PasswordHash != "changed-hash" || got.TokenVersion != 1 {
		t.Fatalf("after a stale rehash: hash %q, version %d; want changed-hash at version 1", got.PasswordHash, got.TokenVersion)
	}
}

// testRehashRacesSetPassword runs rehashes and a password change at once:
// whatever the order, the password change's hash is the one left.
func testRehashRacesSetPassword(t *testing.T, s portrait.UserStore) {
	u := newUser("u1", "ada@example.com")
	mustCreate(t, s, u)
	const n = 8
	errs := parallel(n, func(i int) error {
		if i == 0 {
			_, err := s.SetPassword(t.Context(), "u1", "changed-hash")
			return err
		}
		_, err := s.RehashPassword(t.Context(), "u1", u.PasswordHash, fmt.Sprintf("rehash-%d", i))
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if got := mustGet(t, s, "u1"); got.PasswordHash != "changed-hash" || got.TokenVersion != 1 {
		t.Fatalf("after racing rehashes: hash %q, version %d; want changed-hash at version 1", got.PasswordHash, got.TokenVersion)
	}
}

func testRevokeTokens(t *testing.T, s portrait.UserStore) {
	mustCreate(t, s, newUser("u1", "ada@example.com"))
	for want := int64(1); want <= 3; want++ {
		got, err := s.RevokeTokens(t.Context(), "u1")
		if err != nil || got != want {
			t.Fatalf("RevokeTokens = %d, %v; want %d", got, err, want)
		}
	}
	if u := mustGet(t, s, "u1"); u.TokenVersion != 3 {
		t.Errorf("TokenVersion = %d, want 3", u.TokenVersion)
	}
}

func testSetFirstImage(t *testing.T, s portrait.UserStore) {
	created := newUser("u1", "ada@example.com")
	mustCreate(t, s, created)
	u := mustSetImage(t, s, "u1", "k1", "")
	if u.Image.Set != "k1" || u.UpdatedAt.Before(created.UpdatedAt) || !u.CreatedAt.Equal(created.CreatedAt) {
		t.Errorf("SetImage returned %+v", u)
	}
	assertUser(t, mustGet(t, s, "u1"), u)
	assertPending(t, s, nil)
	assertReferenced(t, s, "k1", true)
}

func testReplaceImage(t *testing.T, s portrait.UserStore) {
	mustCreate(t, s, newUser("u1", "ada@example.com"))
	mustSetImage(t, s, "u1", "k1", "")
	if u := mustSetImage(t, s, "u1", "k2", "k1"); u.Image.Set != "k2" {
		t.Errorf("ImageSet = %q, want k2", u.Image.Set)
	}
	assertPending(t, s, []string{"k1"})
}

// testSetImageWithoutUpload: a set that no BeginUpload recorded is
// refused, and nothing changes.
func testSetImageWithoutUpload(t *testing.T, s portrait.UserStore) {
	mustCreate(t, s, newUser("u1", "ada@example.com"))
	before := mustSetImage(t, s, "u1", "k1", "")
	_, _, err := s.SetImage(t.Context(), "u1", image("k2"))
	assertCode(t, err, portrait.EUPLOADEXPIRED)
	assertUser(t, mustGet(t, s, "u1"), before)
	assertPending(t, s, nil)
}

func testClearImage(t *testing.T, s portrait.UserStore) {
	mustCreate(t, s, newUser("u1", "ada@example.com"))
	mustSetImage(t, s, "u1", "k1", "")
	if u := mustSetImage(t, s, "u1", "", "k1"); u.Image.Key != "" || u.Image.Set != "" {
		t.Errorf("image %q in %q after clearing", u.Image.Key, u.Image.Set)
	}
	if u := mustGet(t, s, "u1"); u.Image.Key != "" || u.Image.Set != "" {
		t.Errorf("stored image %q in %q after clearing", u.Image.Key, u.Image.Set)
	}
	assertPending(t, s, []string{"k1"})
	assertReferenced(t, s, "k1", false)
}

func testClearWithoutImage(t *testing.T, s portrait.UserStore) {
	mustCreate(t, s, newUser("u1", "ada@example.com"))
	mustSetImage(t, s, "u1", "", "")
	assertPending(t, s, nil)
}

// testConcurrentSetImage checks that SetImage serializes on the user: every
// key ends up either current or pending, none lost and none twice, and the
// previous keys returned form one chain.
func testConcurrentSetImage(t *testing.T, s portrait.UserStore) {
	const n = 16
	mustCreate(t, s, newUser("u1", "ada@example.com"))
	keys := make([]string, n)
	previous := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("%sk%02d", portrait.ImagePrefix, i)
	}
	errs := parallel(n, func(i int) (err error) {
		if err := s.BeginUpload(t.Context(), "u1", keys[i]); err != nil {
			return err
		}
		_, previous[i], err = s.SetImage(t.Context(), "u1", image(keys[i]))
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("SetImage %d: %v", i, err)
		}
	}
	current := mustGet(t, s, "u1").Image.Set
	others := slices.DeleteFunc(slices.Clone(keys), func(k string) bool { return k == current })
	if len(others) != n-1 {
		t.Fatalf("current ImageKey %q is not one of the keys set", current)
	}
	assertPending(t, s, others)
	slices.Sort(previous)
	if want := append([]string{""}, others...); !slices.Equal(previous, want) {
		t.Errorf("previous keys returned = %q, want %q", previous, want)
	}
}

func testKeyPendingTwice(t *testing.T, s portrait.UserStore) {
	mustCreate(t, s, newUser("u1", "ada@example.com"))
	mustCreate(t, s, newUser("u2", "bob@example.com"))
	mustSetImage(t, s, "u1", "k", "")
	mustSetImage(t, s, "u1", "x", "k")
	mustSetImage(t, s, "u2", "k", "")
	mustSetImage(t, s, "u2", "y", "k")
	assertPending(t, s, []string{"k"})
}

func testDeleteRecordsImage(t *testing.T, s portrait.UserStore) {
	mustCreate(t, s, newUser("u1", "ada@example.com"))
	mustSetImage(t, s, "u1", "k1", "")
	if err := s.DeleteUser(t.Context(), "u1"); err != nil {
		t.Fatal(err)
	}
	_, err := s.UserByID(t.Context(), "u1")
	assertCode(t, err, portrait.ENOTFOUND)
	_, err = s.UserByEmail(t.Context(), "ada@example.com")
	assertCode(t, err, portrait.ENOTFOUND)
	assertPending(t, s, []string{"k1"})
	assertReferenced(t, s, "k1", false)
	assertCode(t, s.DeleteUser(t.Context(), "u1"), portrait.ENOTFOUND)
}

func testDeleteWithoutImage(t *testing.T, s portrait.UserStore) {
	mustCreate(t, s, newUser("u1", "ada@example.com"))
	if err := s.DeleteUser(t.Context(), "u1"); err != nil {
		t.Fatal(err)
	}
	assertPending(t, s, nil)
}

func testDeleteFreesEmail(t *testing.T, s portrait.UserStore) {
	mustCreate(t, s, newUser("u1", "ada@example.com"))
	if err := s.DeleteUser(t.Context(), "u1"); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, newUser("u2", "Ada@example.com"))
}

func testDeletionDone(t *testing.T, s portrait.UserStore) {
	mustCreate(t, s, newUser("u1", "ada@example.com"))
	mustSetImage(t, s, "u1", "k1", "")
	mustSetImage(t, s, "u1", "k2", "k1")
	mustSetImage(t, s, "u1", "k3", "k2")
	if err := s.DeletionDone(t.Context(), "k1"); err != nil {
		t.Fatal(err)
	}
	assertPending(t, s, []string{"k2"})
}

func testDeletionDoneUnknown(t *testing.T, s portrait.UserStore) {
	if err := s.DeletionDone(t.Context(), "never-recorded"); err != nil {
		t.Errorf("DeletionDone of an unknown key: %v", err)
	}
}

func testDeletionDoneMany(t *testing.T, s portrait.UserStore) {
	recordPending(t, s, "k1", "k2", "k3", "k4")
	if err := s.DeletionDone(t.Context(), "k1", "k3", "never-recorded"); err != nil {
		t.Fatal(err)
	}
	assertPending(t, s, []string{"k2"})
	if err := s.DeletionDone(t.Context()); err != nil {
		t.Errorf("DeletionDone of no sets: %v", err)
	}
}

func testCountPending(t *testing.T, s portrait.UserStore) {
	recordPending(t, s, "k1", "k2", "k3")
	if n, err := s.CountPendingDeletions(t.Context()); err != nil || n != 2 {
		t.Errorf("CountPendingDeletions = %d, %v; want 2", n, err)
	}
}

func testPendingOldestFirst(t *testing.T, s portrait.UserStore) {
	// Keys sort against their age, so that a store ordering by key fails.
	recordPending(t, s, "k3", "k2", "k1", "k0")
	got, err := s.PendingDeletions(t.Context(), time.Now().Add(time.Hour), 10)
	if want := []string{"k3", "k2", "k1"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("PendingDeletions = %q, %v; want %q", got, err, want)
	}
}

func testPendingLimit(t *testing.T, s portrait.UserStore) {
	recordPending(t, s, "k3", "k2", "k1", "k0")
	for limit, want := range map[int][]string{0: nil, 1: {"k3"}, 2: {"k3", "k2"}, 5: {"k3", "k2", "k1"}} {
		got, err := s.PendingDeletions(t.Context(), time.Now().Add(time.Hour), limit)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("PendingDeletions(limit %d) = %q, %v; want %q", limit, got, err, want)
		}
	}
}

func testPendingBefore(t *testing.T, s portrait.UserStore) {
	start := time.Now().Add(-time.Millisecond)
	recordPending(t, s, "k1", "k2")
	time.Sleep(2 * time.Millisecond)
	middle := time.Now()
	time.Sleep(2 * time.Millisecond)
	mustSetImage(t, s, "u1", "k3", "k2")
	for name, c := range map[string]struct {
		before time.Time
		want   []string
	}{"start": {start, nil}, "middle": {middle, []string{"k1"}}, "later": {time.Now().Add(time.Hour), []string{"k1", "k2"}}} {
		got, err := s.PendingDeletions(t.Context(), c.before, 10)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("PendingDeletions(before %s) = %q, %v; want %q", name, got, err, c.want)
		}
	}
}

func testImageReferenced(t *testing.T, s portrait.UserStore) {
	mustCreate(t, s, newUser("u1", "ada@example.com"))
	assertReferenced(t, s, "k1", false)
	mustSetImage(t, s, "u1", "k1", "")
	assertReferenced(t, s, "k1", true)
	assertReferenced(t, s, "k", false)
	mustSetImage(t, s, "u1", "k2", "k1")
	assertReferenced(t, s, "k1", false)
	assertReferenced(t, s, "k2", true)
}

// recordPending creates user u1 and sets its image to each key in turn, a
// few milliseconds apart, so that all keys but the last become pending, in
// that order.
func recordPending(t *testing.T, s portrait.UserStore, keys ...string) {
	t.Helper()
	mustCreate(t, s, newUser("u1", "ada@example.com"))
	previous := ""
	for _, key := range keys {
		mustSetImage(t, s, "u1", key, previous)
		previous = key
		time.Sleep(2 * time.Millisecond)
	}
}

// newUser returns a user with every field but the times set.
func newUser(id, email string) *portrait.User {
	return &portrait.User{
		ID:           id,
		FirstName:    "Ada",
		LastName:     "Lovelace",
		Email:        email,
		PhoneNumber:  "+44 20 7946 0000",
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=2$c2FsdA$aGFzaA",
	}
}

func mustCreate(t *testing.T, s portrait.UserStore, u *portrait.User) {
	t.Helper()
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatalf("CreateUser(%s): %v", u.ID, err)
	}
}

func mustGet(t *testing.T, s portrait.UserStore, id string) *portrait.User {
	t.Helper()
	u, err := s.UserByID(t.Context(), id)
	if err != nil {
		t.Fatalf("UserByID(%s): %v", id, err)
	}
	return u
}

// image returns the Image of set, whose main object is set+"512.jpg",
// with two more variants, a placeholder and a colour.
func image(set string) portrait.Image {
	if set == "" {
		return portrait.Image{}
	}
	return portrait.Image{Set: set, Key: set + "512.jpg", Placeholder: "LKO2?U%2Tw=w]~RBVZRi};RPxuwH", Color: "#8a6f5c",
		Variants: []portrait.Variant{{Name: "512.jpg", Side: 512, ContentType: "image/jpeg"}, {Name: "512.webp", Side: 512, ContentType: "image/webp"}, {Name: "64.jpg", Side: 64, ContentType: "image/jpeg"}}}
}

// mustSetImage records an upload of set for user id, unless set is "", and
// makes it the user's image; it checks that the previous set returned is
// wantPrevious.
func mustSetImage(t *testing.T, s portrait.UserStore, id, set, wantPrevious string) *portrait.User {
	t.Helper()
	if set != "" {
		if err := s.BeginUpload(t.Context(), id, set); err != nil {
			t.Fatalf("BeginUpload(%s, %q): %v", id, set, err)
		}
	}
	img := image(set)
	u, previous, err := s.SetImage(t.Context(), id, img)
	if err != nil {
		t.Fatalf("SetImage(%s, %q): %v", id, set, err)
	}
	if previous != wantPrevious || u.ID != id || !reflect.DeepEqual(u.Image, img) {
		t.Fatalf("SetImage(%s, %q) = user %s with %q in %q, previous %q; want previous %q",
			id, set, u.ID, u.Image.Key, u.Image.Set, previous, wantPrevious)
	}
	return u
}

// assertUser checks that got has want's fields, times to the microsecond.
func assertUser(t *testing.T, got, want *portrait.User) {
	t.Helper()
	g, w := *got, *want
	if !g.CreatedAt.Equal(w.CreatedAt) || !g.UpdatedAt.Equal(w.UpdatedAt) {
		t.Errorf("times = %v, %v; want %v, %v", g.CreatedAt, g.UpdatedAt, w.CreatedAt, w.UpdatedAt)
	}
	g.CreatedAt, g.UpdatedAt, w.CreatedAt, w.UpdatedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("user = %+v\nwant   %+v", g, w)
	}
}

// assertPending checks that exactly the keys want, in any order, are
// pending deletion.
func assertPending(t *testing.T, s portrait.UserStore, want []string) {
	t.Helper()
	got, err := s.PendingDeletions(t.Context(), time.Now().Add(time.Hour), 1000)
	if err != nil {
		t.Fatal(err)
	}
	got, want = slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		t.Errorf("pending deletions = %q, want %q", got, want)
	}
}

func assertReferenced(t *testing.T, s portrait.UserStore, key string, want bool) {
	t.Helper()
	got, err := s.ImageReferenced(t.Context(), key)
	if err != nil || got != want {
		t.Errorf("ImageReferenced(%q) = %v, %v; want %v", key, got, err, want)
	}
}

func assertCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := portrait.ErrorCode(err); got != code {
		t.Errorf("error %v has code %q, want %q", err, got, code)
	}
}

// parallel calls fn(0) to fn(n-1) from n goroutines released at once, and
// returns their errors by index.
func parallel(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}
