package bulkhead

import (
	"context"
	"time"

	"github.com/portraitsvc/portrait"
)

// Store is a portrait.UserStore whose every call goes through a Bulkhead.
type Store struct {
	s portrait.UserStore
	b *Bulkhead
}

var _ portrait.UserStore = (*Store)(nil)

// WrapStore returns s with its calls bounded by b.
func WrapStore(s portrait.UserStore, b *Bulkhead) *Store { return &Store{s: s, b: b} }

// call runs fn through the bulkhead and returns its value.
func call[T any](ctx context.Context, b *Bulkhead, fn func(context.Context) (T, error)) (v T, err error) {
	err = b.Do(ctx, func(ctx context.Context) error {
		v, err = fn(ctx)
		return err
	})
	return v, err
}

func (s *Store) CreateUser(ctx context.Context, u *portrait.User) error {
	return s.b.Do(ctx, func(ctx context.Context) error { return s.s.CreateUser(ctx, u) })
}

func (s *Store) UserByID(ctx context.Context, id string) (*portrait.User, error) {
	return call(ctx, s.b, func(ctx context.Context) (*portrait.User, error) { return s.s.UserByID(ctx, id) })
}

func (s *Store) UserByEmail(ctx context.Context, email string) (*portrait.User, error) {
	return call(ctx, s.b, func(ctx context.Context) (*portrait.User, error) { return s.s.UserByEmail(ctx, email) })
}

func (s *Store) RevokeTokens(ctx context.Context, id string) (int64, error) {
	return call(ctx, s.b, func(ctx context.Context) (int64, error) { return s.s.RevokeTokens(ctx, id) })
}

func (s *Store) SetPassword(ctx context.Context, id, hash string) (int64, error) {
	return call(ctx, s.b, func(ctx context.Context) (int64, error) { return s.s.SetPassword(ctx, id, hash) })
}

func (s *Store) RehashPassword(ctx context.Context, id, oldHash, newHash string) (bool, error) {
	return call(ctx, s.b, func(ctx context.Context) (bool, error) { return s.s.RehashPassword(ctx, id, oldHash, newHash) })
}

func (s *Store) Ping(ctx context.Context) error {
	return s.b.Do(ctx, s.s.Ping)
}

func (s *Store) BeginUpload(ctx context.Context, userID, set string) error {
	return s.b.Do(ctx, func(ctx context.Context) error { return s.s.BeginUpload(ctx, userID, set) })
}

func (s *Store) SetImage(ctx context.Context, id string, img portrait.Image) (u *portrait.User, previous string, err error) {
	err = s.b.Do(ctx, func(ctx context.Context) error {
		u, previous, err = s.s.SetImage(ctx, id, img)
		return err
	})
	return u, previous, err
}

func (s *Store) ReleaseUpload(ctx context.Context, set string, before time.Time) (bool, error) {
	return call(ctx, s.b, func(ctx context.Context) (bool, error) { return s.s.ReleaseUpload(ctx, set, before) })
}

func (s *Store) StaleUploads(ctx context.Context, before time.Time, limit int) ([]string, error) {
	return call(ctx, s.b, func(ctx context.Context) ([]string, error) { return s.s.StaleUploads(ctx, before, limit) })
}

func (s *Store) DeleteUser(ctx context.Context, id string) error {
	return s.b.Do(ctx, func(ctx context.Context) error { return s.s.DeleteUser(ctx, id) })
}

func (s *Store) PendingDeletions(ctx context.Context, before time.Time, limit int) ([]string, error) {
	return call(ctx, s.b, func(ctx context.Context) ([]string, error) { return s.s.PendingDeletions(ctx, before, limit) })
}

func (s *Store) CountPendingDeletions(ctx context.Context) (int, error) {
	return call(ctx, s.b, s.s.CountPendingDeletions)
}

func (s *Store) DeletionDone(ctx context.Context, sets ...string) error {
	return s.b.Do(ctx, func(ctx context.Context) error { return s.s.DeletionDone(ctx, sets...) })
}

func (s *Store) ImageReferenced(ctx context.Context, set string) (bool, error) {
	return call(ctx, s.b, func(ctx context.Context) (bool, error) { return s.s.ImageReferenced(ctx, set) })
}

func (s *Store) UserByIdentity(ctx context.Context, id portrait.Identity) (*portrait.User, error) {
	return call(ctx, s.b, func(ctx context.Context) (*portrait.User, error) { return s.s.UserByIdentity(ctx, id) })
}

func (s *Store) CreateProviderUser(ctx context.Context, u *portrait.User, id portrait.Identity) error {
	return s.b.Do(ctx, func(ctx context.Context) error { return s.s.CreateProviderUser(ctx, u, id) })
}

func (s *Store) LinkIdentity(ctx context.Context, id portrait.Identity, userID string) error {
	return s.b.Do(ctx, func(ctx context.Context) error { return s.s.LinkIdentity(ctx, id, userID) })
}

func (s *Store) UnlinkIdentity(ctx context.Context, id portrait.Identity) error {
	return s.b.Do(ctx, func(ctx context.Context) error { return s.s.UnlinkIdentity(ctx, id) })
}

// Close closes the wrapped store; it is not bounded.
func (s *Store) Close() error { return s.s.Close() }

// WrapLimits returns limits whose limiters make every call through b.
func WrapLimits(limits portrait.RateLimits, b *Bulkhead) portrait.RateLimits {
	return func(name string, perMinute int) portrait.RateLimiter {
		return &limiter{l: limits(name, perMinute), b: b}
	}
}

// limiter is a portrait.RateLimiter whose every call goes through a Bulkhead.
type limiter struct {
	l portrait.RateLimiter
	b *Bulkhead
}

func (l *limiter) Wait(ctx context.Context, key string) (time.Duration, error) {
	return call(ctx, l.b, func(ctx context.Context) (time.Duration, error) { return l.l.Wait(ctx, key) })
}

func (l *limiter) Spend(ctx context.Context, key string) error {
	return l.b.Do(ctx, func(ctx context.Context) error { return l.l.Spend(ctx, key) })
}

func (l *limiter) Take(ctx context.Context, key string) (time.Duration, error) {
	return call(ctx, l.b, func(ctx context.Context) (time.Duration, error) { return l.l.Take(ctx, key) })
}
