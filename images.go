package portrait

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/sync/errgroup"
)

// Images replaces and removes profile images so that a user never loses a
// current image and no stored object is forgotten. Every upload writes an
// image set of its own (NewImageSet), and the set is the unit of every
// step:
//
//  1. the upload is recorded (BeginUpload), then its objects are written
//     under the fresh set's prefix;
//  2. one transaction consumes the record, points the user at the set and
//     records the previous set as a pending deletion;
//  3. after the commit the previous set's objects are deleted and the
//     pending deletion forgotten.
//
// A failure before the commit removes the new objects and keeps the old
// image; a failure to delete the previous set leaves it pending, to be
// retried by RetryDeletions. Objects orphaned by a crash are found by
// Sweep, which is fenced against commits by the upload record: it deletes
// a set's objects only after ReleaseUpload has removed the record, after
// which the commit of that set fails. So no sweep, however it is
// configured and however slow a commit is, can delete an image that a
// user is then pointed at.
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

// Upload is what Replace stores: the objects of a new image set, the
// first being the image that profile_image names, and what a front-end
// shows while they load (see Image).
type Upload struct {
	Objects     []Object
	Placeholder string
	Color       string
}

// Object is one file of an image set.
type Object struct {
	Name        string // file name inside the set, such as "512.jpg"
	Side        int    // pixels a side
	Data        []byte
	ContentType string
}

// image returns the Image that up becomes once stored as set.
func (up Upload) image(set string) Image {
	img := Image{Set: set, Key: set + up.Objects[0].Name, Placeholder: up.Placeholder, Color: up.Color}
	for _, o := range up.Objects {
		img.Variants = append(img.Variants, Variant{Name: o.Name, Side: o.Side, ContentType: o.ContentType})
	}
	return img
}

// farFuture is a time after every upload record: releasing an upload
// recorded before it releases it whatever its age.
var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// putConcurrency bounds the objects of one set written at once.
const putConcurrency = 4

// Replace stores up as the user's new image set and deletes the previous
// set. It returns the updated user; ENOTFOUND if the user does not exist;
// EUPLOADEXPIRED if a sweep released the upload before it committed. On
// any error the user's previous image is kept.
func (s *Images) Replace(ctx context.Context, userID string, up Upload) (*User, error) {
	if len(up.Objects) == 0 {
		return nil, errors.New("portrait: Replace needs at least one object")
	}
	set := NewImageSet(userID)
	if err := s.Users.BeginUpload(ctx, userID, set); err != nil {
		return nil, err
	}
	if err := s.put(ctx, set, up.Objects); err != nil {
		s.discard(ctx, set)
		return nil, fmt.Errorf("store image: %w", err)
	}
	u, previous, err := s.Users.SetImage(ctx, userID, up.image(set))
	if err != nil {
		s.discard(ctx, set)
		return nil, err
	}
	s.deleteSets(ctx, previous)
	return u, nil
}

// put writes the objects under set, a few at a time.
func (s *Images) put(ctx context.Context, set string, objects []Object) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(putConcurrency)
	for _, o := range objects {
		g.Go(func() error {
			return s.Bucket.Put(ctx, set+o.Name, bytes.NewReader(o.Data), int64(len(o.Data)), o.ContentType)
		})
	}
	return g.Wait()
}

// Remove deletes the user's profile image, if any, and returns the updated
// user, or ENOTFOUND.
func (s *Images) Remove(ctx context.Context, userID string) (*User, error) {
	u, previous, err := s.Users.SetImage(ctx, userID, Image{})
	if err != nil {
		return nil, err
	}
	s.deleteSets(ctx, previous)
	return u, nil
}

// discard deletes the objects of a set whose commit failed, once
// ReleaseUpload says that no user points or can come to point at it (a
// commit can fail after it took effect, e.g. when the connection drops).
// When in doubt the objects are kept, and Sweep removes them later if
// they turn out to be unreferenced.
func (s *Images) discard(ctx context.Context, set string) {
	ctx, cancel := s.cleanupContext(ctx)
	defer cancel()
	deletable, err := s.Users.ReleaseUpload(ctx, set, farFuture)
	if err != nil || !deletable {
		s.log().Warn("new image kept after a failed replace", "set", set, "err", err)
		return
	}
	if _, err := s.deleteObjects(ctx, set); err != nil {
		s.log().Warn("could not delete the new image of a failed replace; the sweeper will", "set", set, "err", err)
	}
}

// deleteSets deletes the objects of sets that SetImage or DeleteUser
// recorded as pending, and forgets the records. On failure they stay for
// RetryDeletions.
func (s *Images) deleteSets(ctx context.Context, sets ...string) {
	if len(sets) == 0 || sets[0] == "" {
		return
	}
	ctx, cancel := s.cleanupContext(ctx)
	defer cancel()
	if _, err := s.deleteAll(ctx, sets); err != nil {
		s.log().Warn("previous image not deleted; will retry", "sets", sets, "err", err)
	}
}

// deleteAll deletes the objects of every set, in few storage requests,
// then forgets their pending deletions. It returns how many sets it
// deleted; it forgets none if any deletion fails.
func (s *Images) deleteAll(ctx context.Context, sets []string) (int, error) {
	keys, err := s.objectsOf(ctx, sets)
	if err != nil {
		return 0, err
	}
	if err := s.Bucket.Delete(ctx, keys...); err != nil {
		return 0, err
	}
	return len(sets), s.Users.DeletionDone(ctx, sets...)
}

// listConcurrency bounds the sets listed at once by objectsOf.
const listConcurrency = 8

// objectsOf returns the keys of every object of the sets.
func (s *Images) objectsOf(ctx context.Context, sets []string) ([]string, error) {
	found := make([][]string, len(sets))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(listConcurrency)
	for i, set := range sets {
		g.Go(func() error {
			return s.Bucket.List(ctx, set, func(o ObjectInfo) error {
				found[i] = append(found[i], o.Key)
				return nil
			})
		})
	}
	err := g.Wait()
	var keys []string
	for _, k := range found {
		keys = append(keys, k...)
	}
	return keys, err
}

// deleteObjects deletes every object of set and returns how many there were.
func (s *Images) deleteObjects(ctx context.Context, set string) (int, error) {
	keys, err := s.objectsOf(ctx, []string{set})
	if err != nil {
		return 0, err
	}
	return len(keys), s.Bucket.Delete(ctx, keys...)
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

// RetryDeletions deletes the objects of up to limit pending sets recorded
// at least age ago, in few storage requests. A set that a user references
// again is forgotten without deleting it. It returns how many sets it
// deleted and the first error met.
func (s *Images) RetryDeletions(ctx context.Context, age time.Duration, limit int) (deleted int, err error) {
	sets, err := s.Users.PendingDeletions(ctx, s.now().Add(-age), limit)
	if err != nil || len(sets) == 0 {
		return 0, err
	}
	var unreferenced []string
	for _, set := range sets {
		referenced, err := s.Users.ImageReferenced(ctx, set)
		switch {
		case err != nil:
			return 0, err
		case referenced:
			err = s.Users.DeletionDone(ctx, set)
		default:
			unreferenced = append(unreferenced, set)
		}
		if err != nil {
			return 0, err
		}
	}
	return s.deleteAll(ctx, unreferenced)
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
