package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/portraitsvc/portrait"
)

// BeginUpload records that an upload of the user is about to write set.
func (s *Store) BeginUpload(ctx context.Context, userID, set string) error {
	return s.write(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO upload_intents (image_set, user_id, created_at)
			VALUES ($1, $2, $3)`, set, userID, s.now())
		return err
	})
}

// SetImage makes img the user's image (Image{}: none), consuming the
// upload record of img.Set (EUPLOADEXPIRED if there is none), and records
// the previous set as a pending deletion. The transaction locks the user's
// row (SELECT … FOR UPDATE) first, so concurrent calls for one user, from
// any process, run one after the other. It returns the updated user and the
// previous set, or ENOTFOUND.
func (s *Store) SetImage(ctx context.Context, id string, img portrait.Image) (u *portrait.User, previous string, err error) {
	err = s.write(ctx, func(tx pgx.Tx) error {
		u, previous, err = setImage(ctx, tx, id, img, s.now())
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return u, previous, nil
}

// ReleaseUpload deletes set's upload record if it was made before
// recordedBefore, and reports whether no record remains and no user
// references set.
func (s *Store) ReleaseUpload(ctx context.Context, set string, recordedBefore time.Time) (released bool, err error) {
	err = s.write(ctx, func(tx pgx.Tx) error {
		released, err = releaseUpload(ctx, tx, set, recordedBefore)
		return err
	})
	return released, err
}

// StaleUploads returns up to limit sets recorded by BeginUpload before the
// given time and not consumed or released since, oldest first.
func (s *Store) StaleUploads(ctx context.Context, before time.Time, limit int) ([]string, error) {
	return s.strings(ctx, `SELECT image_set FROM upload_intents WHERE created_at < $1
		ORDER BY created_at, image_set LIMIT $2`, before, max(limit, 0))
}

// PendingDeletions returns up to limit sets recorded for deletion at or
// before the given time, oldest first. A limit below one returns none.
func (s *Store) PendingDeletions(ctx context.Context, before time.Time, limit int) ([]string, error) {
	return s.strings(ctx, `SELECT key FROM pending_deletions WHERE created_at <= $1
		ORDER BY created_at, key LIMIT $2`, before, max(limit, 0))
}

// CountPendingDeletions returns how many sets wait for deletion.
func (s *Store) CountPendingDeletions(ctx context.Context) (n int, err error) {
	err = s.read(ctx, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT count(*) FROM pending_deletions`).Scan(&n)
	})
	return n, err
}

// DeletionDone forgets the pending deletions of sets; sets not pending
// are ignored.
func (s *Store) DeletionDone(ctx context.Context, sets ...string) error {
	if len(sets) == 0 {
		return nil
	}
	return s.write(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM pending_deletions WHERE key = ANY($1)`, sets)
		return err
	})
}

// ImageReferenced reports whether any user's Image.Set is set. The empty
// set, which means "no image", is never referenced.
func (s *Store) ImageReferenced(ctx context.Context, set string) (referenced bool, err error) {
	err = s.read(ctx, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE image_set = $1)`, set).Scan(&referenced)
	})
	return referenced, err
}

// setImage locks the user's row, consumes img's upload record, points the
// user at img, and records the previous set as a pending deletion unless it
// is "" or img.Set itself.
func setImage(ctx context.Context, tx pgx.Tx, id string, img portrait.Image, now time.Time) (*portrait.User, string, error) {
	previous, err := lockImageSet(ctx, tx, id)
	if err != nil {
		return nil, "", err
	}
	if img.Set != "" {
		if err := consumeUpload(ctx, tx, id, img.Set); err != nil {
			return nil, "", err
		}
	}
	u, err := queryUser(ctx, tx, `UPDATE users SET image_key = $2, image_set = $3, image_meta = $4, updated_at = $5
		WHERE id = $1 RETURNING `+userColumns, id, nullable(img.Key), nullable(img.Set), nullable(img.Details()), now)
	if err != nil {
		return nil, "", err
	}
	if previous != "" && previous != img.Set {
		err = recordDeletion(ctx, tx, previous, now)
	}
	return u, previous, err
}

// lockImageSet locks the user's row until the end of the transaction and
// returns its image set, or ENOTFOUND.
func lockImageSet(ctx context.Context, tx pgx.Tx, id string) (string, error) {
	var set *string
	err := tx.QueryRow(ctx, `SELECT image_set FROM users WHERE id = $1 FOR UPDATE`, id).Scan(&set)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", errUserNotFound()
	}
	return deref(set), err
}

// consumeUpload deletes the user's upload record of set, or returns
// EUPLOADEXPIRED if there is none. A release deleting the record at the
// same time holds its row lock: this waits for it, then finds no row.
func consumeUpload(ctx context.Context, tx pgx.Tx, userID, set string) error {
	tag, err := tx.Exec(ctx, `DELETE FROM upload_intents WHERE image_set = $1 AND user_id = $2`, set, userID)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return portrait.UploadExpired()
	}
	return nil
}

// releaseUpload deletes set's upload record if it was made before before,
// then reports whether set is free: no record left, no user pointing at it.
//
// The order matters under READ COMMITTED, where each statement sees what
// was committed when it started: a commit that consumed the record first
// holds its row lock, so the DELETE waits for that commit, and the SELECT
// after it, a new statement, then sees the user pointing at set.
func releaseUpload(ctx context.Context, tx pgx.Tx, set string, before time.Time) (bool, error) {
	if _, err := tx.Exec(ctx, `DELETE FROM upload_intents WHERE image_set = $1 AND created_at < $2`, set, before); err != nil {
		return false, err
	}
	var held bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM upload_intents WHERE image_set = $1)
		OR EXISTS (SELECT 1 FROM users WHERE image_set = $1)`, set).Scan(&held)
	return !held, err
}

// recordDeletion records set as pending deletion at now. A set already
// pending keeps its first time.
func recordDeletion(ctx context.Context, tx pgx.Tx, set string, now time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO pending_deletions (key, created_at) VALUES ($1, $2)
		ON CONFLICT (key) DO NOTHING`, set, now)
	return err
}

// strings returns the first column of every row that query selects.
func (s *Store) strings(ctx context.Context, query string, args ...any) (out []string, err error) {
	err = s.read(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, query, args...)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	return out, err
}
