// Package localfs implements portrait.Bucket on a folder of the local file
// system. Every file operation goes through an os.Root, so no key can reach
// a file outside the folder.
package localfs

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"

	"github.com/portraitsvc/portrait"
)

var _ portrait.Bucket = (*Bucket)(nil)

// Bucket stores each object as a file named by its key under a root folder:
// key "profileImages/u1/a.jpg" is the file <dir>/profileImages/u1/a.jpg.
//
// A valid key is a slash-separated relative path whose segments are not
// empty, do not start with "." (so ".", ".." and the hidden temp files of
// Put are never keys) and contain no backslash or NUL byte.
//
// Objects carry no metadata of their own: the content type is derived from
// the key's extension and the ETag from the file's name, size and
// modification time (see objectInfo for why this is a strong validator).
type Bucket struct {
	root *os.Root
}

// Open returns a Bucket on dir, creating dir (and its parents) if needed.
func Open(dir string) (*Bucket, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("localfs: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("localfs: %w", err)
	}
	return &Bucket{root: root}, nil
}

// Close releases the folder. The Bucket must not be used afterwards.
func (b *Bucket) Close() error { return b.root.Close() }

// Open returns the object's file and its info. It returns ENOTFOUND for an
// invalid key, a missing file or a directory. The caller closes the file.
func (b *Bucket) Open(ctx context.Context, key string) (io.ReadSeekCloser, portrait.ObjectInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, portrait.ObjectInfo{}, err
	}
	if !validKey(key) {
		return nil, portrait.ObjectInfo{}, errNotFound()
	}
	f, err := b.root.Open(key)
	if isNotExist(err) {
		return nil, portrait.ObjectInfo{}, errNotFound()
	} else if err != nil {
		return nil, portrait.ObjectInfo{}, classify(fmt.Errorf("localfs: %w", err))
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		f.Close()
		if err != nil {
			return nil, portrait.ObjectInfo{}, classify(fmt.Errorf("localfs: %w", err))
		}
		return nil, portrait.ObjectInfo{}, errNotFound()
	}
	return f, objectInfo(key, fi), nil
}

// Delete removes the objects' files, then the folders above them that this
// leaves empty, except the top one (such as "profileImages"). A missing
// key, or one that names a folder, is not an error; an invalid key is
// EINVALID, and stops Delete there.
func (b *Bucket) Delete(ctx context.Context, keys ...string) error {
	for _, key := range keys {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := b.delete(key); err != nil {
			return classify(err)
		}
	}
	return nil
}

// Ping reports whether the folder can be written: it writes, syncs and
// removes a hidden temp file, which fails on a full or read-only disk.
func (b *Bucket) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	name := ".ping.tmp-" + randomSuffix()
	f, err := b.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return classify(fmt.Errorf("localfs: ping: %w", err))
	}
	defer b.root.Remove(name)
	_, err = f.Write([]byte{0})
	if err = errors.Join(err, f.Sync(), f.Close()); err != nil {
		return classify(fmt.Errorf("localfs: ping: %w", err))
	}
	return nil
}

// delete removes the file of key and the folders it leaves empty.
func (b *Bucket) delete(key string) error {
	if !validKey(key) {
		return errInvalidKey(key)
	}
	fi, err := b.root.Lstat(key)
	if isNotExist(err) || (err == nil && fi.IsDir()) {
		return nil
	} else if err != nil {
		return fmt.Errorf("localfs: %w", err)
	}
	if err := b.root.Remove(key); err != nil && !isNotExist(err) {
		return fmt.Errorf("localfs: %w", err)
	}
	b.removeEmptyParents(key)
	return nil
}

// removeEmptyParents removes the folders above key, except the top one,
// while they are empty. Removing a folder that is not empty fails
// harmlessly, and a concurrent Put whose new folder is removed before it
// creates its temp file there makes the folder again (see createTemp).
func (b *Bucket) removeEmptyParents(key string) {
	for dir := path.Dir(key); strings.Contains(dir, "/"); dir = path.Dir(dir) {
		if b.root.Remove(dir) != nil {
			return
		}
	}
}

// objectInfo describes the file fi of key.
//
// The ETag is a hash of the key, size and nanosecond modification time: no
// read of the file, unlike a content hash, which List would pay for every
// object. It is strong because Portrait's keys are unique per content and
// never overwritten, so the key alone identifies the bytes; size and time
// keep it changing even if a key were overwritten, since Put replaces a
// file by a newly written, renamed one.
func objectInfo(key string, fi fs.FileInfo) portrait.ObjectInfo {
	h := sha256.Sum256(fmt.Appendf(nil, "%s\x00%d\x00%d", key, fi.Size(), fi.ModTime().UnixNano()))
	return portrait.ObjectInfo{
		Key:         key,
		Size:        fi.Size(),
		ContentType: portrait.ContentTypeOf(key),
		ModTime:     fi.ModTime(),
		ETag:        `"` + hex.EncodeToString(h[:16]) + `"`,
	}
}

// validKey reports whether key is a valid key (see Bucket).
func validKey(key string) bool {
	if key == "" || strings.ContainsAny(key, "\\\x00") {
		return false
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" || seg[0] == '.' {
			return false
		}
	}
	return true
}

// classify returns err as EUNAVAILABLE if it says the disk cannot be used
// now (full, over quota, read-only, failing), and unchanged otherwise.
func classify(err error) error {
	for _, errno := range []syscall.Errno{syscall.ENOSPC, syscall.EDQUOT, syscall.EROFS, syscall.EIO} {
		if errors.Is(err, errno) {
			return portrait.Unavailable("storage", err)
		}
	}
	return err
}

// isNotExist reports whether err says that a file, or a folder on its path,
// does not exist.
func isNotExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

func errNotFound() error { return portrait.Errorf(portrait.ENOTFOUND, "Image not found.") }

func errInvalidKey(key string) error {
	return portrait.Errorf(portrait.EINVALID, "Invalid storage key %q.", key)
}

func errInvalidSize(size int64) error {
	return portrait.Errorf(portrait.EINVALID, "Invalid object size %d.", size)
}

// randomSuffix returns 16 random hex digits.
func randomSuffix() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
