package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"time"

	"github.com/portraitsvc/portrait"
)

// RateLimits returns the limiter of the given name whose counts live in
// the database, so that every node sharing it gives a key one allowance
// of perMinute events a minute (perMinute > 0), all of which may be spent
// at once. It implements portrait.RateLimits.
//
// Each key is one row updated by one statement (the generic cell rate
// algorithm: a single timestamp per key), on the database's clock, so
// nodes with skewed clocks agree.
func (s *Store) RateLimits(name string, perMinute int) portrait.RateLimiter {
	interval := time.Minute / time.Duration(perMinute)
	return &limiter{s: s, name: name, interval: interval, tolerance: interval * time.Duration(perMinute)}
}

// limiter allows an event for a key when its tat, advanced by interval,
// is at most tolerance ahead of now.
type limiter struct {
	s         *Store
	name      string
	interval  time.Duration
	tolerance time.Duration
}

// rowKey is the row of key: the SHA-256 of the limiter's name and key.
func (l *limiter) rowKey(key string) string {
	sum := sha256.Sum256([]byte(l.name + "\x00" + key))
	return hex.EncodeToString(sum[:])
}

// Wait returns how long key must wait before it may spend an event.
func (l *limiter) Wait(ctx context.Context, key string) (time.Duration, error) {
	var wait float64
	err := l.s.pool.QueryRow(ctx, `SELECT COALESCE(MAX(EXTRACT(EPOCH FROM GREATEST(tat, now()) + $2::interval - now() - $3::interval)), 0)
		FROM rate_limits WHERE key = $1`, l.rowKey(key), l.interval, l.tolerance).Scan(&wait)
	return seconds(wait), classify(err)
}

// Spend counts one event against key, into debt if its allowance is spent.
func (l *limiter) Spend(ctx context.Context, key string) error {
	_, err := l.s.pool.Exec(ctx, `INSERT INTO rate_limits AS r (key, tat) VALUES ($1, now() + $2::interval)
		ON CONFLICT (key) DO UPDATE SET tat = GREATEST(r.tat, now()) + $2::interval`, l.rowKey(key), l.interval)
	return classify(err)
}

// Take spends an event if key may, in one statement that locks key's row,
// or returns the wait. Now and then it also forgets rows whose allowance
// is full again, which changes nothing.
func (l *limiter) Take(ctx context.Context, key string) (time.Duration, error) {
	var taken bool
	var wait float64
	err := l.s.pool.QueryRow(ctx, `WITH taken AS (
			INSERT INTO rate_limits AS r (key, tat) VALUES ($1, now() + $2::interval)
			ON CONFLICT (key) DO UPDATE SET tat = GREATEST(r.tat, now()) + $2::interval
				WHERE GREATEST(r.tat, now()) + $2::interval <= now() + $3::interval
			RETURNING 1)
		SELECT EXISTS (SELECT 1 FROM taken), COALESCE((SELECT EXTRACT(EPOCH FROM GREATEST(tat, now()) + $2::interval - now() - $3::interval)
			FROM rate_limits WHERE key = $1), 0)`, l.rowKey(key), l.interval, l.tolerance).Scan(&taken, &wait)
	if err != nil || taken {
		l.s.forgetFullLimits(ctx)
		return 0, classify(err)
	}
	return max(seconds(wait), time.Millisecond), nil
}

// forgetFullLimits deletes, about once in 256 calls, up to 1000 rows whose
// allowance is full again, so the table holds only keys in use.
func (s *Store) forgetFullLimits(ctx context.Context) {
	if rand.N(256) != 0 {
		return
	}
	s.pool.Exec(ctx, `DELETE FROM rate_limits WHERE key IN (SELECT key FROM rate_limits WHERE tat < now() LIMIT 1000)`)
}

func seconds(s float64) time.Duration {
	return max(0, time.Duration(s*float64(time.Second)))
}
