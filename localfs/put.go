package localfs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
)

// Put stores the size bytes of r as the object's file, replacing any. It
// writes them to a hidden temp file ".<name>.tmp-<random>" beside the
// object's file, fsyncs it, renames it into place and fsyncs the folders
// from the file's up to the root, so that the object appears complete or
// not at all. A failed or cancelled Put removes its temp file.
//
// contentType is not stored: Open and List derive it from the key's
// extension. An invalid key or a negative size is EINVALID; r ending before
// size bytes is an error.
func (b *Bucket) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	if !validKey(key) {
		return errInvalidKey(key)
	}
	if size < 0 {
		return errInvalidSize(size)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	tmp, f, err := b.createTemp(key)
	if err != nil {
		return classify(fmt.Errorf("localfs: put %s: %w", key, err))
	}
	err = writeTemp(ctx, f, r, size)
	if err == nil {
		err = b.root.Rename(tmp, key)
	}
	if err != nil {
		b.root.Remove(tmp)
		return classify(fmt.Errorf("localfs: put %s: %w", key, err))
	}
	return classify(b.syncParents(key))
}

// createTemp creates the folder of key and an empty temp file in it. As a
// concurrent Delete may remove the folder once it is empty, it tries again
// while the folder is missing, or vanished while MkdirAll made it (which
// then fails with "file exists").
func (b *Bucket) createTemp(key string) (tmp string, f *os.File, err error) {
	dir := path.Dir(key)
	for range 10 {
		tmp = path.Join(dir, "."+path.Base(key)+".tmp-"+randomSuffix())
		if err = b.root.MkdirAll(dir, 0o755); err == nil {
			f, err = b.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		}
		if !isNotExist(err) && !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	return tmp, f, err
}

// writeTemp copies size bytes of r to f, fsyncs and closes f. It fails if
// r ends early or ctx is done.
func writeTemp(ctx context.Context, f *os.File, r io.Reader, size int64) error {
	n, err := io.Copy(f, io.LimitReader(ctxReader{ctx, r}, size))
	if err == nil && n < size {
		err = fmt.Errorf("read %d of %d bytes: %w", n, size, io.ErrUnexpectedEOF)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = ctx.Err()
	}
	return err
}

// syncParents fsyncs the folders from key's up to the root, so that the
// new file's name, and any folder MkdirAll made for it, survive a crash. A
// folder removed meanwhile means the object was deleted: nothing to sync.
func (b *Bucket) syncParents(key string) error {
	dir := key
	for dir != "." {
		dir = path.Dir(dir)
		d, err := b.root.Open(dir)
		if isNotExist(err) {
			return nil
		} else if err != nil {
			return fmt.Errorf("localfs: put %s: %w", key, err)
		}
		err = d.Sync()
		d.Close()
		if err != nil {
			return fmt.Errorf("localfs: put %s: sync %s: %w", key, dir, err)
		}
	}
	return nil
}

// ctxReader reads from r until ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
