package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/portraitsvc/portrait"
)

// goMigrations are the steps in Go that follow a migration's SQL, in the
// same transaction, by version.
var goMigrations = map[int]func(context.Context, *sql.Tx, time.Time) error{
	3: renormalizeEmails,
}

// renormalizeEmails brings every user's email_normalized under today's
// portrait.NormalizeEmail and records the users parked by a collision
// (portrait.RenormalizeEmails says which).
func renormalizeEmails(ctx context.Context, tx *sql.Tx, now time.Time) error {
	users, err := storedEmails(ctx, tx)
	if err != nil {
		return err
	}
	changes := portrait.RenormalizeEmails(users)
	for _, c := range changes {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET email_normalized = ? WHERE id = ?`, " migrating:"+c.ID, c.ID); err != nil {
			return err
		}
	}
	for _, c := range changes {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET email_normalized = ? WHERE id = ?`, c.Normalized, c.ID); err != nil {
			return err
		}
		if c.KeptBy == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO email_conflicts (user_id, email, kept_by, created_at)
			SELECT id, email, ?, ? FROM users WHERE id = ?`, c.KeptBy, formatTime(now), c.ID); err != nil {
			return err
		}
	}
	return nil
}

// storedEmails returns every user's addresses, oldest user first.
func storedEmails(ctx context.Context, tx *sql.Tx) ([]portrait.StoredEmail, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, email, email_normalized FROM users ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var users []portrait.StoredEmail
	for rows.Next() {
		var u portrait.StoredEmail
		if err := rows.Scan(&u.ID, &u.Email, &u.Normalized); err != nil {
			return nil, err
		}
		users = append(users, u)
	}
	return users, rows.Err()
}
