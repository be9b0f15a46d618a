package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/portraitsvc/portrait"
	"github.com/portraitsvc/portrait/bulkhead"
	"github.com/portraitsvc/portrait/jwt"
	"github.com/portraitsvc/portrait/localfs"
	"github.com/portraitsvc/portrait/postgres"
	"github.com/portraitsvc/portrait/s3"
	"github.com/portraitsvc/portrait/sqlite"
)

// store is a UserStore that can migrate its schema and report health.
type store interface {
	portrait.UserStore
	Migrate(ctx context.Context) error
	Ping(ctx context.Context) error
}

// openStore opens the database that cfg.DatabaseURL names — PostgreSQL for
// postgres:// URLs, else SQLite (in the data dir by default) — and applies
// its migrations.
func openStore(ctx context.Context, cfg *config) (store, error) {
	var s store
	var err error
	switch u := cfg.DatabaseURL; {
	case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
		s, err = postgres.Open(ctx, u)
	case u == "":
		s, err = openSQLite(filepath.Join(cfg.DataDir, "portrait.db"))
	case strings.HasPrefix(u, "sqlite:"):
		s, err = openSQLite(strings.TrimPrefix(strings.TrimPrefix(u, "sqlite:"), "//"))
	default:
		return nil, fmt.Errorf("PORTRAIT_DATABASE_URL: want postgres://… or sqlite:<path>, got %q", u)
	}
	if err != nil {
		return nil, err
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return s, nil
}

func openSQLite(path string) (store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	return sqlite.Open(path)
}

// openBucket opens the object storage that cfg.StorageURL names — S3 for
// s3:// URLs, else a local folder (<data dir>/bucket by default, apart
// from the database and the secret).
func openBucket(ctx context.Context, cfg *config) (portrait.Bucket, error) {
	switch u := cfg.StorageURL; {
	case strings.HasPrefix(u, "s3://"):
		return s3.Open(ctx, u)
	case u == "":
		return localfs.Open(filepath.Join(cfg.DataDir, "bucket"))
	case strings.HasPrefix(u, "file://"):
		return localfs.Open(strings.TrimPrefix(u, "file://"))
	default:
		return nil, fmt.Errorf("PORTRAIT_STORAGE_URL: want s3://… or file://<folder>, got %q", u)
	}
}

// shared reports whether the database may be shared by several nodes, which
// then must share their configuration instead of the data dir.
func (c *config) shared() bool {
	return c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "sqlite:")
}

// tokenIssuer returns the JWT issuer, nil with local accounts off. Without
// a configured secret, an embedded deployment generates one into the data
// dir once (so restarts keep sessions); a shared database requires the
// secret to be configured.
func tokenIssuer(cfg *config, log *slog.Logger) (*jwt.Issuer, error) {
	if !cfg.LocalAccounts {
		return nil, nil // no token of Portrait's own is issued nor accepted
	}
	secret := []byte(cfg.JWTSecret)
	if len(secret) == 0 {
		if cfg.shared() {
			return nil, errors.New("PORTRAIT_JWT_SECRET is required when the database is shared by several nodes")
		}
		var err error
		if secret, err = loadOrCreateSecret(filepath.Join(cfg.DataDir, "jwt-secret")); err != nil {
			return nil, err
		}
		log.Warn("PORTRAIT_JWT_SECRET is not set; using the secret kept in the data dir (fine for one machine, not for several)")
	}
	return jwt.New(secret, cfg.TokenTTL, 30*time.Second, cfg.previousSecrets()...)
}

func loadOrCreateSecret(path string) ([]byte, error) {
	if b, err := os.ReadFile(path); err == nil {
		return []byte(strings.TrimSpace(string(b))), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	b := make([]byte, 32)
	rand.Read(b)
	if err := writeNew(path, hex.EncodeToString(b)+"\n"); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, err
	}
	return loadOrCreateSecret(path) // ours, or the one of a process that won the race
}

// writeNew writes a complete file at path, or fails with os.ErrExist if
// path exists: it never shows a partly written file.
func writeNew(path, content string) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	_, err = f.WriteString(content)
	if err = errors.Join(err, f.Sync(), f.Close()); err != nil {
		return err
	}
	return os.Link(f.Name(), path)
}

// rateLimits returns where the rate limits are counted: nil (each node's
// memory) for --rate-limit-store=memory, and for auto with SQLite; the
// database for database, and for auto with PostgreSQL, so that N nodes
// sharing it give a client one allowance, not N.
func (a *app) rateLimits() (portrait.RateLimits, error) {
	shared, ok := a.raw.(interface {
		RateLimits(name string, perMinute int) portrait.RateLimiter
	})
	switch a.cfg.RateLimitStore {
	case "memory":
		return nil, nil
	case "auto":
		if ok && a.cfg.shared() {
			return bulkhead.WrapLimits(shared.RateLimits, a.dbGate), nil
		}
		return nil, nil
	case "database":
		if ok {
			return bulkhead.WrapLimits(shared.RateLimits, a.dbGate), nil
		}
		return nil, errors.New("--rate-limit-store=database needs PostgreSQL (--database-url postgres://…)")
	}
	return nil, fmt.Errorf("--rate-limit-store: want memory, database or auto, got %q", a.cfg.RateLimitStore)
}

// dataDirName returns the data dir's absolute path, for logs.
func (c *config) dataDirName() string {
	return absPath(c.DataDir)
}

// databaseName returns where the database is, for logs and messages: the
// SQLite file as sqlite:<absolute path>, or the PostgreSQL URL with its
// password and any secret parameter redacted.
func (c *config) databaseName() string {
	switch u := c.DatabaseURL; {
	case u == "":
		return "sqlite:" + absPath(filepath.Join(c.DataDir, "portrait.db"))
	case strings.HasPrefix(u, "sqlite:"):
		return "sqlite:" + absPath(strings.TrimPrefix(strings.TrimPrefix(u, "sqlite:"), "//"))
	default:
		return redactURL(u)
	}
}

// storageName returns where the images are, for logs: the local folder as
// file://<absolute path>, or the S3 URL with any credential redacted; the
// images are under profileImages/ there.
func (c *config) storageName() string {
	switch u := c.StorageURL; {
	case u == "":
		return "file://" + absPath(filepath.Join(c.DataDir, "bucket"))
	case strings.HasPrefix(u, "file://"):
		return "file://" + absPath(strings.TrimPrefix(u, "file://"))
	default:
		return redactURL(u)
	}
}

// absPath returns p made absolute, or p if that fails.
func absPath(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}

// redactURL returns raw with the password of its user info, the values of
// query parameters that hold secrets (password, sslpassword, secret…),
// and the same in any URL given as a parameter (an S3 endpoint) replaced
// by xxxxx. A URL that does not parse is not shown at all: it may hold a
// secret where redactURL cannot find it.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(a URL that does not parse)"
	}
	q := u.Query()
	for name, values := range q {
		for i, v := range values {
			switch n := strings.ToLower(name); {
			case strings.Contains(n, "password"), strings.Contains(n, "secret"), strings.Contains(n, "token"):
				values[i] = "xxxxx"
			case strings.Contains(v, "://"):
				values[i] = redactURL(v)
			}
		}
	}
	if len(q) > 0 {
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}
