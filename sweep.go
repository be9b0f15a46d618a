package portrait

import (
	"context"
	"fmt"
	"time"
)

// SweepReport says what one Sweep did.
type SweepReport struct {
	Scanned   int `json:"scanned"`   // objects listed
	Abandoned int `json:"abandoned"` // uploads released that had not committed in time
	Orphans   int `json:"orphans"`   // objects older than the grace that no user can point at
	Deleted   int `json:"deleted"`   // objects deleted: orphans and those of abandoned uploads
	Retried   int `json:"retried"`   // pending deletions completed
	Failures  int `json:"failures"`  // deletions that failed and will be tried again
}

// sweepBatch bounds the upload records and pending deletions one sweep
// handles, and the objects deleted in one storage request.
const (
	sweepBatch  = 10_000
	deleteBatch = 1000
)

// Sweep deletes what is older than grace and that no user can ever point
// at: the objects of uploads recorded before then that never committed, and
// every object whose set no user references and no upload in progress
// holds; then it retries every pending deletion. Each deletion is fenced by
// ReleaseUpload, so grace only decides how long an upload may take before
// it fails with EUPLOADEXPIRED — never whether a committed image survives.
// Several nodes may sweep at once: every step is idempotent.
func (s *Images) Sweep(ctx context.Context, grace time.Duration) (SweepReport, error) {
	var rep SweepReport
	cutoff := s.now().Add(-grace)
	if err := s.releaseStale(ctx, cutoff, &rep); err != nil {
		return rep, fmt.Errorf("sweep: %w", err)
	}
	if err := s.sweepOrphans(ctx, cutoff, &rep); err != nil {
		return rep, fmt.Errorf("sweep: %w", err)
	}
	var err error
	if rep.Retried, err = s.RetryDeletions(ctx, 0, sweepBatch); err != nil {
		rep.Failures++
	}
	return rep, err
}

// releaseStale releases the uploads recorded before cutoff that neither
// committed nor were discarded (their process died, or they are still
// waiting), and deletes their objects.
func (s *Images) releaseStale(ctx context.Context, cutoff time.Time, rep *SweepReport) error {
	sets, err := s.Users.StaleUploads(ctx, cutoff, sweepBatch)
	if err != nil {
		return err
	}
	for _, set := range sets {
		released, err := s.Users.ReleaseUpload(ctx, set, cutoff)
		if err != nil {
			return err
		}
		if !released {
			continue
		}
		rep.Abandoned++
		n, err := s.deleteObjects(ctx, set)
		if err != nil {
			rep.Failures++
			s.log().Warn("objects of an abandoned upload not deleted; the next sweep will", "set", set, "err", err)
		}
		rep.Deleted += n
	}
	return nil
}

// sweepOrphans deletes the objects older than cutoff whose set no user can
// point at. Objects of one set are listed together, so the verdict of the
// last set is kept rather than asked again for each of its objects.
func (s *Images) sweepOrphans(ctx context.Context, cutoff time.Time, rep *SweepReport) error {
	var batch []string
	var lastSet string
	var lastOrphan bool
	err := s.Bucket.List(ctx, ImagePrefix, func(o ObjectInfo) error {
		rep.Scanned++
		if !o.ModTime.Before(cutoff) {
			return nil
		}
		if set := SetOf(o.Key); set != lastSet {
			orphan, err := s.isOrphan(ctx, set, cutoff)
			if err != nil {
				return err
			}
			lastSet, lastOrphan = set, orphan
		}
		if lastOrphan {
			rep.Orphans++
			if batch = append(batch, o.Key); len(batch) == deleteBatch {
				batch = s.deleteOrphans(ctx, batch, rep)
			}
		}
		return nil
	})
	s.deleteOrphans(ctx, batch, rep)
	return err
}

// isOrphan reports whether no user points or can come to point at set,
// releasing its upload if it was recorded before cutoff. Most sets are
// referenced, so a read comes first and the release, a write, only after.
func (s *Images) isOrphan(ctx context.Context, set string, cutoff time.Time) (bool, error) {
	referenced, err := s.Users.ImageReferenced(ctx, set)
	if err != nil || referenced {
		return false, err
	}
	return s.Users.ReleaseUpload(ctx, set, cutoff)
}

// deleteOrphans deletes keys, counts the outcome in rep, and returns keys
// emptied for reuse.
func (s *Images) deleteOrphans(ctx context.Context, keys []string, rep *SweepReport) []string {
	if len(keys) == 0 {
		return keys
	}
	if err := s.Bucket.Delete(ctx, keys...); err != nil {
		rep.Failures += len(keys)
		s.log().Warn("orphaned images not deleted; the next sweep will", "objects", len(keys), "err", err)
		return keys[:0]
	}
	rep.Deleted += len(keys)
	return keys[:0]
}
