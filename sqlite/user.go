package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/portraitsvc/portrait"
)

// userColumns are the columns scanUser reads, in its order.
const userColumns = `id, first_name, last_name, email, phone_number, password_hash,
	token_version, image_key, image_set, image_meta, created_at, updated_at`

// CreateUser inserts u and sets its CreatedAt and UpdatedAt. It returns
// EEMAILTAKEN if a user with the same normalized email exists.
func (s *Store) CreateUser(ctx context.Context, u *portrait.User) error {
	now := s.now()
	err := s.write(ctx, func(tx *sql.Tx) error { return createUser(ctx, tx, u, now) })
	if err == nil {
		u.CreatedAt, u.UpdatedAt = now, now
	}
	return err
}

// UserByID returns the user, or ENOTFOUND.
func (s *Store) UserByID(ctx context.Context, id string) (u *portrait.User, err error) {
	err = s.read(ctx, func(tx *sql.Tx) error {
		u, err = userByID(ctx, tx, id)
		return err
	})
	return u, err
}

// UserByEmail returns the user whose normalized email matches, or ENOTFOUND.
func (s *Store) UserByEmail(ctx context.Context, email string) (u *portrait.User, err error) {
	err = s.read(ctx, func(tx *sql.Tx) error {
		u, err = queryUser(ctx, tx, `SELECT `+userColumns+` FROM users WHERE email_normalized = ?`,
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
	return s.revokeTokensAnd(ctx, id, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, passwordHash, id)
		return err
	})
}

// revokeTokensAnd raises the user's token version and, in the same
// transaction, runs also if it is not nil.
func (s *Store) revokeTokensAnd(ctx context.Context, id string, also func(*sql.Tx) error) (version int64, err error) {
	err = s.write(ctx, func(tx *sql.Tx) error {
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
	return s.write(ctx, func(tx *sql.Tx) error { return deleteUser(ctx, tx, id, s.now()) })
}

// createUser inserts u with both times set to now, or returns EEMAILTAKEN.
func createUser(ctx context.Context, tx *sql.Tx, u *portrait.User, now time.Time) error {
	return insertUser(ctx, tx, u, portrait.NormalizeEmail(u.Email), now)
}

// insertUser inserts u under the normalised address normalized, or
// returns EEMAILTAKEN.
func insertUser(ctx context.Context, tx *sql.Tx, u *portrait.User, normalized string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO users (`+userColumns+`, email_normalized)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.FirstName, u.LastName, u.Email, u.PhoneNumber, u.PasswordHash,
		u.TokenVersion, nullString(u.Image.Key), nullString(u.Image.Set), nullString(u.Image.Details()), formatTime(now), formatTime(now),
		normalized)
	if isUniqueViolation(err) {
		return portrait.Errorf(portrait.EEMAILTAKEN, "A user with this email already exists.")
	}
	return err
}

// userByID returns the user, or ENOTFOUND.
func userByID(ctx context.Context, tx *sql.Tx, id string) (*portrait.User, error) {
	return queryUser(ctx, tx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id)
}

// revokeTokens raises the user's token version, or returns ENOTFOUND.
func revokeTokens(ctx context.Context, tx *sql.Tx, id string, now time.Time) (int64, error) {
	var version int64
	err := tx.QueryRowContext(ctx, `UPDATE users SET token_version = token_version + 1, updated_at = ?
		WHERE id = ? RETURNING token_version`, formatTime(now), id).Scan(&version)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, errUserNotFound()
	}
	return version, err
}

// deleteUser deletes the user and records its image set, if any, as a
// pending deletion, or returns ENOTFOUND.
func deleteUser(ctx context.Context, tx *sql.Tx, id string, now time.Time) error {
	var set sql.NullString
	err := tx.QueryRowContext(ctx, `DELETE FROM users WHERE id = ? RETURNING image_set`, id).Scan(&set)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return errUserNotFound()
	case err != nil || !set.Valid:
		return err
	}
	return recordDeletion(ctx, tx, set.String, now)
}

// queryUser returns the user that query selects, or ENOTFOUND.
func queryUser(ctx context.Context, tx *sql.Tx, query string, args ...any) (*portrait.User, error) {
	u, err := scanUser(tx.QueryRowContext(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errUserNotFound()
	}
	return u, err
}

// scanUser reads the userColumns of row into a new User.
func scanUser(row *sql.Row) (*portrait.User, error) {
	var u portrait.User
	var imageKey, imageSet, imageMeta sql.NullString
	var created, updated string
	err := row.Scan(&u.ID, &u.FirstName, &u.LastName, &u.Email, &u.PhoneNumber,
		&u.PasswordHash, &u.TokenVersion, &imageKey, &imageSet, &imageMeta, &created, &updated)
	if err != nil {
		return nil, err
	}
	u.Image.Key, u.Image.Set = imageKey.String, imageSet.String
	if u.Image, err = u.Image.WithDetails(imageMeta.String); err != nil {
		return nil, err
	}
	if u.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	if u.UpdatedAt, err = parseTime(updated); err != nil {
		return nil, err
	}
	return &u, nil
}

// errUserNotFound is the error of every method given an unknown user ID.
func errUserNotFound() error {
	return portrait.Errorf(portrait.ENOTFOUND, "User not found.")
}

// RehashPassword replaces the user's password hash by newHash if it is
// still oldHash, leaving the token version as it is. It reports whether it
// did, or returns ENOTFOUND.
func (s *Store) RehashPassword(ctx context.Context, id, oldHash, newHash string) (replaced bool, err error) {
	err = s.write(ctx, func(tx *sql.Tx) error {
		replaced, err = rehashPassword(ctx, tx, id, oldHash, newHash, s.now())
		return err
	})
	return replaced, err
}

// rehashPassword sets the user's hash to newHash if it is oldHash.
func rehashPassword(ctx context.Context, tx *sql.Tx, id, oldHash, newHash string, now time.Time) (bool, error) {
	var current string
	err := tx.QueryRowContext(ctx, `SELECT password_hash FROM users WHERE id = ?`, id).Scan(&current)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, errUserNotFound()
	case err != nil || current != oldHash:
		return false, err
	}
	_, err = tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?`,
		newHash, formatTime(now), id)
	return err == nil, err
}
