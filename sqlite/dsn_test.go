package sqlite

import (
	"io/fs"
	"path/filepath"
	"testing"
)

// TestPragmas checks the settings every connection gets from the DSN.
func TestPragmas(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "portrait.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for pragma, want := range map[string]string{
		"journal_mode": "wal",
		"foreign_keys": "1",
		"busy_timeout": "10000",
		"synchronous":  "2", // FULL
	} {
		var got string
		if err := s.db.QueryRowContext(t.Context(), "PRAGMA "+pragma).Scan(&got); err != nil || got != want {
			t.Errorf("PRAGMA %s = %q, %v; want %q", pragma, got, err, want)
		}
	}
}

// TestMigrateRecordsVersions checks that migrations are recorded once, and
// that migrating again changes nothing.
func TestMigrateRecordsVersions(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "portrait.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	var versions, tables int
	files, _ := fs.Glob(migrations, "migrations/*.sql")
	if err := s.db.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&versions); err != nil || versions != len(files) {
		t.Errorf("schema_migrations has %d rows, %v; want %d, one per migration", versions, err, len(files))
	}
	if err := s.db.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE type = 'table'
		AND name IN ('users', 'pending_deletions', 'schema_migrations')`).Scan(&tables); err != nil || tables != 3 {
		t.Errorf("found %d of the 3 tables, %v", tables, err)
	}
}
