package main

import (
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"time"
)

// gc runs one sweep: orphaned images older than --gc-grace are deleted and
// pending deletions retried. It prints the report as JSON.
func gc(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	a, err := start(ctx, "gc", args, getenv, stderr)
	if err != nil {
		return err
	}
	defer a.close()
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
	for {
		jitter := time.Duration(rand.Int64N(int64(a.cfg.GCInterval) / 5))
		select {
		case <-ctx.Done():
			return
		case <-time.After(a.cfg.GCInterval + jitter):
		}
		if _, err := a.tempDir(); err != nil {
			a.log.Warn("could not clean the temporary folder", "err", err)
		}
		rep, err := a.images.Sweep(ctx, a.cfg.GCGrace)
		a.log.Info("swept orphaned images", "scanned", rep.Scanned, "deleted", rep.Deleted,
			"retried", rep.Retried, "failures", rep.Failures, "err", err)
	}
}
