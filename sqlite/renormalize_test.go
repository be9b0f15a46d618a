package sqlite

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portraitsvc/portrait"
)

// TestMigrationRenormalizesEmails opens a database that an older release
// left (migration 1 only, emails lower-cased): the NFD spelling of an
// address that an older account has in NFC is parked, a full-width one is
// renormalised, and every account stays reachable by its ID.
func TestMigrationRenormalizesEmails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "portrait.db")
	legacyDatabase(t, path, []portrait.StoredEmail{
		{ID: "u1", Email: "jos\u00e9@example.com"},
		{ID: "u2", Email: "jose\u0301@example.com"},
		{ID: "u3", Email: "ＡＤＡ@example.com"},
		{ID: "u4", Email: "grace@example.com"},
	})
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for email, want := range map[string]string{"jose\u0301@example.com": "u1", "JOS\u00c9@example.com": "u1",
		"ada@example.com": "u3", "Grace@example.com": "u4"} {
		if u, err := s.UserByEmail(t.Context(), email); err != nil || u.ID != want {
			t.Errorf("UserByEmail(%q) = %v, %v; want %s", email, u, err, want)
		}
	}
	var normalized, keptBy string
	if err := s.db.QueryRow(`SELECT email_normalized, kept_by FROM users JOIN email_conflicts ON user_id = id WHERE id = 'u2'`).Scan(&normalized, &keptBy); err != nil ||
		normalized != portrait.ParkedEmail("u2") || keptBy != "u1" {
		t.Errorf("parked u2: %q kept by %q, %v", normalized, keptBy, err)
	}
	if u, err := s.UserByID(t.Context(), "u2"); err != nil || u.Email != "jose\u0301@example.com" {
		t.Errorf("UserByID(u2) = %v, %v", u, err)
	}
	err = s.CreateUser(t.Context(), &portrait.User{ID: "u5", Email: "ａda@example.com"})
	if portrait.ErrorCode(err) != portrait.EEMAILTAKEN {
		t.Errorf("creating a full-width spelling of ada@: %v, want email_taken", err)
	}
}

// legacyDatabase creates path as migration 1 made it, with users whose
// email_normalized is the old rule's (trimmed, lower-cased), created in
// the given order.
func legacyDatabase(t *testing.T, path string, users []portrait.StoredEmail) {
	t.Helper()
	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	init, err := migrations.ReadFile("migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	stmts := []string{`CREATE TABLE schema_migrations (version INTEGER NOT NULL PRIMARY KEY, applied_at TEXT NOT NULL) STRICT`,
		string(init), `INSERT INTO schema_migrations VALUES (1, '2026-01-01T00:00:00.000000Z')`}
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	for i, u := range users {
		created := formatTime(time.Date(2026, 1, 1, 0, 0, i, 0, time.UTC))
		if _, err := db.Exec(`INSERT INTO users (id, first_name, last_name, email, email_normalized, phone_number, password_hash, created_at, updated_at)
			VALUES (?, 'A', 'B', ?, ?, '+15551234567', 'h', ?, ?)`, u.ID, u.Email, strings.ToLower(u.Email), created, created); err != nil {
			t.Fatal(err)
		}
	}
}
