package storetest

import (
	"fmt"
	"testing"

	"github.com/portraitsvc/portrait"
)

// identityCases are the suite's cases of provider identities.
var identityCases = []testCase{
	{"ProviderUserRoundTrip", testProviderUserRoundTrip},
	{"ProviderEmailIsNoLogin", testProviderEmailIsNoLogin},
	{"ProviderEmailOfLocalAccount", testProviderEmailOfLocalAccount},
	{"ProviderUserLinkedTwice", testProviderUserLinkedTwice},
	{"ConcurrentProvisioning", testConcurrentProvisioning},
	{"Link", testLinkIdentity},
	{"LinkNotFound", testLinkNotFound},
	{"Unlink", testUnlinkIdentity},
	{"DeleteRemovesLinks", testDeleteRemovesLinks},
}

var (
	keycloakAda = portrait.Identity{Issuer: "https://idp.example.com/realms/a", Subject: "248289761001"}
	auth0Ada    = portrait.Identity{Issuer: "https://example.eu.auth0.com/", Subject: "auth0|5f7c8ec7c33c6c004bbafe82"}
)

// newProviderUser returns a user as provisioning makes it: no password.
func newProviderUser(id, email string) *portrait.User {
	u := newUser(id, email)
	u.PasswordHash = ""
	return u
}

func mustCreateProvider(t *testing.T, s portrait.UserStore, u *portrait.User, id portrait.Identity) {
	t.Helper()
	if err := s.CreateProviderUser(t.Context(), u, id); err != nil {
		t.Fatalf("CreateProviderUser(%s, %v): %v", u.ID, id, err)
	}
}

func mustUserByIdentity(t *testing.T, s portrait.UserStore, id portrait.Identity) *portrait.User {
	t.Helper()
	u, err := s.UserByIdentity(t.Context(), id)
	if err != nil {
		t.Fatalf("UserByIdentity(%v): %v", id, err)
	}
	return u
}

func testProviderUserRoundTrip(t *testing.T, s portrait.UserStore) {
	want := newProviderUser("p1", "Ada@Example.com")
	mustCreateProvider(t, s, want, keycloakAda)
	if want.CreatedAt.IsZero() || !want.UpdatedAt.Equal(want.CreatedAt) {
		t.Errorf("times = %v, %v; want both set, equal", want.CreatedAt, want.UpdatedAt)
	}
	assertUser(t, mustUserByIdentity(t, s, keycloakAda), want)
	assertUser(t, mustGet(t, s, "p1"), want)
	other := keycloakAda
	other.Subject += "0"
	_, err := s.UserByIdentity(t.Context(), other)
	assertCode(t, err, portrait.ENOTFOUND)
	_, err = s.UserByIdentity(t.Context(), portrait.Identity{Issuer: keycloakAda.Issuer + "/", Subject: keycloakAda.Subject})
	assertCode(t, err, portrait.ENOTFOUND)
}

// testProviderEmailIsNoLogin checks that a provider user's address is only
// shown: password login cannot find it, a second provider may vouch for it
// and a local account may still register it, each a user of its own.
func testProviderEmailIsNoLogin(t *testing.T, s portrait.UserStore) {
	mustCreateProvider(t, s, newProviderUser("p1", "ada@example.com"), keycloakAda)
	_, err := s.UserByEmail(t.Context(), "ada@example.com")
	assertCode(t, err, portrait.ENOTFOUND)
	mustCreateProvider(t, s, newProviderUser("p2", "ADA@example.com"), auth0Ada)
	mustCreate(t, s, newUser("u1", "ada@example.com"))
	if u, err := s.UserByEmail(t.Context(), "ada@example.com"); err != nil || u.ID != "u1" {
		t.Errorf("UserByEmail = %v, %v; want the local account u1", u, err)
	}
	for id, want := range map[portrait.Identity]string{keycloakAda: "p1", auth0Ada: "p2"} {
		if got := mustUserByIdentity(t, s, id).ID; got != want {
			t.Errorf("UserByIdentity(%v) = %s, want %s", id, got, want)
		}
	}
}

// testProviderEmailOfLocalAccount checks that provisioning never lands in,
// or beside, a local account of the same address: EEMAILTAKEN, nothing
// created, the identity still free.
func testProviderEmailOfLocalAccount(t *testing.T, s portrait.UserStore) {
	mustCreate(t, s, newUser("u1", "ada@example.com"))
	err := s.CreateProviderUser(t.Context(), newProviderUser("p1", " Ada@EXAMPLE.com"), keycloakAda)
	assertCode(t, err, portrait.EEMAILTAKEN)
	_, err = s.UserByID(t.Context(), "p1")
	assertCode(t, err, portrait.ENOTFOUND)
	_, err = s.UserByIdentity(t.Context(), keycloakAda)
	assertCode(t, err, portrait.ENOTFOUND)
	mustCreateProvider(t, s, newProviderUser("p2", ""), keycloakAda)
	mustCreateProvider(t, s, newProviderUser("p3", ""), auth0Ada)
}

