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
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/portraitsvc/portrait"
	"github.com/portraitsvc/portrait/argon2id"
	"github.com/portraitsvc/portrait/avatar"
	"github.com/portraitsvc/portrait/bulkhead"
	phttp "github.com/portraitsvc/portrait/http"
	"github.com/portraitsvc/portrait/webp"
)

// app is the service wired from its configuration. Every call to the
// database and the storage goes through a bulkhead (users, bucket): a
// deadline of its own, and a bound on the calls outstanding.
type app struct {
	cfg                 *config
	log                 *slog.Logger
	raw                 store           // the database, unbounded: migrations, closing
	users               *bulkhead.Store // the database, bounded
	bucket              *bulkhead.Bucket
	closer              io.Closer // the bucket's resources, if it holds any
	images              *portrait.Images
	dbGate, storageGate *bulkhead.Bulkhead
	// pending is the backlog of image sets waiting for deletion, as
	// retryDeletions last counted it.
	pending prometheus.Gauge
	// providers verifies identity providers' tokens; nil if none is
	// configured. handler sets it.
	providers portrait.IdentityProviders
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
	a := &app{cfg: cfg, log: log, raw: st,
		dbGate:      bulkhead.New("database", cfg.DBMaxCalls, cfg.DBTimeout),
		storageGate: bulkhead.New("storage", cfg.StorageMaxCalls, cfg.StorageTimeout),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "portrait_pending_deletions", Help: "Image sets recorded for deletion and not yet deleted.",
		})}
	a.users, a.bucket = bulkhead.WrapStore(st, a.dbGate), bulkhead.WrapBucket(b, a.storageGate)
	a.closer, _ = b.(io.Closer)
	a.images = &portrait.Images{Users: a.users, Bucket: a.bucket, Log: log}
	return a, nil
}

// close releases the store and, if they hold any, the bucket's and the
// identity providers' resources.
func (a *app) close() error {
	var err error
	if a.closer != nil {
		err = a.closer.Close()
	}
	if c, ok := a.providers.(io.Closer); ok {
		c.Close()
	}
	return errors.Join(err, a.raw.Close())
}

// start parses the flags of the named command and opens the app they
// configure.
func start(ctx context.Context, name string, args []string, getenv func(string) string, stdout, stderr io.Writer) (*app, error) {
	cfg, err := parseConfig(name, args, getenv, stdout, stderr)
	if err != nil {
		return nil, err
	}
	return openApp(ctx, cfg, stderr)
}

// serve runs the HTTP service until ctx ends, then shuts it down within
// --shutdown-timeout.
func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	a, err := start(ctx, "serve", args, getenv, stdout, stderr)
	if err != nil {
		return err
	}
	defer a.close()
	cfg := a.cfg
	l, err := a.listen()
	if err != nil {
		return err
	}
	defer l.Close()
	limitMemory(getenv, cfg)
	reg := a.registry()
	tmp, err := a.tempDir()
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	inflight := &inflight{}
	h, err := a.handler(ctx, phttp.NewMetrics(reg), tmp)
	if err != nil {
		return err
	}
	metrics, err := listenMetrics(cfg.MetricsAddr)
	if err != nil {
		return err
	}
	stop := a.startBackground(ctx, metrics, reg)
	defer stop()
	a.log.Info("portrait serving", "addr", l.Addr().String(), "public_url", cfg.PublicURL,
		"data_dir", cfg.dataDirName(), "database", cfg.databaseName(), "storage", cfg.storageName(),
		"cors_origins", cfg.corsOrigins())
	return serveUntilDone(ctx, a.log, newServer(cfg, inflight.track(h)), l, cfg.ShutdownTimeout, inflight)
}

// limitMemory sets a soft memory limit of the decode budget and 128 MiB,
// unless GOMEMLIMIT sets one: decoded pixels are garbage as soon as an
// avatar set is encoded, and the limit makes the collector return them
// before the heap doubles.
func limitMemory(getenv func(string) string, cfg *config) {
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(cfg.DecodeMemory + 128<<20)
	}
}

