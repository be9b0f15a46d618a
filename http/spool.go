package http

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"golang.org/x/sync/semaphore"

	"github.com/portraitsvc/portrait"
)

// spoolRetryAfter is the Retry-After, in seconds, of an upload refused
// for want of spool space: uploads in flight finish or time out by then.
const spoolRetryAfter = 10

// spool bounds the bytes of all the uploads being received at once, so
// that stalled or slow uploads cannot fill the disk: each upload reserves
// space as its file grows and returns it when the file is removed.
type spool struct {
	dir   string
	limit int64
	space *semaphore.Weighted // nil: no bound
}

// newSpool returns the spool of files in dir ("" = os.TempDir()) that may
// hold limit bytes in all (limit <= 0: no bound but the disk's).
func newSpool(dir string, limit int64) *spool {
	s := &spool{dir: dir, limit: limit}
	if limit > 0 {
		s.space = semaphore.NewWeighted(limit)
	}
	return s
}

// spoolFile is one upload's temporary file.
type spoolFile struct {
	*os.File
	spool    *spool
	reserved int64
}

// create creates a new, empty spool file.
func (s *spool) create() (*spoolFile, error) {
	f, err := os.CreateTemp(s.dir, "upload-*")
	if err != nil {
		return nil, spoolError(err)
	}
	return &spoolFile{File: f, spool: s}, nil
}

// Write reserves len(p) bytes of the spool, then writes p. A full spool
// or a full disk fails with EUNAVAILABLE, whose cause is logged; any other
// failure is an internal error. Either wraps errSpool.
func (f *spoolFile) Write(p []byte) (int, error) {
	if sp := f.spool.space; sp != nil {
		if !sp.TryAcquire(int64(len(p))) {
			return 0, spoolError(&spoolFull{f.spool.limit})
		}
		f.reserved += int64(len(p))
	}
	n, err := f.File.Write(p)
	if err != nil {
		return n, spoolError(err)
	}
	return n, nil
}

// remove closes and deletes the file, and returns its space to the spool.
func (f *spoolFile) remove() {
	f.Close()
	os.Remove(f.Name())
	if f.spool.space != nil {
		f.spool.space.Release(f.reserved)
		f.reserved = 0
	}
}

// errSpool marks the errors of writing to the spool, as opposed to those
// of reading the request.
var errSpool = errors.New("spool")

// spoolError wraps an error of the spool: its bound reached, or a disk
// or quota full (cause from the OS), is the 503 EUNAVAILABLE with
// Retry-After, whose message is the client's and whose cause is logged;
// anything else is an internal error.
func spoolError(cause error) error {
	var full *spoolFull
	if !errors.As(cause, &full) && !errors.Is(cause, syscall.ENOSPC) && !errors.Is(cause, syscall.EDQUOT) {
		return fmt.Errorf("%w: %w", errSpool, cause)
	}
	e := &portrait.Error{Code: portrait.EUNAVAILABLE, RetryAfter: spoolRetryAfter,
		Message: "The server has no room to receive this upload right now. Please try again shortly."}
	return fmt.Errorf("%w: %w: %w", e, errSpool, cause)
}

// spoolFull is the cause of an upload refused because the spool's bound
// is reached.
type spoolFull struct{ limit int64 }

func (s *spoolFull) Error() string {
	return fmt.Sprintf("upload spool full: at most %d bytes of uploads may be received at once (--spool-bytes)", s.limit)
}

// ReadFrom copies r into the file through Write, so that every byte is
// reserved (os.File's own ReadFrom would bypass it).
func (f *spoolFile) ReadFrom(r io.Reader) (int64, error) {
	return io.Copy(struct{ io.Writer }{f}, r)
}
