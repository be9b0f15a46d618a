package pgtest

import (
	"context"
	"strings"
	"testing"

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
