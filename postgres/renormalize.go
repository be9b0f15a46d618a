package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/portraitsvc/portrait"
)

// goMigrations are the steps in Go that follow a migration's SQL, in the
// same transaction, by version.
var goMigrations = map[int64]func(context.Context, pgx.Tx, time.Time) error{
	3: renormalizeEmails,
}

// renormalizeEmails brings every user's email_normalized under today's
// portrait.NormalizeEmail and records the users parked by a collision
// (portrait.RenormalizeEmails says which).
func renormalizeEmails(ctx context.Context, tx pgx.Tx, now time.Time) error {
	rows, err := tx.Query(ctx, `SELECT id, email, email_normalized FROM users ORDER BY created_at, id`)
	if err != nil {
		return err
	}
	users, err := pgx.CollectRows(rows, pgx.RowToStructByPos[portrait.StoredEmail])
	if err != nil {
		return err
	}
	changes := portrait.RenormalizeEmails(users)
	for _, c := range changes {
		if _, err := tx.Exec(ctx, `UPDATE users SET email_normalized = ' migrating:' || id WHERE id = $1`, c.ID); err != nil {
			return err
		}
	}
	for _, c := range changes {
		if _, err := tx.Exec(ctx, `UPDATE users SET email_normalized = $2 WHERE id = $1`, c.ID, c.Normalized); err != nil {
			return err
		}
		if c.KeptBy == "" {
			continue
		}
		if _, err := tx.Exec(ctx, `INSERT INTO email_conflicts (user_id, email, kept_by, created_at)
			SELECT id, email, $2, $3 FROM users WHERE id = $1`, c.ID, c.KeptBy, now); err != nil {
			return err
		}
	}
	return nil
}
