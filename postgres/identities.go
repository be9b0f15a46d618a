package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/portraitsvc/portrait"
)

// UserByIdentity returns the user linked to id, or ENOTFOUND.
func (s *Store) UserByIdentity(ctx context.Context, id portrait.Identity) (u *portrait.User, err error) {
	err = s.read(ctx, func(tx pgx.Tx) error {
		u, err = queryUser(ctx, tx, `SELECT `+userColumns+` FROM users
			WHERE id = (SELECT user_id FROM identities WHERE issuer = $1 AND subject = $2)`, id.Issuer, id.Subject)
		return err
	})
	return u, err
}

// CreateProviderUser inserts u, without a password and under
// portrait.ProviderEmail, linked to id; it returns EEMAILTAKEN if a user
// has u's address, EIDENTITYLINKED if id is linked, creating nothing. Of
// two transactions linking one identity at once, the second waits for the
// first and then fails with EIDENTITYLINKED.
func (s *Store) CreateProviderUser(ctx context.Context, u *portrait.User, id portrait.Identity) error {
	now := s.now()
	err := s.write(ctx, func(tx pgx.Tx) error { return createProviderUser(ctx, tx, u, id, now) })
	if err == nil {
		u.CreatedAt, u.UpdatedAt = now, now
	}
	return err
}

// createProviderUser checks u's address, then inserts u and its link. A
// local account registered with the address meanwhile is not merged
// either: the two stay apart.
func createProviderUser(ctx context.Context, tx pgx.Tx, u *portrait.User, id portrait.Identity, now time.Time) error {
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
func checkEmailFree(ctx context.Context, tx pgx.Tx, email string) error {
	if email == "" {
		return nil
	}
	var taken bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE email_normalized = $1)`,
		portrait.NormalizeEmail(email)).Scan(&taken)
	if err == nil && taken {
		return portrait.Errorf(portrait.EEMAILTAKEN, "A user with this email already exists.")
	}
	return err
}

// insertIdentity links id to userID, or returns EIDENTITYLINKED if id is
// linked to another user; linking it again to userID changes nothing. The
// insert waits for a concurrent one of the same identity; the read that
// follows, a statement of its own, sees the row that won.
func insertIdentity(ctx context.Context, tx pgx.Tx, id portrait.Identity, userID string, now time.Time) error {
	tag, err := tx.Exec(ctx, `INSERT INTO identities (issuer, subject, user_id, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (issuer, subject) DO NOTHING`, id.Issuer, id.Subject, userID, now)
	if err != nil || tag.RowsAffected() == 1 {
		return err
	}
	var linked string
	err = tx.QueryRow(ctx, `SELECT user_id FROM identities WHERE issuer = $1 AND subject = $2`,
		id.Issuer, id.Subject).Scan(&linked)
	if err == nil && linked != userID {
		return errIdentityLinked()
	}
	return err
}

// LinkIdentity links id to the existing user userID, whose row it locks
// against a concurrent delete; it returns ENOTFOUND for an unknown user,
// EIDENTITYLINKED if id is another user's.
func (s *Store) LinkIdentity(ctx context.Context, id portrait.Identity, userID string) error {
	return s.write(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT id FROM users WHERE id = $1 FOR KEY SHARE`, userID).Scan(&userID)
		if errors.Is(err, pgx.ErrNoRows) {
			return errUserNotFound()
		}
		if err != nil {
			return err
		}
		return insertIdentity(ctx, tx, id, userID, s.now())
	})
}

// UnlinkIdentity removes id's link, or returns ENOTFOUND.
func (s *Store) UnlinkIdentity(ctx context.Context, id portrait.Identity) error {
	return s.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM identities WHERE issuer = $1 AND subject = $2`, id.Issuer, id.Subject)
		if err == nil && tag.RowsAffected() == 0 {
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
