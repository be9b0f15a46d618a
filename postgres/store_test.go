package postgres_test

import (
	"context"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/portraitsvc/portrait"
	"github.com/portraitsvc/portrait/postgres"
	"github.com/portraitsvc/portrait/postgres/pgtest"
	"github.com/portraitsvc/portrait/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) portrait.UserStore {
		s := mustOpen(t, pgtest.URL(t))
		mustMigrate(t, s)
		return s
	})
}

// TestMigrateConcurrently migrates one schema from two stores at once, as
// two server processes starting together would.
func TestMigrateConcurrently(t *testing.T) {
	url := pgtest.URL(t)
	a, b := mustOpen(t, url), mustOpen(t, url)
	var wg sync.WaitGroup
	for _, s := range []*postgres.Store{a, b} {
		wg.Go(func() { mustMigrate(t, s) })
	}
	wg.Wait()
	mustMigrate(t, a)
	assertSchema(t, url)
	if err := a.CreateUser(t.Context(), &portrait.User{ID: "u1", Email: "a@example.com"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.UserByEmail(t.Context(), "A@example.com"); err != nil {
		t.Fatalf("second store does not see the first's user: %v", err)
	}
}

// assertSchema checks, on a connection of its own, that the URL's schema
// holds the tables and records each migration once, the first being 1.
func assertSchema(t *testing.T, url string) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var versions []int64
	rows, _ := conn.Query(t.Context(), `SELECT version FROM schema_migrations ORDER BY version`)
	if versions, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil || len(versions) == 0 || versions[0] != 1 || !slices.IsSorted(versions) || len(slices.Compact(slices.Clone(versions))) != len(versions) {
		t.Errorf("schema_migrations = %v, %v; want each migration once, from 1", versions, err)
	}
	var tables int
	err = conn.QueryRow(t.Context(), `SELECT count(*) FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_name IN ('users', 'pending_deletions')`).Scan(&tables)
	if err != nil || tables != 2 {
		t.Errorf("found %d of the 2 tables in the current schema, %v", tables, err)
	}
}

// TestOpenUnreachable checks that Open fails promptly when no server
// answers: at once on a closed port, and after the connect timeout (the
// URL's, or the 5-second default) on a server that accepts connections but
// never speaks.
func TestOpenUnreachable(t *testing.T) {
	silent := silentServer(t)
	for url, within := range map[string]time.Duration{
		"postgres://postgres@127.0.0.1:1/test?sslmode=disable":                      2 * time.Second,
		"postgres://postgres@" + silent + "/test?sslmode=disable&connect_timeout=1": 3 * time.Second,
		"postgres://postgres@" + silent + "/test?sslmode=disable":                   8 * time.Second,
	} {
		start := time.Now()
		s, err := postgres.Open(t.Context(), url)
		if err == nil {
			s.Close()
			t.Errorf("Open(%s) succeeded", url)
		}
		if elapsed := time.Since(start); elapsed > within {
			t.Errorf("Open(%s) took %v, want at most %v", url, elapsed, within)
		}
	}
}

// silentServer returns the address of a TCP server that accepts
// connections and never answers, until the test ends.
func silentServer(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close() // when the listener closes

		}
	}()
	return l.Addr().String()
}

// TestTimes checks that times from the store's clock, whatever their zone,
// come back in UTC, truncated to the microsecond.
func TestTimes(t *testing.T) {
	s := mustOpen(t, pgtest.URL(t))
	mustMigrate(t, s)
	now := time.Date(2031, 2, 3, 4, 5, 6, 789123456, time.FixedZone("X", 5*3600))
	s.Now = func() time.Time { return now }
	u := &portrait.User{ID: "u1", Email: "a@example.com"}
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	got, err := s.UserByID(t.Context(), "u1")
	if err != nil {
		t.Fatal(err)
	}
	want := now.UTC().Truncate(time.Microsecond)
	if got.CreatedAt != want || got.UpdatedAt != want || u.CreatedAt != want {
		t.Errorf("times = %v, %v (set %v); want %v", got.CreatedAt, got.UpdatedAt, u.CreatedAt, want)
	}
}

func mustOpen(tb testing.TB, url string) *postgres.Store {
	tb.Helper()
	s, err := postgres.Open(tb.Context(), url)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func mustMigrate(tb testing.TB, s *postgres.Store) {
	tb.Helper()
	if err := s.Migrate(tb.Context()); err != nil {
		tb.Errorf("Migrate: %v", err)
	}
}
