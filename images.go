package portrait

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"
)

// Images replaces and removes profile images so that a user never loses a
// current image and no stored object is forgotten:
//
//  1. the new image is written under a fresh key (never overwriting);
//  2. one transaction points the user at it and records the previous key
//     as a pending deletion;
//  3. after the commit the previous object is deleted and forgotten.
//
// A failure before the commit removes the new object and keeps the old
// image; a failure to delete the previous object leaves it pending, to be
// retried by RetryDeletions. Objects orphaned by a crash between 1 and 2
// are found by Sweep.
type Images struct {
	Users  UserStore
	Bucket Bucket
	Log    *slog.Logger
	// CleanupTimeout bounds the deletions made after a request's own
	// context may have ended. Default 30 s.
	CleanupTimeout time.Duration
	// Now returns the current time; tests replace it.
	Now func() time.Time
}

// NewImageKey returns a fresh bucket key for an image of the user:
// profileImages/<user id>/<content hash>-<random>.<ext>. The hash names the
// content; the random part makes every upload's key unique, so an object is
// never overwritten and a URL never changes content.
func NewImageKey(userID string, data []byte, ext string) string {
	sum := sha256.Sum256(data)
	nonce := make([]byte, 5)
	rand.Read(nonce)
	return fmt.Sprintf("%s%s/%s-%s.%s", ImagePrefix, userID, hex.EncodeToString(sum[:12]), hex.EncodeToString(nonce), ext)
}

// Replace stores data as the user's new profile image and deletes the
// previous one. It returns the updated user, or ENOTFOUND if the user does
// not exist; on any error the user's previous image is kept.
func (s *Images) Replace(ctx context.Context, userID string, data []byte, contentType, ext string) (*User, error) {
	key := NewImageKey(userID, data, ext)
	if err := s.Bucket.Put(ctx, key, bytes.NewReader(data), int64(len(data)), contentType); err != nil {
		s.discard(ctx, key)
		return nil, fmt.Errorf("store image: %w", err)
	}
	u, previous, err := s.Users.SetImage(ctx, userID, key)
	if err != nil {
		s.discard(ctx, key)
		return nil, err
	}
	s.deleteObject(ctx, previous)
	return u, nil
}

// Remove deletes the user's profile image, if any, and returns the updated
// user, or ENOTFOUND.
func (s *Images) Remove(ctx context.Context, userID string) (*User, error) {
	u, previous, err := s.Users.SetImage(ctx, userID, "")
	if err != nil {
		return nil, err
	}
	s.deleteObject(ctx, previous)
	return u, nil
}

// discard deletes a new object whose commit failed, unless the user row
// does point at it after all (a commit can fail after it took effect, e.g.
// when the connection drops): when in doubt the object is kept, and Sweep
// removes it later if it turns out to be unreferenced.
func (s *Images) discard(ctx context.Context, key string) {
	ctx, cancel := s.cleanupContext(ctx)
	defer cancel()
	referenced, err := s.Users.ImageReferenced(ctx, key)
	if err != nil || referenced {
		s.log().Warn("new image kept after a failed replace", "key", key, "referenced", referenced, "err", err)
		return
	}
	if err := s.Bucket.Delete(ctx, key); err != nil {
		s.log().Warn("could not delete the new image of a failed replace; the sweeper will", "key", key, "err", err)
	}
}

// deleteObject deletes a previous image that SetImage recorded as pending
// and forgets the record. On failure the record stays for RetryDeletions.
func (s *Images) deleteObject(ctx context.Context, key string) {
	if key == "" {
		return
	}
	ctx, cancel := s.cleanupContext(ctx)
	defer cancel()
	if err := s.Bucket.Delete(ctx, key); err != nil {
		s.log().Warn("previous image not deleted; will retry", "key", key, "err", err)
		return
	}
	if err := s.Users.DeletionDone(ctx, key); err != nil {
		s.log().Warn("deleted image still recorded as pending", "key", key, "err", err)
	}
}

// cleanupContext detaches cleanup from the request's cancellation (a client
// that hangs up must not stop it) but bounds it in time.
func (s *Images) cleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	d := s.CleanupTimeout
	if d <= 0 {
		d = 30 * time.Second
	}
	return context.WithTimeout(context.WithoutCancel(ctx), d)
}

// RetryDeletions deletes up to limit pending objects recorded at least age
// ago. A key that a user references again is forgotten without deleting
// it. It returns how many objects it deleted and the first error met; it
// goes on past errors.
func (s *Images) RetryDeletions(ctx context.Context, age time.Duration, limit int) (deleted int, err error) {
	keys, err := s.Users.PendingDeletions(ctx, s.now().Add(-age), limit)
	if err != nil {
		return 0, err
	}
	for _, key := range keys {
		done, kerr := s.retryDeletion(ctx, key)
		if done {
			deleted++
		}
		if kerr != nil && err == nil {
			err = kerr
		}
	}
	return deleted, err
}

func (s *Images) retryDeletion(ctx context.Context, key string) (deleted bool, err error) {
	referenced, err := s.Users.ImageReferenced(ctx, key)
	if err != nil {
		return false, err
	}
	if !referenced {
		if err := s.Bucket.Delete(ctx, key); err != nil {
			return false, err
		}
	}
	return !referenced, s.Users.DeletionDone(ctx, key)
}

func (s *Images) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Images) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// SweepReport says what one Sweep did.
type SweepReport struct {
	Scanned  int `json:"scanned"`  // objects listed
	Orphans  int `json:"orphans"`  // unreferenced and older than the grace period
	Deleted  int `json:"deleted"`  // orphans deleted
	Retried  int `json:"retried"`  // pending deletions completed
	Failures int `json:"failures"` // deletions that failed and will be tried again
}

// Sweep deletes every stored image that no user references and that is
// older than grace, then retries all pending deletions. grace must exceed
// the longest an upload can take between writing its object and committing
// it (a key is referenced only by the request that wrote it), so an object
// old enough to be swept can never become referenced. Several nodes may
// sweep at once: every step is idempotent.
func (s *Images) Sweep(ctx context.Context, grace time.Duration) (SweepReport, error) {
	var rep SweepReport
	cutoff := s.now().Add(-grace)
	err := s.Bucket.List(ctx, ImagePrefix, func(o ObjectInfo) error {
		rep.Scanned++
		if !o.ModTime.Before(cutoff) {
			return nil
		}
		referenced, err := s.Users.ImageReferenced(ctx, o.Key)
		if err != nil || referenced {
			return err
		}
		rep.Orphans++
		if err := s.Bucket.Delete(ctx, o.Key); err != nil {
			rep.Failures++
			s.log().Warn("orphaned image not deleted", "key", o.Key, "err", err)
			return nil
		}
		rep.Deleted++
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("sweep: %w", err)
	}
	rep.Retried, err = s.RetryDeletions(ctx, 0, 10_000)
	if err != nil {
		rep.Failures++
	}
	return rep, err
}
