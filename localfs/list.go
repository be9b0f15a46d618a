package localfs

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"time"

	"github.com/portraitsvc/portrait"
)

// List calls fn for every object whose key starts with prefix, walking only
// the folder that prefix names up to its last slash. It skips folders,
// hidden files (among them Put's temp files), anything but regular files,
// and files removed during the walk. A prefix whose folder part is not a
// valid key is EINVALID.
//
// Temp files it passes that are older than staleTemp were abandoned by a
// Put that crashed (no Put lasts that long), and List removes them, so
// that periodic sweeps, which list, also clean up after crashes.
func (b *Bucket) List(ctx context.Context, prefix string, fn func(portrait.ObjectInfo) error) error {
	dir := "."
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		dir = prefix[:i]
		if !validKey(dir) {
			return portrait.Errorf(portrait.EINVALID, "Invalid storage prefix %q.", prefix)
		}
	}
	err := fs.WalkDir(b.root.FS(), dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return skipMissing(err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		return b.visit(dir, prefix, p, d, fn)
	})
	var fe fnError
	if errors.As(err, &fe) {
		return fe.err
	}
	return err
}

// visit handles the entry d at path p of a walk of dir for List. It skips
// the folders that cannot hold a key starting with prefix.
func (b *Bucket) visit(dir, prefix, p string, d fs.DirEntry, fn func(portrait.ObjectInfo) error) error {
	if p == dir {
		return nil
	}
	if d.IsDir() {
		if strings.HasPrefix(d.Name(), ".") || !couldHold(p+"/", prefix) {
			return fs.SkipDir
		}
		return nil
	}
	if isTemp(d.Name()) {
		b.removeIfStale(p)
		return nil
	}
	if strings.HasPrefix(d.Name(), ".") || !d.Type().IsRegular() || !strings.HasPrefix(p, prefix) {
		return nil
	}
	fi, err := b.root.Lstat(p)
	if err != nil || !fi.Mode().IsRegular() {
		return skipMissing(err)
	}
	if err := fn(objectInfo(p, fi)); err != nil {
		return fnError{err}
	}
	return nil
}

// staleTemp is the age past which a temp file is certainly abandoned.
const staleTemp = time.Hour

func isTemp(name string) bool { return strings.HasPrefix(name, ".") && strings.Contains(name, ".tmp-") }

func (b *Bucket) removeIfStale(p string) {
	if fi, err := b.root.Lstat(p); err == nil && time.Since(fi.ModTime()) > staleTemp {
		b.root.Remove(p)
	}
}

// couldHold reports whether the folder dir (ending in a slash) could hold
// a key starting with prefix.
func couldHold(dir, prefix string) bool {
	return strings.HasPrefix(dir, prefix) || strings.HasPrefix(prefix, dir)
}

// skipMissing returns nil for an error saying a file is missing, which
// means it was removed during the walk, and err otherwise.
func skipMissing(err error) error {
	if isNotExist(err) {
		return nil
	}
	return err
}

// fnError carries an error of List's fn through fs.WalkDir untouched, even
// fs.SkipDir or fs.SkipAll.
type fnError struct{ err error }

func (e fnError) Error() string { return e.err.Error() }
