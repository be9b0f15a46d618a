// Package postgres implements portrait.UserStore on PostgreSQL, through
// pgx and its connection pool. Several server processes may share one
// database: every write that must not race locks the rows it changes.
//
// The tables live in the first schema of the connection's search_path,
// which the URL may set (…?search_path=name); tests use that to give each
// test a schema of its own.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/portraitsvc/portrait"
)

//go:embed migrations/*.sql
var migrations embed.FS

// defaultConnectTimeout bounds each connection attempt when the URL sets no
// connect_timeout, so that an unreachable server fails promptly.
const defaultConnectTimeout = 5 * time.Second

// migrateLockID is the pg_advisory_xact_lock key that serializes Migrate
// across processes sharing the database.
const migrateLockID int64 = 0x706f7274726169 // "portrai"

// uniqueViolation is the SQLSTATE of unique_violation, and emailUnique the
// name of the constraint that makes emails unique.
const (
	uniqueViolation = "23505"
	emailUnique     = "users_email_normalized_key"
)

// Store is a portrait.UserStore on PostgreSQL. It is safe for concurrent
// use by many goroutines and many processes.
type Store struct {
	pool *pgxpool.Pool

	// Now returns the current time; it is time.Now unless a test replaces
	// it. The store keeps it in UTC, truncated to the microsecond, which is
	// what PostgreSQL stores.
	Now func() time.Time
}

var _ portrait.UserStore = (*Store)(nil)

// Open connects to the database at url and pings it. It does not migrate:
// call Migrate. Each connection attempt gives up after the URL's
// connect_timeout, or 5 seconds if it sets none.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = defaultConnectTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	return &Store{pool: pool, Now: time.Now}, nil
}

// Close closes the pool's connections.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// MaxConns returns the size of the connection pool: the URL's
// pool_max_conns, or pgxpool's default, the greater of 4 and the CPUs.
func (s *Store) MaxConns() int {
	return int(s.pool.Config().MaxConns)
}

// Ping reports whether the database accepts a write: it commits one to a
// row kept for the purpose, which fails on a read-only standby, a full
// disk, or a server that refuses connections.
func (s *Store) Ping(ctx context.Context) error {
	return s.write(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE readiness_probe SET checked_at = $1 WHERE id = 1`, s.now())
		return err
	})
}

// write runs fn in a read-write transaction and commits it if fn succeeds.
func (s *Store) write(ctx context.Context, fn func(pgx.Tx) error) error {
	return s.inTx(ctx, pgx.TxOptions{}, fn)
}

// read runs fn in a read-only transaction.
func (s *Store) read(ctx context.Context, fn func(pgx.Tx) error) error {
	return s.inTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly}, fn)
}

// inTx runs fn in a transaction at the default isolation, READ COMMITTED,
// which the image methods rely on, and commits it if fn succeeds. Waiting
// for a pooled connection is part of the call, so ctx's deadline bounds it
// too. Errors that mean the database cannot serve now become EUNAVAILABLE.
func (s *Store) inTx(ctx context.Context, opts pgx.TxOptions, fn func(pgx.Tx) error) error {
	tx, err := s.pool.BeginTx(ctx, opts)
	if err != nil {
		return classify(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := fn(tx); err != nil {
		return classify(err)
	}
	return classify(tx.Commit(ctx))
}

// Migrate applies, in version order and in one transaction, the embedded
// migrations that schema_migrations does not record yet. It is idempotent,
// and safe to run from several processes at once: the transaction first
// takes an advisory lock, so they migrate one after the other.
func (s *Store) Migrate(ctx context.Context) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	defer tx.Rollback(ctx)
	if err := migrate(ctx, tx, s.now()); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	return tx.Commit(ctx)
}

// migrate takes the migration lock, creates schema_migrations if needed,
// and applies every migration file it does not record. fs.Glob returns the
// names sorted, and they are zero-padded, so that is version order.
func migrate(ctx context.Context, tx pgx.Tx, now time.Time) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLockID); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    BIGINT PRIMARY KEY,
		applied_at TIMESTAMPTZ NOT NULL
	)`); err != nil {
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
func applyMigration(ctx context.Context, tx pgx.Tx, name string, now time.Time) error {
	version, err := migrationVersion(name)
	if err != nil {
		return err
	}
	var applied bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, version).Scan(&applied); err != nil || applied {
		return err
	}
	body, err := migrations.ReadFile(name)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, string(body)); err != nil {
		return err
	}
	if step := goMigrations[version]; step != nil {
		if err := step(ctx, tx, now); err != nil {
			return err
		}
	}
	_, err = tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`, version, now)
	return err
}

// migrationVersion returns the number that prefixes a migration file name,
// 1 for "migrations/0001_init.sql".
func migrationVersion(name string) (int64, error) {
	base := strings.TrimPrefix(name, "migrations/")
	prefix, _, ok := strings.Cut(base, "_")
	if !ok {
		return 0, fmt.Errorf("migration %q is not named NNNN_name.sql", name)
	}
	return strconv.ParseInt(prefix, 10, 64)
}

// now returns the store's current time as it is stored.
func (s *Store) now() time.Time {
	return s.Now().UTC().Truncate(time.Microsecond)
}

// unavailableStates are the SQLSTATE codes and classes (two characters)
// that say the server cannot serve now, rather than that a statement is
// wrong: connection exceptions (08), insufficient resources such as too
// many connections or a full disk (53), operator intervention such as a
// shutdown or a cancelled statement (57), system errors (58), a lock or
// serialization conflict, and a read-only server (a standby).
var unavailableStates = map[string]bool{
	"08": true, "53": true, "57": true, "58": true,
	"55P03": true, "40001": true, "40P01": true, "25006": true,
}

// classify returns err as EUNAVAILABLE if it says the server cannot serve
// now (see unavailableStates), or that the connection failed, timed out or
// was lost (the server died under it); unchanged otherwise.
func classify(err error) error {
	var pe *pgconn.PgError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &pe):
		if !unavailableStates[pe.Code] && !unavailableStates[pe.Code[:min(2, len(pe.Code))]] {
			return err
		}
	case !connectionLost(err):
		return err
	}
	return portrait.Unavailable("database", err)
}

// connectionLost reports whether err says that no connection could be made
// or used: a failed connect, a timeout, a connection closed or cut short.
func connectionLost(err error) bool {
	var ce *pgconn.ConnectError
	return errors.As(err, &ce) || pgconn.Timeout(err) || pgconn.SafeToRetry(err) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed)
}

// isEmailTaken reports whether err is the violation of the unique
// constraint on users' normalized emails (a duplicate ID is not one).
func isEmailTaken(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == uniqueViolation && e.ConstraintName == emailUnique
}
