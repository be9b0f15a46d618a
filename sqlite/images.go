package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/portraitsvc/portrait"
)

// BeginUpload records that an upload of the user is about to write set.
func (s *Store) BeginUpload(ctx context.Context, userID, set string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO upload_intents (image_set, user_id, created_at)
			VALUES (?, ?, ?)`, set, userID, formatTime(s.now()))
		return err
	})
}

// SetImage makes img the user's image (Image{}: none), consuming the
// upload record of img.Set (EUPLOADEXPIRED if there is none), and records
// the previous set as a pending deletion, in one transaction that holds the
// database's write lock throughout. It returns the updated user and the
// previous set, or ENOTFOUND.
func (s *Store) SetImage(ctx context.Context, id string, img portrait.Image) (u *portrait.User, previous string, err error) {
	err = s.write(ctx, func(tx *sql.Tx) error {
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
	err = s.write(ctx, func(tx *sql.Tx) error {
		released, err = releaseUpload(ctx, tx, set, recordedBefore)
		return err
	})
	return released, err
}

// StaleUploads returns up to limit sets recorded by BeginUpload before the
// given time and not consumed or released since, oldest first.
func (s *Store) StaleUploads(ctx context.Context, before time.Time, limit int) ([]string, error) {
	return s.strings(ctx, `SELECT image_set FROM upload_intents WHERE created_at < ?
		ORDER BY created_at, image_set LIMIT ?`, formatTime(before), limit)
}

// PendingDeletions returns up to limit sets recorded for deletion at or
// before the given time, oldest first. A limit below one returns none.
func (s *Store) PendingDeletions(ctx context.Context, before time.Time, limit int) ([]string, error) {
	return s.strings(ctx, `SELECT key FROM pending_deletions WHERE created_at <= ?
		ORDER BY created_at, key LIMIT ?`, formatTime(before), max(limit, 0))
}

// CountPendingDeletions returns how many sets wait for deletion.
func (s *Store) CountPendingDeletions(ctx context.Context) (n int, err error) {
	err = s.read(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM pending_deletions`).Scan(&n)
	})
	return n, err
}

// DeletionDone forgets the pending deletions of sets; sets not pending
// are ignored.
func (s *Store) DeletionDone(ctx context.Context, sets ...string) error {
	if len(sets) == 0 {
		return nil
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		for _, set := range sets {
			if _, err := tx.ExecContext(ctx, `DELETE FROM pending_deletions WHERE key = ?`, set); err != nil {
				return err
			}
		}
		return nil
	})
}

// ImageReferenced reports whether any user's Image.Set is set. The empty
// set, which means "no image", is never referenced.
func (s *Store) ImageReferenced(ctx context.Context, set string) (referenced bool, err error) {
	err = s.read(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE image_set = ?)`, set).Scan(&referenced)
	})
	return referenced, err
}

// setImage points the user at img after consuming its upload record, and
// records the previous set as a pending deletion unless it is "" or
// img.Set itself.
func setImage(ctx context.Context, tx *sql.Tx, id string, img portrait.Image, now time.Time) (*portrait.User, string, error) {
	u, err := userByID(ctx, tx, id)
	if err != nil {
		return nil, "", err
	}
	previous := u.Image.Set
	if img.Set != "" {
		if err := consumeUpload(ctx, tx, id, img.Set); err != nil {
			return nil, "", err
		}
	}
	u, err = queryUser(ctx, tx, `UPDATE users SET image_key = ?, image_set = ?, image_meta = ?, updated_at = ?
		WHERE id = ? RETURNING `+userColumns, nullString(img.Key), nullString(img.Set), nullString(img.Details()), formatTime(now), id)
	if err != nil {
		return nil, "", err
	}
	if previous != "" && previous != img.Set {
		err = recordDeletion(ctx, tx, previous, now)
	}
	return u, previous, err
}

// consumeUpload deletes the user's upload record of set, or returns
// EUPLOADEXPIRED if there is none.
func consumeUpload(ctx context.Context, tx *sql.Tx, userID, set string) error {
	res, err := tx.ExecContext(ctx, `DELETE FROM upload_intents WHERE image_set = ? AND user_id = ?`, set, userID)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return orExpired(err)
	}
	return nil
}

// orExpired returns err, or EUPLOADEXPIRED if err is nil.
func orExpired(err error) error {
	if err != nil {
		return err
	}
	return portrait.UploadExpired()
}

// releaseUpload deletes set's upload record if it was made before before,
// then reports whether set is free: no record left, no user pointing at it.
func releaseUpload(ctx context.Context, tx *sql.Tx, set string, before time.Time) (bool, error) {
	if _, err := tx.ExecContext(ctx, `DELETE FROM upload_intents WHERE image_set = ? AND created_at < ?`,
		set, formatTime(before)); err != nil {
		return false, err
	}
	var held bool
	err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM upload_intents WHERE image_set = ?)
		OR EXISTS (SELECT 1 FROM users WHERE image_set = ?)`, set, set).Scan(&held)
	return !held, err
}

// recordDeletion records set as pending deletion at now. A set already
// pending keeps its first time.
func recordDeletion(ctx context.Context, tx *sql.Tx, set string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO pending_deletions (key, created_at) VALUES (?, ?)
		ON CONFLICT (key) DO NOTHING`, set, formatTime(now))
	return err
}

// strings returns the first column of every row that query selects.
func (s *Store) strings(ctx context.Context, query string, args ...any) (out []string, err error) {
	err = s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				return err
			}
			out = append(out, v)
		}
		return rows.Err()
	})
	return out, err
}