// listen listens on --addr and derives the public URLs from the address
// bound, warning when other machines cannot use them.
func (a *app) listen() (net.Listener, error) {
	l, err := net.Listen("tcp", a.cfg.Addr)
	if err != nil {
		return nil, err
	}
	if !a.cfg.publicURLs(l.Addr()) {
		a.log.Warn("listening on every interface: image URLs name localhost; set PORTRAIT_PUBLIC_URL to the URL other machines reach this server at",
			"public_url", a.cfg.PublicURL)
	}
	return l, nil
}

// listenMetrics listens on the metrics address, or returns nil if none
// is configured.
func listenMetrics(addr string) (net.Listener, error) {
	if addr == "" {
		return nil, nil
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	return l, nil
}

// registry returns the Prometheus registry of the service: Go runtime and
// process metrics, the calls outstanding on each dependency, and the
// backlog of pending deletions (kept up to date by retryDeletions).
func (a *app) registry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, g := range []*bulkhead.Bulkhead{a.dbGate, a.storageGate} {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "portrait_dependency_calls_outstanding", Help: "Calls in flight or waiting on a dependency.",
			ConstLabels: prometheus.Labels{"dependency": g.Name()},
		}, func() float64 { return float64(g.Outstanding()) }))
	}
	reg.MustRegister(a.pending)
	return reg
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
		srv := &http.Server{Handler: phttp.SecurityHeaders(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})), ReadHeaderTimeout: 10 * time.Second}
		bg.Go(func() { serveUntilDone(bgCtx, a.log, srv, metrics, time.Second, nil) })
	}
	return func() {
		cancel()
		bg.Wait()
	}
}

// handler builds the HTTP API on the app's backends, spooling uploads to tmp.
func (a *app) handler(ctx context.Context, metrics *phttp.Metrics, tmp string) (http.Handler, error) {
	cfg := a.cfg
	tokens, err := tokenIssuer(cfg, a.log)
	if err != nil {
		return nil, err
	}
	limits, err := a.rateLimits()
	if err != nil {
		return nil, err
	}
	if err := a.openProviders(ctx); err != nil {
		return nil, err
	}
	avatars, err := a.avatars()
	if err != nil {
		return nil, err
	}
	return phttp.NewHandler(ctx, phttp.Config{
		Users: a.users, Images: a.images, Bucket: a.bucket, Log: a.log, Tokens: tokens, Metrics: metrics,
		Passwords: argon2id.New(argon2id.OWASP, 0), Avatars: avatars,
		PublicURL: cfg.PublicURL, ImageBaseURL: cfg.ImageBaseURL,
		Upload: phttp.UploadLimits{MaxFileBytes: cfg.MaxUploadBytes, MaxParts: cfg.MaxParts, TempDir: tmp,
			SpoolBytes: cfg.spoolBytes(tmp, a.log)},
		AllowedOrigins: cfg.corsOrigins(),
		LoginPerMinute: cfg.LoginPerMinute, UploadPerMinute: cfg.UploadPerMinute,
		RegisterPerMinute: cfg.RegisterPerMinute, RateLimits: limits,
		BodyIdleTimeout: cfg.BodyIdleTimeout, ReadTimeout: cfg.ReadTimeout,
		Checks:    []phttp.Check{{Name: "database", Probe: a.users.Ping}, {Name: "storage", Probe: a.bucket.Ping}},
		Providers: a.providers, Provision: cfg.OIDCProvision, DisableLocalAccounts: !cfg.LocalAccounts,
	})
}

