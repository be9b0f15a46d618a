package pgtest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestURL checks that the URL alone selects a new schema of its own, and
// that the schema is dropped when the test ends.
func TestURL(t *testing.T) {
	var schemas []string
	for _, name := range []string{"a", "b"} {
		t.Run(name, func(t *testing.T) {
			schemas = append(schemas, currentSchema(t, URL(t)))
		})
	}
	if schemas[0] == schemas[1] || !strings.HasPrefix(schemas[0], "portrait_test_") {
		t.Errorf("schemas = %q, want two different portrait_test_ ones", schemas)
	}
	conn := mustConnect(t, baseURL())
	var left int
	err := conn.QueryRow(t.Context(), `SELECT count(*) FROM pg_namespace WHERE nspname = ANY($1)`, schemas).Scan(&left)
	if err != nil || left != 0 {
		t.Errorf("%d of the schemas left after their tests, %v", left, err)
	}
}

// currentSchema returns the schema that tables made through url go to.
func currentSchema(t *testing.T, url string) string {
	var schema string
	if err := mustConnect(t, url).QueryRow(t.Context(), `SELECT current_schema()`).Scan(&schema); err != nil {
		t.Fatal(err)
	}
	return schema
}

func mustConnect(t *testing.T, url string) *pgx.Conn {
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// TestServer checks the server of a test's own: a frozen one does not
// answer, a thawed one does again, and one killed and started again keeps
// its data.
func TestServer(t *testing.T) {
	s := NewServer(t, "max_connections=12")
	conn := mustConnect(t, s.URL())
	if _, err := conn.Exec(t.Context(), `CREATE TABLE kept (v int); INSERT INTO kept VALUES (7)`); err != nil {
		t.Fatal(err)
	}
	s.Freeze()
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	_, err := conn.Exec(ctx, `SELECT 1`)
	cancel()
	s.Thaw()
	if err == nil {
		t.Fatal("a frozen server answered")
	}
	s.Kill()
	s.Start()
	var v int
	if err := mustConnect(t, s.URL()).QueryRow(t.Context(), `SELECT v FROM kept`).Scan(&v); err != nil || v != 7 {
		t.Fatalf("after kill and start: %d, %v; want the committed 7", v, err)
	}
	var max string
	mustConnect(t, s.URL()).QueryRow(t.Context(), `SHOW max_connections`).Scan(&max)
	if max != "12" {
		t.Errorf("max_connections = %s, want the setting given, 12", max)
	}
}
