package sqlite_test

import (
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/portraitsvc/portrait"
	"github.com/portraitsvc/portrait/sqlite"
	"github.com/portraitsvc/portrait/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) portrait.UserStore {
		return mustOpen(t, filepath.Join(t.TempDir(), "portrait.db"))
	})
}

// TestOpenConcurrently opens one file from two stores at once, as two
// processes starting together would: both migrate without error and share
// the data.
func TestOpenConcurrently(t *testing.T) {
	path := filepath.Join(t.TempDir(), "portrait.db")
	stores := make([]*sqlite.Store, 2)
	var wg sync.WaitGroup
	for i := range stores {
		wg.Go(func() { stores[i] = mustOpen(t, path) })
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	if err := stores[0].Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate again: %v", err)
	}
	if err := stores[0].CreateUser(t.Context(), &portrait.User{ID: "u1", Email: "a@example.com"}); err != nil {
		t.Fatal(err)
	}
	if _, err := stores[1].UserByEmail(t.Context(), "A@example.com"); err != nil {
		t.Fatalf("second store does not see the first's user: %v", err)
	}
}

// TestTimes checks that times from the store's clock, whatever their zone,
// come back in UTC, truncated to the microsecond.
func TestTimes(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "portrait.db"))
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

func TestOpenInvalidPath(t *testing.T) {
	for _, path := range []string{"", "a?b", filepath.Join(t.TempDir(), "missing", "portrait.db")} {
		if s, err := sqlite.Open(path); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", path)
		}
	}
}

func mustOpen(tb testing.TB, path string) *sqlite.Store {
	tb.Helper()
	s, err := sqlite.Open(path)
	if err != nil {
		tb.Fatalf("Open(%s): %v", path, err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}