// avatars returns the image pipeline of the settings. Its WebP encoder is
// made here, at start-up, where compiling it costs no request anything; a
// build that would encode with a system libwebp (one made without
// -tags nodynamic) runs without WebP, and says so.
func (a *app) avatars() (*avatar.Processor, error) {
	cfg := a.cfg
	sizes, err := cfg.avatarSizes()
	if err != nil {
		return nil, err
	}
	pc := avatar.Config{Sizes: sizes, MaxPixels: cfg.MaxPixels, MaxSide: cfg.MaxSide,
		MemoryBudget: cfg.DecodeMemory, Workers: cfg.DecodeWorkers, MaxWait: cfg.DecodeWait,
		DecodeTime: cfg.DecodeTimeout, WebPMaxSide: cfg.WebPMaxSize}
	if cfg.WebPMaxSize > 0 {
		if pc.WebP, err = webp.New(cfg.DecodeWorkers); err != nil {
			a.log.Warn("avatars are made without WebP", "err", err)
		}
	}
	return avatar.New(pc), nil
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
// it stops accepting and lets in-flight requests (uploads) finish for up to
// grace. Requests still running then are cut off: their contexts are
// cancelled and their connections closed, and it waits a little for their
// handlers to return, so that they clean up after themselves.
func serveUntilDone(ctx context.Context, log *slog.Logger, srv *http.Server, l net.Listener, grace time.Duration, in *inflight) error {
	base, cutOff := context.WithCancel(context.WithoutCancel(ctx))
	defer cutOff()
	srv.BaseContext = func(net.Listener) context.Context { return base }
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down; waiting for requests in flight", "grace", grace)
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Warn("requests still in flight after the grace; cutting them off", "requests", in.count())
		cutOff()
		srv.Close()
		in.wait(cutOffWait)
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// cutOffWait is how long a shutdown waits for cut-off requests to return.
const cutOffWait = 5 * time.Second

// inflight counts the requests being handled.
type inflight struct {
	wg sync.WaitGroup
	n  atomic.Int64
}

// track returns h counting its requests in i. A nil i tracks nothing.
func (i *inflight) track(h http.Handler) http.Handler {
	if i == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i.wg.Add(1)
		i.n.Add(1)
		defer i.wg.Done()
		defer i.n.Add(-1)
		h.ServeHTTP(w, r)
	})
}

func (i *inflight) count() int64 {
	if i == nil {
		return 0
	}
	return i.n.Load()
}

// wait waits until no request is being handled, or d has passed.
func (i *inflight) wait(d time.Duration) {
	if i == nil {
		return
	}
	done := make(chan struct{})
	go func() {
		i.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(d):
	}
}

// retryBatch is how many pending deletions one retry round takes at a time.
const retryBatch = 1000

// retryDeletions retries pending deletions every --deletion-retry until
// ctx ends; pending rows younger than that are left to their request. Each
// round drains the backlog in batches until a batch comes back short or
// fails, then counts what is left for the portrait_pending_deletions gauge.
func (a *app) retryDeletions(ctx context.Context) {
	retry := time.NewTicker(a.cfg.DeletionRetry)
	defer retry.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-retry.C:
			a.drainDeletions(ctx)
		}
	}
}

// drainDeletions runs one retry round.
func (a *app) drainDeletions(ctx context.Context) {
	total := 0
	for {
		n, err := a.images.RetryDeletions(ctx, a.cfg.DeletionRetry, retryBatch)
		total += n
		if err != nil {
			a.log.Warn("retry of pending deletions failed; will try again", "deleted", total, "err", err)
			break
		}
		if n < retryBatch {
			break
		}
	}
	if total > 0 {
		a.log.Info("retried pending deletions", "deleted", total)
	}
	if n, err := a.users.CountPendingDeletions(ctx); err == nil {
		a.pending.Set(float64(n))
	}
}

// migrate applies the migrations and says to which database.
func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig("migrate", args, getenv, stdout, stderr)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", cfg.databaseName(), err)
	}
	fmt.Fprintf(stdout, "migrations applied to %s\n", cfg.databaseName())
	return st.Close()
}
