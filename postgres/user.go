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
	token_version, image_key, created_at, updated_at`

// CreateUser inserts u and sets its CreatedAt and UpdatedAt. It returns
// EEMAILTAKEN if a user with the same normalized email exists.
func (s *Store) CreateUser(ctx context.Context, u *portrait.User) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	now := s.now()
	if err := createUser(ctx, tx, u, now); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	u.CreatedAt, u.UpdatedAt = now, now
	return nil
}

// UserByID returns the user, or ENOTFOUND.
func (s *Store) UserByID(ctx context.Context, id string) (*portrait.User, error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(ctx)
	return userByID(ctx, tx, id)
}

// UserByEmail returns the user whose normalized email matches, or ENOTFOUND.
func (s *Store) UserByEmail(ctx context.Context, email string) (*portrait.User, error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(ctx)
	return queryUser(ctx, tx, `SELECT `+userColumns+` FROM users WHERE email_normalized = $1`,
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
	return s.revokeTokensAnd(ctx, id, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE users SET password_hash = $2 WHERE id = $1`, id, passwordHash)
		return err
	})
}

// revokeTokensAnd raises the user's token version and, in the same
// transaction, runs also if it is not nil.
func (s *Store) revokeTokensAnd(ctx context.Context, id string, also func(pgx.Tx) error) (int64, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(ctx)
	version, err := revokeTokens(ctx, tx, id, s.now())
	if err == nil && also != nil {
		err = also(tx)
	}
	if err != nil {
		return 0, err
	}
	return version, tx.Commit(ctx)
}

// SetImage makes key ("" for none) the user's image and returns the updated
// user and the previous key, or ENOTFOUND. The transaction locks the user's
// row (SELECT … FOR UPDATE) before reading the previous key, so concurrent
// calls for one user, from any process, run one after the other; the
// previous key, if any and different from key, is recorded as a pending
// deletion in that same transaction.
func (s *Store) SetImage(ctx context.Context, id, key string) (*portrait.User, string, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, "", err
	}
	defer tx.Rollback(ctx)
	u, previous, err := setImage(ctx, tx, id, key, s.now())
	if err != nil {
		return nil, "", err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, "", err
	}
	return u, previous, nil
}

// DeleteUser removes the user and records its image, if any, as a pending
// deletion in the same transaction. It returns ENOTFOUND if the user does
// not exist.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if err := deleteUser(ctx, tx, id, s.now()); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// PendingDeletions returns up to limit keys recorded for deletion at or
// before the given time, oldest first. A limit below one returns none.
func (s *Store) PendingDeletions(ctx context.Context, before time.Time, limit int) ([]string, error) {
	if limit < 1 {
		return nil, nil
	}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(ctx)
	return pendingDeletions(ctx, tx, before, limit)
}

// DeletionDone forgets a pending deletion. It is not an error if key is not
// pending.
func (s *Store) DeletionDone(ctx context.Context, key string) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `DELETE FROM pending_deletions WHERE key = $1`, key); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// ImageReferenced reports whether any user's ImageKey is key. The empty
// key, which means "no image", is never referenced.
func (s *Store) ImageReferenced(ctx context.Context, key string) (bool, error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return false, err
	}
	defer tx.Rollback(ctx)
	var referenced bool
	err = tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE image_key = $1)`, key).Scan(&referenced)
	return referenced, err
}

// createUser inserts u with both times set to now, or returns EEMAILTAKEN.
func createUser(ctx context.Context, tx pgx.Tx, u *portrait.User, now time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO users (`+userColumns+`, email_normalized)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		u.ID, u.FirstName, u.LastName, u.Email, u.PhoneNumber, u.PasswordHash,
		u.TokenVersion, nullable(u.ImageKey), now, now, portrait.NormalizeEmail(u.Email))
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

// setImage locks the user's row, replaces its image key, and records the
// previous one as a pending deletion unless it is "" or key itself.
func setImage(ctx context.Context, tx pgx.Tx, id, key string, now time.Time) (*portrait.User, string, error) {
	previous, err := lockImageKey(ctx, tx, id)
	if err != nil {
		return nil, "", err
	}
	u, err := queryUser(ctx, tx, `UPDATE users SET image_key = $2, updated_at = $3 WHERE id = $1
		RETURNING `+userColumns, id, nullable(key), now)
	if err != nil {
		return nil, "", err
	}
	if previous != "" && previous != key {
		err = recordDeletion(ctx, tx, previous, now)
	}
	return u, previous, err
}

// lockImageKey locks the user's row until the end of the transaction and
// returns its image key, or ENOTFOUND.
func lockImageKey(ctx context.Context, tx pgx.Tx, id string) (string, error) {
	var key *string
	err := tx.QueryRow(ctx, `SELECT image_key FROM users WHERE id = $1 FOR UPDATE`, id).Scan(&key)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", errUserNotFound()
	}
	return deref(key), err
}

// deleteUser deletes the user and records its image key, if any, as a
// pending deletion, or returns ENOTFOUND.
func deleteUser(ctx context.Context, tx pgx.Tx, id string, now time.Time) error {
	var key *string
	err := tx.QueryRow(ctx, `DELETE FROM users WHERE id = $1 RETURNING image_key`, id).Scan(&key)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return errUserNotFound()
	case err != nil || key == nil:
		return err
	}
	return recordDeletion(ctx, tx, *key, now)
}

// recordDeletion records key as pending deletion at now. A key already
// pending keeps its first time.
func recordDeletion(ctx context.Context, tx pgx.Tx, key string, now time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO pending_deletions (key, created_at) VALUES ($1, $2)
		ON CONFLICT (key) DO NOTHING`, key, now)
	return err
}

// pendingDeletions returns up to limit keys recorded at or before before,
// oldest first.
func pendingDeletions(ctx context.Context, tx pgx.Tx, before time.Time, limit int) ([]string, error) {
	rows, err := tx.Query(ctx, `SELECT key FROM pending_deletions WHERE created_at <= $1
		ORDER BY created_at, key LIMIT $2`, before, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
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
	var imageKey *string
	err := row.Scan(&u.ID, &u.FirstName, &u.LastName, &u.Email, &u.PhoneNumber,
		&u.PasswordHash, &u.TokenVersion, &imageKey, &u.CreatedAt, &u.UpdatedAt)
	if err != nil {
		return nil, err
	}
	u.ImageKey = deref(imageKey)
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
func (s *Store) RehashPassword(ctx context.Context, id, oldHash, newHash string) (bool, error) {
	var replaced, exists bool
	err := s.pool.QueryRow(ctx, `WITH set AS (UPDATE users SET password_hash = $3, updated_at = $4
			WHERE id = $1 AND password_hash = $2 RETURNING 1)
		SELECT EXISTS (SELECT 1 FROM set), EXISTS (SELECT 1 FROM users WHERE id = $1)`,
		id, oldHash, newHash, s.now()).Scan(&replaced, &exists)
	if err == nil && !replaced && !exists {
		return false, errUserNotFound()
	}
	return replaced, err
}
