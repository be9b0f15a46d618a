// Package pgtest gives tests a PostgreSQL database of their own: a new
// schema, selected by the search_path of the URL it returns, and dropped
// when the test ends. Several stores, or several server processes, given
// the same URL share that schema.
package pgtest

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultURL is the server tests use when PORTRAIT_TEST_DATABASE_URL is
// not set.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// connectTimeout bounds every connection this package makes.
const connectTimeout = 5 * time.Second

// URL creates an empty schema on the server at PORTRAIT_TEST_DATABASE_URL
// (or DefaultURL) and returns a connection URL whose search_path selects
// it. The schema and everything in it is dropped when the test ends, after
// the cleanups registered later (closing stores) have run.
//
// If the server cannot be reached, the test is skipped, unless the
// environment has CI=true: there it fails, so that CI cannot pass without
// exercising PostgreSQL.
func URL(tb testing.TB) string {
	tb.Helper()
	base := baseURL()
	conn := connect(tb, base)
	defer conn.Close(context.Background())
	schema := "portrait_test_" + strings.ToLower(rand.Text()[:16])
	if _, err := conn.Exec(tb.Context(), "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		tb.Fatalf("pgtest: create schema: %v", err)
	}
	tb.Cleanup(func() { dropSchema(tb, base, schema) })
	u, err := withSearchPath(base, schema)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	return u
}

// baseURL returns the URL of the test server.
func baseURL() string {
	if u := os.Getenv("PORTRAIT_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// connect connects to base, or skips (fails under CI=true) the test.
func connect(tb testing.TB, base string) *pgx.Conn {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err == nil {
		return conn
	}
	msg := fmt.Sprintf("PostgreSQL not reachable at %s: %v; set PORTRAIT_TEST_DATABASE_URL", redact(base), err)
	if os.Getenv("CI") == "true" {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
	return nil
}

// dropSchema drops schema and everything in it.
func dropSchema(tb testing.TB, base, schema string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Errorf("pgtest: drop schema %s: %v", schema, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
		tb.Errorf("pgtest: drop schema %s: %v", schema, err)
	}
}

// withSearchPath returns base with its search_path set to schema. pgx
// sends the parameters it does not know, search_path among them, to the
// server as run-time parameters of every connection. base is a URL or a
// keyword/value connection string.
func withSearchPath(base, schema string) (string, error) {
	if !strings.HasPrefix(base, "postgres://") && !strings.HasPrefix(base, "postgresql://") {
		return base + " search_path=" + schema, nil
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// redact returns base without its password, if it is a URL.
func redact(base string) string {
	if u, err := url.Parse(base); err == nil && u.Scheme != "" {
		return u.Redacted()
	}
	return base
}
