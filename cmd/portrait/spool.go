package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// tempDir creates and returns this process's folder of uploads being
// received, <data dir>/tmp/<pid>-<random>, which serve removes when it
// exits, after removing what crashed processes left: the folders of
// processes that are gone, and files no request can still be using (older
// than the longest a request may take).
func (a *app) tempDir() (string, error) {
	dir, err := a.cleanTemps()
	if err != nil {
		return "", err
	}
	return os.MkdirTemp(dir, fmt.Sprintf("%d-", os.Getpid()))
}

// cleanTemps removes what crashed processes left in <data dir>/tmp (see
// tempDir), creating the folder if need be, and returns its path.
func (a *app) cleanTemps() (string, error) {
	dir := filepath.Join(a.cfg.DataDir, "tmp")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	removeStaleTemps(dir, time.Now().Add(-2*a.cfg.ReadTimeout-a.cfg.DecodeWait-a.cfg.DecodeTimeout-time.Minute))
	return dir, nil
}

// removeStaleTemps removes, under dir, the folders of processes that are
// gone (named <pid>-…) and the files older than cutoff.
func removeStaleTemps(dir string, cutoff time.Time) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		switch info, err := e.Info(); {
		case err != nil:
		case e.IsDir() && processGone(e.Name()):
			os.RemoveAll(p)
		case e.IsDir():
			removeStaleTemps(p, cutoff)
		case info.Mode().IsRegular() && info.ModTime().Before(cutoff):
			os.Remove(p)
		}
	}
}

// processGone reports whether the folder name <pid>-… belongs to a process
// that no longer runs. A name without a pid, or a process that exists but
// cannot be signalled (another user's), is not gone.
func processGone(name string) bool {
	before, _, _ := strings.Cut(name, "-")
	pid, err := strconv.Atoi(before)
	if err != nil || pid <= 0 {
		return false
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return true
	}
	return errors.Is(p.Signal(syscall.Signal(0)), os.ErrProcessDone)
}

// spoolBytes returns the bound on the bytes of uploads being received at
// once in dir: --spool-bytes if set above zero; none if below; by default
// half of the space free in dir's file system when the server starts, so
// that uploads alone can never fill the disk that the database (embedded
// setup) and the system share.
func (c *config) spoolBytes(dir string, log *slog.Logger) int64 {
	switch {
	case c.SpoolBytes > 0:
		return c.SpoolBytes
	case c.SpoolBytes < 0:
		return 0
	}
	free, err := freeBytes(dir)
	if err != nil {
		log.Warn("cannot read the free space of the upload folder; uploads are bounded by the disk alone", "dir", dir, "err", err)
		return 0
	}
	limit := free / 2
	log.Info("upload spool bounded", "dir", dir, "free_bytes", free, "spool_bytes", limit)
	return limit
}
