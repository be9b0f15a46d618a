package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/portraitsvc/portrait"
)

// userColumns are the columns scanUser reads, in its order.
const userColumns = `id, first_name, last_name, email, phone_number, password_hash,
	token_version, image_key, image_set, image_meta, created_at, updated_at`

// CreateUser inserts u and sets its CreatedAt and UpdatedAt. It returns
// EEMAILTAKEN if a user with the same normalized email exists.
func (s *Store) CreateUser(ctx context.Context, u *portrait.User) error {
	now := s.now()
	err := s.write(ctx, func(tx pgx.Tx) error { return createUser(ctx, tx, u, now) })
	if err == nil {
		u.CreatedAt, u.UpdatedAt = now, now
	}
	return err
}

// UserByID returns the user, or ENOTFOUND.
func (s *Store) UserByID(ctx context.Context, id string) (u *portrait.User, err error) {
	err = s.read(ctx, func(tx pgx.Tx) error {
		u, err = userByID(ctx, tx, id)
		return err
	})
	return u, err
}

// UserByEmail returns the user whose normalized email matches, or ENOTFOUND.
func (s *Store) UserByEmail(ctx context.Context, email string) (u *portrait.User, err error) {
	err = s.read(ctx, func(tx pgx.Tx) error {
		u, err = queryUser(ctx, tx, `SELECT `+userColumns+` FROM users WHERE email_normalized = $1`,
			portrait.NormalizeEmail(email))
		return err
	})
	return u, err
}

// RevokeTokens raises the user's TokenVersion by one and returns the new
// version, or ENOTFOUND.
func (s *Store) RevokeTokens(ctx context.Context, id string) (int64, error) {
	return s.revokeTokensAnd(ctx, id, nil)
}

// SetPassword replaces the user's password hash and raises its token
// version in one transaction; it returns the new version, or ENOTFOUND.
func (s *Store) SetPassword(ctx context.Context, id, passwordHash string) (int64, error) {
	return s.revokeTokensAnd(ctx, id, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE users SET password_hash = $2 WHERE id = $1`, id, passwordHash)
		return err
	})
}

// revokeTokensAnd raises the user's token version and, in the same
// transaction, runs also if it is not nil.
func (s *Store) revokeTokensAnd(ctx context.Context, id string, also func(pgx.Tx) error) (version int64, err error) {
	err = s.write(ctx, func(tx pgx.Tx) error {
		if version, err = revokeTokens(ctx, tx, id, s.now()); err != nil || also == nil {
			return err
		}
		return also(tx)
	})
	return version, err
}

// DeleteUser removes the user and records its image set, if any, as a
// pending deletion in the same transaction. It returns ENOTFOUND if the
// user does not exist.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	return s.write(ctx, func(tx pgx.Tx) error { return deleteUser(ctx, tx, id, s.now()) })
}

// createUser inserts u with both times set to now, or returns EEMAILTAKEN.
func createUser(ctx context.Context, tx pgx.Tx, u *portrait.User, now time.Time) error {
	return insertUser(ctx, tx, u, portrait.NormalizeEmail(u.Email), now)
}

// insertUser inserts u under the normalised address normalized, or
// returns EEMAILTAKEN.
func insertUser(ctx context.Context, tx pgx.Tx, u *portrait.User, normalized string, now time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO users (`+userColumns+`, email_normalized)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		u.ID, u.FirstName, u.LastName, u.Email, u.PhoneNumber, u.PasswordHash,
		u.TokenVersion, nullable(u.Image.Key), nullable(u.Image.Set), nullable(u.Image.Details()), now, now, normalized)
	if isEmailTaken(err) {
		return portrait.Errorf(portrait.EEMAILTAKEN, "A user with this email already exists.")
	}
	return err
}

// userByID returns the user, or ENOTFOUND.
func userByID(ctx context.Context, tx pgx.Tx, id string) (*portrait.User, error) {
	return queryUser(ctx, tx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id)
}

// revokeTokens raises the user's token version, or returns ENOTFOUND.
func revokeTokens(ctx context.Context, tx pgx.Tx, id string, now time.Time) (int64, error) {
	var version int64
	err := tx.QueryRow(ctx, `UPDATE users SET token_version = token_version + 1, updated_at = $2
		WHERE id = $1 RETURNING token_version`, id, now).Scan(&version)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, errUserNotFound()
	}
	return version, err
}

// deleteUser deletes the user and records its image set, if any, as a
// pending deletion, or returns ENOTFOUND.
func deleteUser(ctx context.Context, tx pgx.Tx, id string, now time.Time) error {
	var key *string
	err := tx.QueryRow(ctx, `DELETE FROM users WHERE id = $1 RETURNING image_set`, id).Scan(&key)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return errUserNotFound()
	case err != nil || key == nil:
		return err
	}
	return recordDeletion(ctx, tx, *key, now)
}

// queryUser returns the user that query selects, or ENOTFOUND.
func queryUser(ctx context.Context, tx pgx.Tx, query string, args ...any) (*portrait.User, error) {
	u, err := scanUser(tx.QueryRow(ctx, query, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errUserNotFound()
	}
	return u, err
}

// scanUser reads the userColumns of row into a new User, times in UTC.
func scanUser(row pgx.Row) (*portrait.User, error) {
	var u portrait.User
	var imageKey, imageSet, imageMeta *string
	err := row.Scan(&u.ID, &u.FirstName, &u.LastName, &u.Email, &u.PhoneNumber,
		&u.PasswordHash, &u.TokenVersion, &imageKey, &imageSet, &imageMeta, &u.CreatedAt, &u.UpdatedAt)
	if err != nil {
		return nil, err
	}
	u.Image.Key, u.Image.Set = deref(imageKey), deref(imageSet)
	if u.Image, err = u.Image.WithDetails(deref(imageMeta)); err != nil {
		return nil, err
	}
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	return &u, nil
}

// nullable returns s as a column value, NULL for "".
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// deref returns *s, or "" for NULL.
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// errUserNotFound is the error of every method given an unknown user ID.
func errUserNotFound() error {
	return portrait.Errorf(portrait.ENOTFOUND, "User not found.")
}

// RehashPassword replaces the user's password hash by newHash if it is
// still oldHash, leaving the token version as it is. It reports whether it
// did, or returns ENOTFOUND. The compare and the set are one UPDATE, whose
// condition PostgreSQL re-checks on the row's latest version if a
// concurrent change commits first.
func (s *Store) RehashPassword(ctx context.Context, id, oldHash, newHash string) (replaced bool, err error) {
	var exists bool
	err = s.write(ctx, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `WITH set AS (UPDATE users SET password_hash = $3, updated_at = $4
				WHERE id = $1 AND password_hash = $2 RETURNING 1)
			SELECT EXISTS (SELECT 1 FROM set), EXISTS (SELECT 1 FROM users WHERE id = $1)`,
			id, oldHash, newHash, s.now()).Scan(&replaced, &exists)
	})
	if err == nil && !replaced && !exists {
		return false, errUserNotFound()
	}
	return replaced, err
}
