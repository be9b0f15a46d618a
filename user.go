// Package portrait holds the domain of the Portrait service: users, their
// profile images, the error codes, and the small interfaces that the
// adapters (sqlite, postgres, localfs, s3, http) implement or consume.
package portrait

import (
	"context"
	"strings"
	"time"
)

// User is an account. ImageKey is the bucket key of the user's current
// profile image, or "" when the user has none.
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
	ImageKey     string
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

	// RehashPassword replaces the user's password hash by newHash if it is
	// still oldHash (compare-and-set), without revoking any token: the
	// password is the same, only its hash is stronger. It reports whether
	// it replaced the hash (false: it had changed meanwhile), or returns
	// ENOTFOUND.
	RehashPassword(ctx context.Context, id, oldHash, newHash string) (bool, error)

	// SetImage makes key (or "" for none) the user's image in one
	// transaction that locks the user's row. The previous key, if any and
	// different from key, is recorded as a pending deletion in that same
	// transaction, so it is never forgotten even if the process dies before
	// deleting it. It returns the updated user and the previous key ("" if
	// none), or ENOTFOUND.
	SetImage(ctx context.Context, id, key string) (u *User, previous string, err error)

	// DeleteUser removes the user and records its image, if any, as a
	// pending deletion in the same transaction. It returns ENOTFOUND if the
	// user does not exist.
	DeleteUser(ctx context.Context, id string) error

	// PendingDeletions returns up to limit keys recorded for deletion at or
	// before the given time, oldest first.
	PendingDeletions(ctx context.Context, before time.Time, limit int) ([]string, error)

	// DeletionDone forgets a pending deletion once its object is gone. It
	// is not an error if key is not pending.
	DeletionDone(ctx context.Context, key string) error

	// ImageReferenced reports whether any user's ImageKey is key.
	ImageReferenced(ctx context.Context, key string) (bool, error)

	// Close releases the store's resources.
	Close() error
}
