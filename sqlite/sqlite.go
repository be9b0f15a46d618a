// Package sqlite implements portrait.UserStore on a SQLite database file,
// through the pure-Go driver modernc.org/sqlite.
//
// The database runs in WAL mode, which Open sets once per file.
// Every write transaction begins with BEGIN IMMEDIATE (the _txlock DSN
// parameter): it takes SQLite's single write lock up front, waiting for it
// up to the busy timeout, instead of failing with SQLITE_BUSY when it would
// otherwise upgrade a read lock midway. Holding that lock for the whole
// transaction is also what "locks the user's row" means here. Reads begin
// read-only transactions, which the driver starts deferred: they never wait
// for the writer.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strconv"
	"strings"
	"time"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/portraitsvc/portrait"
)

//go:embed migrations/*.sql
var migrations embed.FS

// busyTimeout is how long a connection waits for another's lock before it
// fails with SQLITE_BUSY.
const busyTimeout = 10 * time.Second

// timeFormat is how times are stored: UTC, fixed width, microseconds, so
// that text order is time order. PostgreSQL keeps microseconds too, so both
// stores round-trip the same instants.
const timeFormat = "2006-01-02T15:04:05.000000Z07:00"

// Store is a portrait.UserStore on a SQLite file. It is safe for concurrent
// use by many goroutines, and by several processes on one host.
type Store struct {
	db *sql.DB

	// Now returns the current time; it is time.Now unless a test replaces
	// it. The store keeps it in UTC, truncated to the microsecond.
	Now func() time.Time
}

var _ portrait.UserStore = (*Store)(nil)

// Open opens the database file at path, creating it if it does not exist,
// and applies the pending migrations.
func Open(path string) (*Store, error) {
	if path == "" || strings.Contains(path, "?") {
		return nil, fmt.Errorf("sqlite: invalid database path %q", path)
	}
	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, Now: time.Now}
	if err := s.init(context.Background()); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// init switches the database to WAL mode and migrates it.
func (s *Store) init(ctx context.Context) error {
	if err := setWAL(ctx, s.db); err != nil {
		return fmt.Errorf("sqlite: journal_mode: %w", err)
	}
	return s.Migrate(ctx)
}

// setWAL switches the database to WAL mode, which the file keeps. On a new
// file, two connections switching it at once (two processes starting
// together) can fail with SQLITE_BUSY without waiting for the busy handler,
// so this retries for up to busyTimeout. It is not in the DSN for that
// reason: once the file is in WAL mode, new connections need nothing.
func setWAL(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(busyTimeout)
	for {
		var mode string
		err := db.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode)
		switch {
		case isBusy(err) && time.Now().Before(deadline):
			time.Sleep(10 * time.Millisecond)
		case err == nil && mode != "wal":
			return fmt.Errorf("journal_mode is %q, not wal", mode)
		default:
			return err
		}
	}
}

// dsn returns the data source name that opens path with the store's
// settings, applied by the driver to every new connection.
//
// synchronous=FULL makes every commit durable across an OS crash or power
// loss, not only a process crash as NORMAL would: a signup or an image
// change that was acknowledged must not vanish, or the uploaded object would
// be orphaned with nothing recording it. Writes are rare here (signups,
// image changes), so one fsync per commit is cheap.
func dsn(path string) string {
	q := url.Values{}
	q.Set("_busy_timeout", strconv.FormatInt(busyTimeout.Milliseconds(), 10))
	q.Set("_foreign_keys", "1")
	q.Set("_synchronous", "FULL")
	q.Set("_txlock", "immediate")
	return path + "?" + q.Encode()
}

// Close closes the database.
func (s *Store) Close() error {
	return s.db.Close()
}

