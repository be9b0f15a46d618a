package bulkhead

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/portraitsvc/portrait"
)

func assertUnavailable(t *testing.T, err error) {
	t.Helper()
	var e *portrait.Error
	if !errors.As(err, &e) || e.Code != portrait.EUNAVAILABLE || e.RetryAfter <= 0 {
		t.Fatalf("err = %v; want EUNAVAILABLE with a Retry-After", err)
	}
}

// TestShedsBeyondMax: with max calls outstanding, the next fails at once
// rather than waiting, and a slot freed is usable again.
func TestShedsBeyondMax(t *testing.T) {
	b := New("database", 2, time.Minute)
	release := make(chan struct{})
	started := make(chan struct{}, 2)
	for range 2 {
		go b.Do(context.Background(), func(context.Context) error {
			started <- struct{}{}
			<-release
			return nil
		})
	}
	<-started
	<-started
	assertUnavailable(t, b.Do(context.Background(), func(context.Context) error { return nil }))
	if b.Outstanding() != 2 {
		t.Errorf("Outstanding = %d, want 2", b.Outstanding())
	}
	close(release)
	for b.Outstanding() > 0 {
		time.Sleep(time.Millisecond)
	}
	if err := b.Do(context.Background(), func(context.Context) error { return nil }); err != nil {
		t.Fatalf("call after the others finished: %v", err)
	}
}

// TestDeadline: a call that outlives the timeout is EUNAVAILABLE; one whose
// caller went away is the caller's error, since the dependency is not at
// fault.
func TestDeadline(t *testing.T) {
	b := New("storage", 1, 20*time.Millisecond)
	wait := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	assertUnavailable(t, b.Do(context.Background(), wait))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.Do(ctx, wait); !errors.Is(err, context.Canceled) {
		t.Fatalf("call of a caller gone: %v, want context.Canceled", err)
	}
}

func TestClassify(t *testing.T) {
	for _, err := range []error{
		&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED},
		fmt.Errorf("query: %w", syscall.ECONNRESET),
		fmt.Errorf("write: %w", syscall.EPIPE),
	} {
		assertUnavailable(t, Classify("database", err))
	}
	for _, err := range []error{errors.New("syntax error"), portrait.Errorf(portrait.ENOTFOUND, "No.")} {
		if got := Classify("database", err); got != err {
			t.Errorf("Classify(%v) = %v; want it unchanged", err, got)
		}
	}
}

// slowBucket's objects deliver one byte per Read, after delay.
type slowBucket struct {
	portrait.Bucket
	delay   time.Duration
	objects int
}

func (s *slowBucket) Open(ctx context.Context, key string) (io.ReadSeekCloser, portrait.ObjectInfo, error) {
	return &slowReader{ctx: ctx, delay: s.delay, left: 3}, portrait.ObjectInfo{Key: key}, nil
}

func (s *slowBucket) List(ctx context.Context, prefix string, fn func(portrait.ObjectInfo) error) error {
	for i := range s.objects {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(s.delay):
		}
		if err := fn(portrait.ObjectInfo{Key: fmt.Sprint(i)}); err != nil {
			return err
		}
	}
	return nil
}

type slowReader struct {
	ctx   context.Context
	delay time.Duration
	left  int
}

func (r *slowReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	select {
	case <-r.ctx.Done():
		return 0, r.ctx.Err()
	case <-time.After(r.delay):
	}
	r.left--
	p[0] = 'x'
	return 1, nil
}

func (r *slowReader) Seek(int64, int) (int64, error) { return 0, nil }
func (r *slowReader) Close() error                   { return nil }

// TestStreamDeadlineIsOneOfProgress: a stream as a whole may take longer
// than the timeout, as long as each read delivers within it; a read that
// does not is EUNAVAILABLE. The stream holds its slot until closed.
func TestStreamDeadlineIsOneOfProgress(t *testing.T) {
	b := New("storage", 1, 60*time.Millisecond)
	bk := WrapBucket(&slowBucket{delay: 30 * time.Millisecond}, b)
	r, _, err := bk.Open(context.Background(), "k")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := bk.Open(context.Background(), "k"); err == nil {
		t.Fatal("a second Open got a slot while the first stream was open")
	}
	if data, err := io.ReadAll(r); err != nil || string(data) != "xxx" {
		t.Fatalf("slow but steady stream: %q, %v", data, err)
	}
	r.Close()
	stuck := WrapBucket(&slowBucket{delay: time.Second}, b)
	r, _, err = stuck.Open(context.Background(), "k")
	if err != nil {
		t.Fatalf("Open after the first stream closed: %v", err)
	}
	defer r.Close()
	_, err = r.Read(make([]byte, 1))
	assertUnavailable(t, err)
}

// TestListDeadlineIsOneOfProgress: a listing may take longer than the
// timeout, and the time its callback spends does not count; a listing that
// stalls is EUNAVAILABLE.
func TestListDeadlineIsOneOfProgress(t *testing.T) {
	b := New("storage", 1, 60*time.Millisecond)
	var seen []string
	err := WrapBucket(&slowBucket{delay: 30 * time.Millisecond, objects: 4}, b).List(context.Background(), "", func(o portrait.ObjectInfo) error {
		time.Sleep(100 * time.Millisecond) // a slow sweep step
		seen = append(seen, o.Key)
		return nil
	})
	if err != nil || strings.Join(seen, "") != "0123" {
		t.Fatalf("steady listing: %q, %v", seen, err)
	}
	err = WrapBucket(&slowBucket{delay: time.Second, objects: 1}, b).List(context.Background(), "", func(portrait.ObjectInfo) error { return nil })
	assertUnavailable(t, err)
}
