// Package portrait holds the domain of the Portrait service: users, their
// profile images, the error codes, and the small interfaces that the
// adapters (sqlite, postgres, localfs, s3, http) implement or consume.
package portrait

import (
	"context"
	"strings"
	"time"
)

// User is an account. Image is the user's current profile image, the zero
// Image when the user has none.
type User struct {
	ID           string
	FirstName    string
	LastName     string
	Email        string
	PhoneNumber  string
	PasswordHash string
	// TokenVersion is embedded in every access token; raising it (logout,
	// password change) revokes all tokens issued before.
	TokenVersion int64
	Image        Image
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// NormalizeEmail returns the form of an email address under which
// uniqueness is decided and lookups are made: trimmed, then the local part
// under RFC 8265's UsernameCaseMapped profile and the domain under IDNA's
// lookup mapping (see email.go). An address that those rules refuse (so
// it cannot have been registered since they apply) is only trimmed and
// lower-cased, the rule before them, so rows stored under it keep working.
func NormalizeEmail(email string) string {
	email = strings.TrimSpace(email)
	if n, ok := normalizeEmail(email); ok {
		return n
	}
	return strings.ToLower(email)
}

// UserStore keeps users and the bookkeeping of their images. Every method
// is safe for concurrent use by many goroutines and many processes sharing
// the same database.
type UserStore interface {
	// CreateUser inserts u. u.ID must be set by the caller; CreatedAt and
	// UpdatedAt are set by the store. It returns EEMAILTAKEN if a user with
	// the same normalized email exists.
	CreateUser(ctx context.Context, u *User) error

	// UserByID returns the user, or ENOTFOUND.
	UserByID(ctx context.Context, id string) (*User, error)

	// UserByEmail returns the user whose normalized email matches, or ENOTFOUND.
	UserByEmail(ctx context.Context, email string) (*User, error)

	// RevokeTokens raises the user's TokenVersion by one and returns the
	// new version, or ENOTFOUND.
	RevokeTokens(ctx context.Context, id string) (int64, error)

	// SetPassword replaces the user's password hash and, in the same
	// transaction, raises TokenVersion by one, revoking every token issued
	// before. It returns the new version, or ENOTFOUND.
	SetPassword(ctx context.Context, id, passwordHash string) (int64, error)

	// Ping reports whether the store can be used: that it accepts a
	// write, not only that it answers.
	Ping(ctx context.Context) error

	// RehashPassword replaces the user's password hash by newHash if it is
	// still oldHash (compare-and-set), without revoking any token: the
	// password is the same, only its hash is stronger. It reports whether
	// it replaced the hash (false: it had changed meanwhile), or returns
	// ENOTFOUND.
	RehashPassword(ctx context.Context, id, oldHash, newHash string) (bool, error)

	// BeginUpload records that an upload of the user is about to write the
	// objects of set, a fresh image set (NewImageSet). SetImage accepts set
	// only while this record exists, which is what lets a sweep delete the
	// objects of an upload that never committed without racing its commit
	// (see ReleaseUpload).
	BeginUpload(ctx context.Context, userID, set string) error

	// SetImage makes img the user's image, or removes it for Image{}, in one
	// transaction that locks the user's row. A non-empty img.Set must have
	// been recorded by BeginUpload for this user and not released since:
	// SetImage consumes the record, and fails with EUPLOADEXPIRED, changing
	// nothing, if there is none. The previous set, if any, is recorded as a
	// pending deletion in that same transaction, so it is never forgotten
	// even if the process dies before deleting it. It returns the updated
	// user and the previous set ("" if none), or ENOTFOUND.
	SetImage(ctx context.Context, id string, img Image) (u *User, previousSet string, err error)

	// ReleaseUpload decides, in one transaction, whether the objects of set
	// may be deleted because no user can ever point at them: it deletes
	// set's upload record if that was made before recordedBefore, then
	// returns false if a record remains (an upload in progress) or a user's
	// Image.Set is set, and true otherwise. Once it has returned true,
	// SetImage refuses set.
	ReleaseUpload(ctx context.Context, set string, recordedBefore time.Time) (bool, error)

	// StaleUploads returns up to limit sets whose upload record was made
	// before the given time and was neither consumed nor released, oldest
	// first.
	StaleUploads(ctx context.Context, before time.Time, limit int) ([]string, error)

	// DeleteUser removes the user and records its image set, if any, as a
	// pending deletion in the same transaction. It returns ENOTFOUND if the
	// user does not exist.
	DeleteUser(ctx context.Context, id string) error

	// PendingDeletions returns up to limit image sets recorded for deletion
	// at or before the given time, oldest first.
	PendingDeletions(ctx context.Context, before time.Time, limit int) ([]string, error)

	// CountPendingDeletions returns how many image sets wait for deletion.
	CountPendingDeletions(ctx context.Context) (int, error)

	// DeletionDone forgets the pending deletions of sets once their objects
	// are gone. Sets that are not pending are ignored.
	DeletionDone(ctx context.Context, sets ...string) error

	// ImageReferenced reports whether any user's Image.Set is set.
	ImageReferenced(ctx context.Context, set string) (bool, error)

	// UserByIdentity returns the user linked to the provider identity id,
	// or ENOTFOUND.
	UserByIdentity(ctx context.Context, id Identity) (*User, error)

	// CreateProviderUser inserts u, a user without a password, linked to
	// id, in one transaction; u.ID must be set by the caller, and the
	// store sets CreatedAt and UpdatedAt. u.Email is kept to be shown,
	// under ProviderEmail(u.ID) as its normalised address: no password
	// login reaches u, and two providers may vouch for one address. It
	// returns EEMAILTAKEN, creating nothing, if u.Email normalises to the
	// address of an existing user (one that password login reaches), and
	// EIDENTITYLINKED, creating nothing, if id is linked already.
	CreateProviderUser(ctx context.Context, u *User, id Identity) error

	// LinkIdentity links the provider identity id to the existing user
	// userID, so that id's tokens act as that user. It returns ENOTFOUND
	// if the user does not exist, EIDENTITYLINKED if id is linked to
	// another user, and nil if it is linked to userID already.
	LinkIdentity(ctx context.Context, id Identity, userID string) error

	// UnlinkIdentity removes the link of id, leaving its user as it is,
	// or returns ENOTFOUND if id is not linked. Deleting a user removes
	// its links too.
	UnlinkIdentity(ctx context.Context, id Identity) error

	// Close releases the store's resources.
	Close() error
}