// Ping reports whether the database accepts a write: it commits one to a
// row kept for the purpose, which fails when the file, its folder or the
// disk cannot be written.
func (s *Store) Ping(ctx context.Context) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE readiness_probe SET checked_at = ? WHERE id = 1`, formatTime(s.now()))
		return err
	})
}

// write runs fn in a write transaction, which holds the database's write
// lock from its start (BEGIN IMMEDIATE), and commits it if fn succeeds.
func (s *Store) write(ctx context.Context, fn func(*sql.Tx) error) error {
	return s.inTx(ctx, nil, fn)
}

// read runs fn in a read-only transaction, which never waits for the writer.
func (s *Store) read(ctx context.Context, fn func(*sql.Tx) error) error {
	return s.inTx(ctx, &sql.TxOptions{ReadOnly: true}, fn)
}

// inTx runs fn in a transaction and commits it if fn succeeds. Errors that
// mean the database cannot be used now (locked past the busy timeout, disk
// full, read-only, I/O) become EUNAVAILABLE.
func (s *Store) inTx(ctx context.Context, opts *sql.TxOptions, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, opts)
	if err != nil {
		return classify(err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return classify(err)
	}
	return classify(tx.Commit())
}

// Migrate applies, in version order and in one transaction, the embedded
// migrations that schema_migrations does not record yet. It is idempotent
// and safe to run from several processes at once: the transaction holds
// SQLite's write lock from its start.
func (s *Store) Migrate(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	defer tx.Rollback()
	if err := migrate(ctx, tx, s.now()); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	return tx.Commit()
}

// migrate creates schema_migrations if needed and applies every migration
// file it does not record. fs.Glob returns the names sorted, and they are
// zero-padded, so that is version order.
func migrate(ctx context.Context, tx *sql.Tx, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER NOT NULL PRIMARY KEY,
		applied_at TEXT NOT NULL
	) STRICT`); err != nil {
		return err
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	for _, name := range names {
		if err := applyMigration(ctx, tx, name, now); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// applyMigration runs the migration file name unless its version is
// already recorded, and records it.
func applyMigration(ctx context.Context, tx *sql.Tx, name string, now time.Time) error {
	version, err := migrationVersion(name)
	if err != nil {
		return err
	}
	var applied bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?)`, version).Scan(&applied); err != nil || applied {
		return err
	}
	body, err := migrations.ReadFile(name)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return err
	}
	if step := goMigrations[version]; step != nil {
		if err := step(ctx, tx, now); err != nil {
			return err
		}
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, version, formatTime(now))
	return err
}

// migrationVersion returns the number that prefixes a migration file name,
// 1 for "migrations/0001_init.sql".
func migrationVersion(name string) (int, error) {
	base := strings.TrimPrefix(name, "migrations/")
	prefix, _, ok := strings.Cut(base, "_")
	if !ok {
		return 0, fmt.Errorf("migration %q is not named NNNN_name.sql", name)
	}
	return strconv.Atoi(prefix)
}

// now returns the store's current time as it is stored.
func (s *Store) now() time.Time {
	return s.Now().UTC().Truncate(time.Microsecond)
}

// formatTime returns t as it is stored.
func formatTime(t time.Time) string {
	return t.UTC().Truncate(time.Microsecond).Format(timeFormat)
}

// parseTime returns the time stored as s, in UTC.
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(timeFormat, s)
	return t.UTC(), err
}

// nullString returns s as a column value, NULL for "".
func nullString(s string) sql.NullString {
	return sql.NullString{String: s, Valid: s != ""}
}

// isBusy reports whether err is SQLITE_BUSY, with any extended code.
func isBusy(err error) bool {
	var e *msqlite.Error
	return errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_BUSY
}

// unavailableCodes are the primary result codes that say the database
// cannot be used right now, rather than that a statement is wrong.
var unavailableCodes = map[int]bool{
	sqlite3.SQLITE_BUSY: true, sqlite3.SQLITE_LOCKED: true, sqlite3.SQLITE_FULL: true,
	sqlite3.SQLITE_IOERR: true, sqlite3.SQLITE_READONLY: true, sqlite3.SQLITE_CANTOPEN: true,
	sqlite3.SQLITE_NOMEM: true, sqlite3.SQLITE_PROTOCOL: true,
}

// classify returns err as EUNAVAILABLE if its SQLite code is one of
// unavailableCodes, and unchanged otherwise.
func classify(err error) error {
	var e *msqlite.Error
	if errors.As(err, &e) && unavailableCodes[e.Code()&0xff] {
		return portrait.Unavailable("database", err)
	}
	return err
}

// isUniqueViolation reports whether err is SQLite's UNIQUE constraint
// failure (extended code SQLITE_CONSTRAINT_UNIQUE; a duplicate primary key
// is SQLITE_CONSTRAINT_PRIMARYKEY and is not one).
func isUniqueViolation(err error) bool {
	var e *msqlite.Error
	return errors.As(err, &e) && e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}
