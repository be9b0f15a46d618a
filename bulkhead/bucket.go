package bulkhead

import (
	"context"
	"io"
	"time"

	"github.com/portraitsvc/portrait"
)

// Bucket is a portrait.Bucket whose every call goes through a Bulkhead.
// Calls that stream take a slot for as long as they stream, and their
// deadline is one of progress rather than of the whole: Open's reader must
// deliver each Read, and List each object, within the timeout, so that a
// large listing or a slow client is not cut short but a frozen server is.
type Bucket struct {
	bk portrait.Bucket
	b  *Bulkhead
}

var _ portrait.Bucket = (*Bucket)(nil)

// WrapBucket returns bk with its calls bounded by b.
func WrapBucket(bk portrait.Bucket, b *Bulkhead) *Bucket { return &Bucket{bk: bk, b: b} }

func (g *Bucket) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	return g.b.Do(ctx, func(ctx context.Context) error { return g.bk.Put(ctx, key, r, size, contentType) })
}

func (g *Bucket) Delete(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	return g.b.Do(ctx, func(ctx context.Context) error { return g.bk.Delete(ctx, keys...) })
}

func (g *Bucket) Ping(ctx context.Context) error { return g.b.Do(ctx, g.bk.Ping) }

// Open holds a slot until the returned reader is closed.
func (g *Bucket) Open(ctx context.Context, key string) (io.ReadSeekCloser, portrait.ObjectInfo, error) {
	if !g.b.enter() {
		return nil, portrait.ObjectInfo{}, g.b.full()
	}
	w := g.b.watch(ctx)
	r, info, err := g.bk.Open(w.ctx, key)
	if err = w.done(err); err != nil {
		w.stop()
		g.b.leave()
		return nil, info, err
	}
	return &reader{r: r, w: w, leave: g.b.leave}, info, nil
}

// List stops if no object arrives within the timeout; the time fn takes
// does not count.
func (g *Bucket) List(ctx context.Context, prefix string, fn func(portrait.ObjectInfo) error) error {
	if !g.b.enter() {
		return g.b.full()
	}
	defer g.b.leave()
	w := g.b.watch(ctx)
	defer w.stop()
	err := g.bk.List(w.ctx, prefix, func(o portrait.ObjectInfo) error {
		w.pause()
		defer w.resume()
		return fn(o)
	})
	return w.done(err)
}

// watchdog cancels its context when a step of a streaming call takes
// longer than the bulkhead's timeout.
type watchdog struct {
	b      *Bulkhead
	parent context.Context // the caller's
	ctx    context.Context // the call's
	cancel context.CancelFunc
	timer  *time.Timer
}

// watch starts a watchdog on a context derived from ctx, with the first
// step running.
func (b *Bulkhead) watch(ctx context.Context) *watchdog {
	c, cancel := context.WithCancelCause(ctx)
	w := &watchdog{b: b, parent: ctx, ctx: c}
	w.cancel = func() { cancel(context.DeadlineExceeded) }
	w.timer = time.AfterFunc(b.timeout, w.cancel)
	return w
}

func (w *watchdog) pause()  { w.timer.Stop() }
func (w *watchdog) resume() { w.timer.Reset(w.b.timeout) }

// stop ends the watch and cancels its context.
func (w *watchdog) stop() {
	w.timer.Stop()
	w.cancel()
}

// done pauses the watch and returns the error of a step as Do would: err
// as Classify makes it, the caller's error if it went away, EUNAVAILABLE
// if the step ran out of time.
func (w *watchdog) done(err error) error {
	w.pause()
	return w.b.result(w.parent, w.ctx, err)
}

// reader is an object being read through a watchdog; Close gives its slot back.
type reader struct {
	r     io.ReadSeekCloser
	w     *watchdog
	leave func()
}

func (r *reader) Read(p []byte) (int, error) {
	r.w.resume()
	n, err := r.r.Read(p)
	if err == io.EOF {
		r.w.pause()
		return n, err
	}
	return n, r.w.done(err)
}

func (r *reader) Seek(offset int64, whence int) (int64, error) { return r.r.Seek(offset, whence) }

func (r *reader) Close() error {
	err := r.r.Close()
	r.w.stop()
	r.leave()
	return err
}
