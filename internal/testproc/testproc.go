// Package testproc helps tests run programs of their own: a log that many
// goroutines may write, and Go programs built once per test binary.
package testproc

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// Log is a goroutine-safe sink for a process's output.
type Log struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String returns everything written.
func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Tail returns the last n bytes written, marked "…" when cut.
func (l *Log) Tail(n int) string {
	s := l.String()
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// Binary is a Go program built at most once per test binary, with cgo
// off as Portrait ships; Remove deletes it.
type Binary struct {
	Package string // import path or directory, as go build takes it
	Name    string

	once sync.Once
	path string
	err  error
}

// Path builds the program on the first call and returns its path.
func (b *Binary) Path() (string, error) {
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "portrait-"+b.Name+"-")
		if err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(dir, b.Name)
		cmd := exec.Command("go", "build", "-o", b.path, b.Package)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build %s: %v\n%s", b.Package, err, out)
		}
	})
	return b.path, b.err
}

// Build is Path for a test: it fails tb if the program does not build.
func (b *Binary) Build(tb testing.TB) string {
	tb.Helper()
	path, err := b.Path()
	if err != nil {
		tb.Fatal(err)
	}
	return path
}

// Remove deletes the program built, if any.
func (b *Binary) Remove() {
	if b.path != "" {
		os.RemoveAll(filepath.Dir(b.path))
	}
}