func testProviderUserLinkedTwice(t *testing.T, s portrait.UserStore) {
	mustCreateProvider(t, s, newProviderUser("p1", "ada@example.com"), keycloakAda)
	err := s.CreateProviderUser(t.Context(), newProviderUser("p2", "grace@example.com"), keycloakAda)
	assertCode(t, err, portrait.EIDENTITYLINKED)
	_, err = s.UserByID(t.Context(), "p2")
	assertCode(t, err, portrait.ENOTFOUND)
	if got := mustUserByIdentity(t, s, keycloakAda).ID; got != "p1" {
		t.Errorf("identity moved to %s", got)
	}
}

// testConcurrentProvisioning provisions one identity from many requests at
// once, as a user's first page load does: one user is made, and every
// other attempt fails with EIDENTITYLINKED, leaving no stray user.
func testConcurrentProvisioning(t *testing.T, s portrait.UserStore) {
	const n = 8
	errs := parallel(n, func(i int) error {
		return s.CreateProviderUser(t.Context(), newProviderUser(fmt.Sprintf("p%d", i), "ada@example.com"), keycloakAda)
	})
	winner := mustUserByIdentity(t, s, keycloakAda).ID
	for i, err := range errs {
		id := fmt.Sprintf("p%d", i)
		if err == nil {
			if id != winner {
				t.Errorf("%s was created but %s holds the identity", id, winner)
			}
			continue
		}
		assertCode(t, err, portrait.EIDENTITYLINKED)
		_, err = s.UserByID(t.Context(), id)
		assertCode(t, err, portrait.ENOTFOUND)
	}
}

func testLinkIdentity(t *testing.T, s portrait.UserStore) {
	mustCreate(t, s, newUser("u1", "ada@example.com"))
	mustCreate(t, s, newUser("u2", "grace@example.com"))
	for range 2 { // linking again to the same user changes nothing
		if err := s.LinkIdentity(t.Context(), keycloakAda, "u1"); err != nil {
			t.Fatalf("LinkIdentity: %v", err)
		}
	}
	if err := s.LinkIdentity(t.Context(), auth0Ada, "u1"); err != nil {
		t.Fatalf("LinkIdentity of a second identity: %v", err)
	}
	assertCode(t, s.LinkIdentity(t.Context(), keycloakAda, "u2"), portrait.EIDENTITYLINKED)
	for _, id := range []portrait.Identity{keycloakAda, auth0Ada} {
		u := mustUserByIdentity(t, s, id)
		if u.ID != "u1" || u.PasswordHash != newUser("", "").PasswordHash {
			t.Errorf("UserByIdentity(%v) = %s, want u1 with its password kept", id, u.ID)
		}
	}
	if u, err := s.UserByEmail(t.Context(), "ada@example.com"); err != nil || u.ID != "u1" {
		t.Errorf("linked account's login = %v, %v; want u1", u, err)
	}
}

func testLinkNotFound(t *testing.T, s portrait.UserStore) {
	assertCode(t, s.LinkIdentity(t.Context(), keycloakAda, "nope"), portrait.ENOTFOUND)
	_, err := s.UserByIdentity(t.Context(), keycloakAda)
	assertCode(t, err, portrait.ENOTFOUND)
}

func testUnlinkIdentity(t *testing.T, s portrait.UserStore) {
	mustCreateProvider(t, s, newProviderUser("p1", "ada@example.com"), keycloakAda)
	if err := s.UnlinkIdentity(t.Context(), keycloakAda); err != nil {
		t.Fatalf("UnlinkIdentity: %v", err)
	}
	_, err := s.UserByIdentity(t.Context(), keycloakAda)
	assertCode(t, err, portrait.ENOTFOUND)
	mustGet(t, s, "p1") // the user stays
	assertCode(t, s.UnlinkIdentity(t.Context(), keycloakAda), portrait.ENOTFOUND)
	if err := s.LinkIdentity(t.Context(), keycloakAda, "p1"); err != nil {
		t.Fatalf("LinkIdentity after unlink: %v", err)
	}
}

// testDeleteRemovesLinks checks that deleting a user frees its identity,
// which a later first use provisions anew.
func testDeleteRemovesLinks(t *testing.T, s portrait.UserStore) {
	mustCreateProvider(t, s, newProviderUser("p1", "ada@example.com"), keycloakAda)
	if err := s.DeleteUser(t.Context(), "p1"); err != nil {
		t.Fatal(err)
	}
	_, err := s.UserByIdentity(t.Context(), keycloakAda)
	assertCode(t, err, portrait.ENOTFOUND)
	mustCreateProvider(t, s, newProviderUser("p2", "ada@example.com"), keycloakAda)
}
