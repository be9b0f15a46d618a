package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY returns the two ends of a new pseudo-terminal, or skips the test
// where there is none.
func openPTY(t *testing.T) (term, tty *os.File) {
	t.Helper()
	term, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal to run `portrait load` on: %v", err)
	}
	t.Cleanup(func() { term.Close() })
	n, err := unix.IoctlGetInt(int(term.Fd()), unix.TIOCGPTN)
	if err == nil {
		err = unix.IoctlSetPointerInt(int(term.Fd()), unix.TIOCSPTLCK, 0)
	}
	if err == nil {
		tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	}
	if err != nil {
		t.Skipf("no pseudo-terminal to run `portrait load` on: %v", err)
	}
	t.Cleanup(func() { tty.Close() })
	return term, tty
}

// TestLoadShowsProgressOnATerminal: with stderr a terminal, `portrait
// load` rewrites a progress line while it runs.
func TestLoadShowsProgressOnATerminal(t *testing.T) {
	term, tty := openPTY(t)
	var screen bytes.Buffer
	var wg sync.WaitGroup
	wg.Go(func() { io.Copy(&screen, term) })
	s := startServer(t, map[string]string{"PORTRAIT_UPLOAD_PER_MINUTE": "0"})
	args := []string{"load", "--url", s.base, "--duration", "1500ms", "--users", "1", "--concurrency", "2", "--width", "64", "--height", "64"}
	var stdout bytes.Buffer
	if err := run(t.Context(), args, func(string) string { return "" }, &stdout, tty); err != nil {
		t.Fatalf("load: %v\n%s", err, &stdout)
	}
	tty.Close()
	term.SetReadDeadline(time.Now().Add(5 * time.Second))
	wg.Wait()
	if n := strings.Count(screen.String(), "\r\x1b[K"); n < 2 || !strings.Contains(screen.String(), "answered 200") {
		t.Fatalf("the terminal showed %d progress lines: %q", n, &screen)
	}
}
