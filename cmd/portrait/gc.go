package main

import (
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"time"
)

// gc runs one sweep: orphaned images older than --gc-grace are deleted and
// pending deletions retried. It logs the database and the storage it
// swept, and prints the report as JSON. Unlike a serving
// node's sweeps, it takes a grace shorter than the longest upload as given,
// with a warning: with every node stopped, --gc-grace=0 removes at once all
// that no user references; with nodes serving, their uploads in flight may
// then fail with upload_expired (the sweep is fenced: none loses an image).
func gc(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	a, err := start(ctx, "gc", args, getenv, stdout, stderr)
	if err != nil {
		return err
	}
	defer a.close()
	a.log.Info("portrait gc", "database", a.cfg.databaseName(), "storage", a.cfg.storageName(), "grace", a.cfg.GCGrace)
	if a.cfg.GCGrace < a.cfg.minGCGrace() {
		a.log.Warn("--gc-grace is shorter than the longest upload: uploads in flight on running nodes may fail with upload_expired",
			"grace", a.cfg.GCGrace, "longest_upload", a.cfg.minGCGrace())
	}
	rep, err := a.images.Sweep(ctx, a.cfg.GCGrace)
	json.NewEncoder(stdout).Encode(rep)
	return err
}

// sweepPeriodically sweeps every --gc-interval, with jitter so that nodes
// started together do not sweep together, until ctx ends.
func (a *app) sweepPeriodically(ctx context.Context) {
	if a.cfg.GCInterval <= 0 {
		return
	}
	grace := a.cfg.gcGrace(a.log)
	for {
		jitter := time.Duration(rand.Int64N(int64(a.cfg.GCInterval) / 5))
		select {
		case <-ctx.Done():
			return
		case <-time.After(a.cfg.GCInterval + jitter):
		}
		if _, err := a.cleanTemps(); err != nil {
			a.log.Warn("could not clean the temporary folder", "err", err)
		}
		rep, err := a.images.Sweep(ctx, grace)
		a.log.Info("swept orphaned images", "scanned", rep.Scanned, "abandoned", rep.Abandoned,
			"deleted", rep.Deleted, "retried", rep.Retried, "failures", rep.Failures, "err", err)
	}
}
