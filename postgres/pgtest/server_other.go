//go:build !linux

package pgtest

import "testing"

// Server is a PostgreSQL server of one test's own; only Linux has them.
type Server struct{}

// NewServer skips the test: only Linux runs servers of a test's own.
func NewServer(tb testing.TB, settings ...string) *Server {
	tb.Skip("pgtest: a PostgreSQL server of the test's own needs Linux")
	return nil
}

func (*Server) URL() string { return "" }
func (*Server) Start()      {}
func (*Server) Freeze()     {}
func (*Server) Thaw()       {}
func (*Server) Kill()       {}
