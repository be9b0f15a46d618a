package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/portraitsvc/portrait"
	"github.com/portraitsvc/portrait/argon2id"
	"github.com/portraitsvc/portrait/avatar"
	phttp "github.com/portraitsvc/portrait/http"
)

// app is the service wired from its configuration.
type app struct {
	cfg    *config
	log    *slog.Logger
	store  store
	bucket portrait.Bucket
	images *portrait.Images
}

// openApp opens the store and the bucket that cfg names.
func openApp(ctx context.Context, cfg *config, stderr io.Writer) (*app, error) {
	log := cfg.logger(stderr)
	st, err := openStore(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	b, err := openBucket(ctx, cfg)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("open storage: %w", err)
	}
	return &app{cfg: cfg, log: log, store: st, bucket: b,
		images: &portrait.Images{Users: st, Bucket: b, Log: log}}, nil
}

// close releases the store and, if it holds any, the bucket's resources.
func (a *app) close() error {
	var err error
	if c, ok := a.bucket.(io.Closer); ok {
		err = c.Close()
	}
	return errors.Join(err, a.store.Close())
}

// start parses the flags of the named command and opens the app they
// configure.
func start(ctx context.Context, name string, args []string, getenv func(string) string, stderr io.Writer) (*app, error) {
	cfg, err := parseConfig(name, args, getenv, stderr)
	if err != nil {
		return nil, err
	}
	return openApp(ctx, cfg, stderr)
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	a, err := start(ctx, "serve", args, getenv, stderr)
	if err != nil {
		return err
	}
	defer a.close()
	cfg := a.cfg
	if getenv("GOMEMLIMIT") == "" {
		// Decoded pixels are garbage as soon as an avatar is encoded; a soft
		// limit makes the collector return them before the heap doubles.
		debug.SetMemoryLimit(cfg.DecodeMemory + 128<<20)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	h, err := a.handler(ctx, phttp.NewMetrics(reg))
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	var metrics net.Listener
	if cfg.MetricsAddr != "" {
		if metrics, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
	}
	stop := a.startBackground(ctx, metrics, reg)
	defer stop()
	a.log.Info("portrait serving", "addr", l.Addr().String(), "public_url", cfg.PublicURL)
	return serveUntilDone(ctx, a.log, newServer(cfg, h), l, cfg.ShutdownTimeout)
}

// startBackground starts the deletion retries, the periodic sweep and, if
// metrics is not nil, the /metrics server on it. The returned function
// stops them and waits until they have.
func (a *app) startBackground(ctx context.Context, metrics net.Listener, reg *prometheus.Registry) (stop func()) {
	bgCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var bg sync.WaitGroup
	bg.Go(func() { a.retryDeletions(bgCtx) })
	bg.Go(func() { a.sweepPeriodically(bgCtx) })
	if metrics != nil {
		srv := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 10 * time.Second}
		bg.Go(func() { serveUntilDone(bgCtx, a.log, srv, metrics, time.Second) })
	}
	return func() {
		cancel()
		bg.Wait()
	}
}

// tempDir returns the folder of uploads being received, after removing the
// files that no request can still be using (left by a crash): those older
// than the longest a request may take.
func (a *app) tempDir() (string, error) {
	dir := filepath.Join(a.cfg.DataDir, "tmp")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	cutoff := time.Now().Add(-2*a.cfg.ReadTimeout - a.cfg.DecodeWait - time.Minute)
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() && info.ModTime().Before(cutoff) {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	return dir, nil
}

// handler builds the HTTP API on the app's backends.
func (a *app) handler(ctx context.Context, metrics *phttp.Metrics) (http.Handler, error) {
	cfg := a.cfg
	tokens, err := tokenIssuer(cfg, a.log)
	if err != nil {
		return nil, err
	}
	tmp, err := a.tempDir()
	if err != nil {
		return nil, err
	}
	return phttp.NewHandler(ctx, phttp.Config{
		Users: a.store, Images: a.images, Bucket: a.bucket, Log: a.log, Tokens: tokens, Metrics: metrics,
		Passwords: argon2id.New(argon2id.OWASP, 0),
		Avatars: avatar.New(avatar.Config{MaxPixels: cfg.MaxPixels, MaxSide: cfg.MaxSide,
			MemoryBudget: cfg.DecodeMemory, Workers: cfg.DecodeWorkers, MaxWait: cfg.DecodeWait,
			DecodeTime: cfg.DecodeTimeout}),
		ImageBaseURL:   cfg.ImageBaseURL,
		Upload:         phttp.UploadLimits{MaxFileBytes: cfg.MaxUploadBytes, MaxParts: cfg.MaxParts, TempDir: tmp},
		AllowedOrigins: cfg.corsOrigins(),
		LoginPerMinute: cfg.LoginPerMinute, UploadPerMinute: cfg.UploadPerMinute,
		Ready: a.store.Ping,
	})
}

// newServer sets every timeout, so that slow or idle clients cannot hold
// connections without bound.
func newServer(cfg *config, h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.ReadTimeout + time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}

// serveUntilDone serves on l until ctx ends, then shuts down gracefully:
// it stops accepting and lets in-flight requests (uploads) finish.
func serveUntilDone(ctx context.Context, log *slog.Logger, srv *http.Server, l net.Listener, grace time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down; waiting for requests in flight")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// retryDeletions retries pending deletions every --deletion-retry until
// ctx ends; pending rows younger than that are left to their request.
func (a *app) retryDeletions(ctx context.Context) {
	retry := time.NewTicker(a.cfg.DeletionRetry)
	defer retry.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-retry.C:
			if n, err := a.images.RetryDeletions(ctx, a.cfg.DeletionRetry, 100); n > 0 || err != nil {
				a.log.Info("retried pending deletions", "deleted", n, "err", err)
			}
		}
	}
}

func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig("migrate", args, getenv, stderr)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "migrations applied")
	return st.Close()
}
