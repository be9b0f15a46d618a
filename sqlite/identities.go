package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/portraitsvc/portrait"
)

// UserByIdentity returns the user linked to id, or ENOTFOUND.
func (s *Store) UserByIdentity(ctx context.Context, id portrait.Identity) (u *portrait.User, err error) {
	err = s.read(ctx, func(tx *sql.Tx) error {
		u, err = queryUser(ctx, tx, `SELECT `+userColumns+` FROM users
			WHERE id = (SELECT user_id FROM identities WHERE issuer = ? AND subject = ?)`, id.Issuer, id.Subject)
		return err
	})
	return u, err
}

// CreateProviderUser inserts u, without a password and under
// portrait.ProviderEmail, linked to id; it returns EEMAILTAKEN if a user
// has u's address, EIDENTITYLINKED if id is linked, creating nothing.
func (s *Store) CreateProviderUser(ctx context.Context, u *portrait.User, id portrait.Identity) error {
	now := s.now()
	err := s.write(ctx, func(tx *sql.Tx) error { return createProviderUser(ctx, tx, u, id, now) })
	if err == nil {
		u.CreatedAt, u.UpdatedAt = now, now
	}
	return err
}

// createProviderUser checks u's address and id, then inserts both. The
// transaction holds the write lock, so nothing changes between.
func createProviderUser(ctx context.Context, tx *sql.Tx, u *portrait.User, id portrait.Identity, now time.Time) error {
	if err := checkEmailFree(ctx, tx, u.Email); err != nil {
		return err
	}
	if err := insertUser(ctx, tx, &portrait.User{ID: u.ID, FirstName: u.FirstName, LastName: u.LastName,
		Email: u.Email, PhoneNumber: u.PhoneNumber}, portrait.ProviderEmail(u.ID), now); err != nil {
		return err
	}
	return insertIdentity(ctx, tx, id, u.ID, now)
}

// checkEmailFree returns EEMAILTAKEN if a user's normalised address is
// email's ("" is nobody's).
func checkEmailFree(ctx context.Context, tx *sql.Tx, email string) error {
	if email == "" {
		return nil
	}
	var taken bool
	err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE email_normalized = ?)`,
		portrait.NormalizeEmail(email)).Scan(&taken)
	if err == nil && taken {
		return portrait.Errorf(portrait.EEMAILTAKEN, "A user with this email already exists.")
	}
	return err
}

// insertIdentity links id to userID, or returns EIDENTITYLINKED if id is
// linked to another user; linking it again to userID changes nothing.
func insertIdentity(ctx context.Context, tx *sql.Tx, id portrait.Identity, userID string, now time.Time) error {
	var linked string
	err := tx.QueryRowContext(ctx, `SELECT user_id FROM identities WHERE issuer = ? AND subject = ?`,
		id.Issuer, id.Subject).Scan(&linked)
	switch {
	case err == nil && linked == userID:
		return nil
	case err == nil:
		return errIdentityLinked()
	case !errors.Is(err, sql.ErrNoRows):
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO identities (issuer, subject, user_id, created_at) VALUES (?, ?, ?, ?)`,
		id.Issuer, id.Subject, userID, formatTime(now))
	return err
}

// LinkIdentity links id to the existing user userID; it returns ENOTFOUND
// for an unknown user, EIDENTITYLINKED if id is another user's.
func (s *Store) LinkIdentity(ctx context.Context, id portrait.Identity, userID string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := userByID(ctx, tx, userID); err != nil {
			return err
		}
		return insertIdentity(ctx, tx, id, userID, s.now())
	})
}

// UnlinkIdentity removes id's link, or returns ENOTFOUND.
func (s *Store) UnlinkIdentity(ctx context.Context, id portrait.Identity) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM identities WHERE issuer = ? AND subject = ?`, id.Issuer, id.Subject)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err == nil && n == 0 {
			return errIdentityNotFound()
		}
		return err
	})
}

// errIdentityLinked is the error of linking an identity that another user
// holds.
func errIdentityLinked() error {
	return portrait.Errorf(portrait.EIDENTITYLINKED, "This identity is linked to another user.")
}

// errIdentityNotFound is the error of unlinking an identity that is not
// linked.
func errIdentityNotFound() error {
	return portrait.Errorf(portrait.ENOTFOUND, "No user is linked to this identity.")
}
