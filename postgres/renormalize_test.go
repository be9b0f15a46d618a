package postgres_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/portraitsvc/portrait"
	"github.com/portraitsvc/portrait/postgres/pgtest"
)

// TestMigrationRenormalizesEmails migrates a schema that an older release
// left (migration 1 only, emails lower-cased): the NFD spelling of an
// address that an older account has in NFC is parked, a full-width one is
// renormalised, and every account stays reachable by its ID.
func TestMigrationRenormalizesEmails(t *testing.T) {
	url := pgtest.URL(t)
	legacySchema(t, url, []string{"jos\u00e9@example.com", "jose\u0301@example.com", "ＡＤＡ@example.com", "grace@example.com"})
	s := mustOpen(t, url)
	mustMigrate(t, s)
	for email, want := range map[string]string{"jose\u0301@example.com": "u0", "JOS\u00c9@example.com": "u0",
		"ada@example.com": "u2", "Grace@example.com": "u3"} {
		if u, err := s.UserByEmail(t.Context(), email); err != nil || u.ID != want {
			t.Errorf("UserByEmail(%q) = %v, %v; want %s", email, u, err, want)
		}
	}
	var normalized, keptBy string
	queryOne(t, url, `SELECT email_normalized, kept_by FROM users JOIN email_conflicts ON user_id = id WHERE id = 'u1'`, &normalized, &keptBy)
	if normalized != portrait.ParkedEmail("u1") || keptBy != "u0" {
		t.Errorf("parked u1: %q kept by %q", normalized, keptBy)
	}
	if u, err := s.UserByID(t.Context(), "u1"); err != nil || u.Email != "jose\u0301@example.com" {
		t.Errorf("UserByID(u1) = %v, %v", u, err)
	}
}

// legacySchema creates the schema as migration 1 made it, with one user
// per email (u0, u1, … in that order of creation) whose email_normalized
// is the old rule's.
func legacySchema(t *testing.T, url string, emails []string) {
	t.Helper()
	init, err := os.ReadFile("migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, q := range []string{`CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)`,
		string(init), `INSERT INTO schema_migrations VALUES (1, now())`} {
		if _, err := conn.Exec(t.Context(), q); err != nil {
			t.Fatal(err)
		}
	}
	for i, email := range emails {
		created := time.Date(2026, 1, 1, 0, 0, i, 0, time.UTC)
		if _, err := conn.Exec(t.Context(), `INSERT INTO users (id, first_name, last_name, email, email_normalized, phone_number, password_hash, created_at, updated_at)
			VALUES ($1, 'A', 'B', $2, $3, '+15551234567', 'h', $4, $4)`, "u"+string(rune('0'+i)), email, strings.ToLower(email), created); err != nil {
			t.Fatal(err)
		}
	}
}

func queryOne(t *testing.T, url, q string, dest ...any) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if err := conn.QueryRow(t.Context(), q).Scan(dest...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}
