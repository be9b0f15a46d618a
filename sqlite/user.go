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
	token_version, image_key, created_at, updated_at`

// CreateUser inserts u and sets its CreatedAt and UpdatedAt. It returns
// EEMAILTAKEN if a user with the same normalized email exists.
func (s *Store) CreateUser(ctx context.Context, u *portrait.User) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := s.now()
	if err := createUser(ctx, tx, u, now); err != nil {
		return diskFull(err)
	}
	if err := tx.Commit(); err != nil {
		return diskFull(err)
	}
	u.CreatedAt, u.UpdatedAt = now, now
	return nil
}

// UserByID returns the user, or ENOTFOUND.
func (s *Store) UserByID(ctx context.Context, id string) (*portrait.User, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return userByID(ctx, tx, id)
}

// UserByEmail returns the user whose normalized email matches, or ENOTFOUND.
func (s *Store) UserByEmail(ctx context.Context, email string) (*portrait.User, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return queryUser(ctx, tx, `SELECT `+userColumns+` FROM users WHERE email_normalized = ?`,
		portrait.NormalizeEmail(email))
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
func (s *Store) revokeTokensAnd(ctx context.Context, id string, also func(*sql.Tx) error) (int64, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	version, err := revokeTokens(ctx, tx, id, s.now())
	if err == nil && also != nil {
		err = also(tx)
	}
	if err != nil {
		return 0, err
	}
	return version, tx.Commit()
}

// SetImage makes key ("" for none) the user's image and returns the updated
// user and the previous key, or ENOTFOUND. The previous key, if any and
// different from key, is recorded as a pending deletion in the same
// transaction, which holds the database's write lock throughout.
func (s *Store) SetImage(ctx context.Context, id, key string) (*portrait.User, string, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, "", err
	}
	defer tx.Rollback()
	u, previous, err := setImage(ctx, tx, id, key, s.now())
	if err != nil {
		return nil, "", err
	}
	if err := tx.Commit(); err != nil {
		return nil, "", err
	}
	return u, previous, nil
}

// DeleteUser removes the user and records its image, if any, as a pending
// deletion in the same transaction. It returns ENOTFOUND if the user does
// not exist.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := deleteUser(ctx, tx, id, s.now()); err != nil {
		return err
	}
	return tx.Commit()
}

// PendingDeletions returns up to limit keys recorded for deletion at or
// before the given time, oldest first. A limit below one returns none.
func (s *Store) PendingDeletions(ctx context.Context, before time.Time, limit int) ([]string, error) {
	if limit < 1 {
		return nil, nil
	}
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return pendingDeletions(ctx, tx, before, limit)
}

// DeletionDone forgets a pending deletion. It is not an error if key is not
// pending.
func (s *Store) DeletionDone(ctx context.Context, key string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM pending_deletions WHERE key = ?`, key); err != nil {
		return err
	}
	return tx.Commit()
}

// ImageReferenced reports whether any user's ImageKey is key. The empty
// key, which means "no image", is never referenced.
func (s *Store) ImageReferenced(ctx context.Context, key string) (bool, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var referenced bool
	err = tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE image_key = ?)`, key).Scan(&referenced)
	return referenced, err
}

// createUser inserts u with both times set to now, or returns EEMAILTAKEN.
func createUser(ctx context.Context, tx *sql.Tx, u *portrait.User, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO users (`+userColumns+`, email_normalized)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.FirstName, u.LastName, u.Email, u.PhoneNumber, u.PasswordHash,
		u.TokenVersion, nullString(u.ImageKey), formatTime(now), formatTime(now),
		portrait.NormalizeEmail(u.Email))
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

// setImage replaces the user's image key and records the previous one as a
// pending deletion unless it is "" or key itself.
func setImage(ctx context.Context, tx *sql.Tx, id, key string, now time.Time) (*portrait.User, string, error) {
	u, err := userByID(ctx, tx, id)
	if err != nil {
		return nil, "", err
	}
	previous := u.ImageKey
	u, err = queryUser(ctx, tx, `UPDATE users SET image_key = ?, updated_at = ? WHERE id = ?
		RETURNING `+userColumns, nullString(key), formatTime(now), id)
	if err != nil {
		return nil, "", err
	}
	if previous != "" && previous != key {
		err = recordDeletion(ctx, tx, previous, now)
	}
	return u, previous, err
}

// deleteUser deletes the user and records its image key, if any, as a
// pending deletion, or returns ENOTFOUND.
func deleteUser(ctx context.Context, tx *sql.Tx, id string, now time.Time) error {
	var key sql.NullString
	err := tx.QueryRowContext(ctx, `DELETE FROM users WHERE id = ? RETURNING image_key`, id).Scan(&key)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return errUserNotFound()
	case err != nil || !key.Valid:
		return err
	}
	return recordDeletion(ctx, tx, key.String, now)
}

// recordDeletion records key as pending deletion at now. A key already
// pending keeps its first time.
func recordDeletion(ctx context.Context, tx *sql.Tx, key string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO pending_deletions (key, created_at) VALUES (?, ?)
		ON CONFLICT (key) DO NOTHING`, key, formatTime(now))
	return err
}

// pendingDeletions returns up to limit keys recorded at or before before,
// oldest first.
func pendingDeletions(ctx context.Context, tx *sql.Tx, before time.Time, limit int) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT key FROM pending_deletions WHERE created_at <= ?
		ORDER BY created_at, key LIMIT ?`, formatTime(before), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var key string
		if err := rows.Scan(&key); err != nil {
			return nil, err
		}
		keys = append(keys, key)
	}
	return keys, rows.Err()
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
	var imageKey sql.NullString
	var created, updated string
	err := row.Scan(&u.ID, &u.FirstName, &u.LastName, &u.Email, &u.PhoneNumber,
		&u.PasswordHash, &u.TokenVersion, &imageKey, &created, &updated)
	if err != nil {
		return nil, err
	}
	u.ImageKey = imageKey.String
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
func (s *Store) RehashPassword(ctx context.Context, id, oldHash, newHash string) (bool, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var current string
	err = tx.QueryRowContext(ctx, `SELECT password_hash FROM users WHERE id = ?`, id).Scan(&current)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, errUserNotFound()
	case err != nil || current != oldHash:
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?`,
		newHash, formatTime(s.now()), id); err != nil {
		return false, err
	}
	return true, tx.Commit()
}
