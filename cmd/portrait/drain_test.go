package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"golang.org/x/sync/errgroup"

	"github.com/portraitsvc/portrait"
	"github.com/portraitsvc/portrait/s3/s3test"
)

// TestDrainBacklog: a backlog of pending deletions larger than one batch,
// as a long storage outage with many replaces leaves, is drained in one
// retry round, with batched deletes on S3, and the backlog gauge says so.
func TestDrainBacklog(t *testing.T) {
	const backlog = retryBatch + 200
	env := map[string]string{"PORTRAIT_DATA_DIR": t.TempDir(), "PORTRAIT_STORAGE_URL": s3test.URL(t)}
	for _, kv := range s3test.Env(t) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v) // the AWS credential chain reads the process's environment
	}
	a, err := start(t.Context(), "serve", nil, func(k string) string { return env[k] }, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	a.cfg.DeletionRetry = 0
	fillBacklog(t, a, backlog)
	start := time.Now()
	a.drainDeletions(t.Context())
	took := time.Since(start)
	if n, err := a.users.CountPendingDeletions(t.Context()); err != nil || n != 0 {
		t.Fatalf("%d pending deletions left after one round (%v)", n, err)
	}
	var m dto.Metric
	if err := a.pending.Write(&m); err != nil || m.GetGauge().GetValue() != 0 {
		t.Errorf("portrait_pending_deletions = %v after the drain (%v), want 0", m.GetGauge().GetValue(), err)
	}
	var left int
	a.bucket.List(t.Context(), portrait.ImagePrefix, func(portrait.ObjectInfo) error { left++; return nil })
	if left != 1 {
		t.Errorf("%d objects left; want only the current image", left)
	}
	t.Logf("drained %d pending deletions in %v (%.0f/s)", backlog, took.Round(time.Millisecond), backlog/took.Seconds())
}

// fillBacklog gives one user n+1 images in turn, each an object on the
// bucket, and leaves the n replaced ones pending, as deletes that failed.
func fillBacklog(t *testing.T, a *app, n int) {
	t.Helper()
	ctx := context.Background()
	if err := a.users.CreateUser(ctx, &portrait.User{ID: "u1", Email: "u1@example.com"}); err != nil {
		t.Fatal(err)
	}
	sets := make([]string, n+1)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i := range sets {
		sets[i] = portrait.NewImageSet("u1")
		g.Go(func() error {
			return a.bucket.Put(gctx, sets[i]+"64.jpg", bytes.NewReader([]byte{byte(i)}), 1, "image/jpeg")
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	for _, set := range sets {
		if err := a.users.BeginUpload(ctx, "u1", set); err != nil {
			t.Fatal(err)
		}
		if _, _, err := a.users.SetImage(ctx, "u1", portrait.Image{Set: set, Key: set + "64.jpg"}); err != nil {
			t.Fatal(fmt.Errorf("set %s: %w", set, err))
		}
	}
}
