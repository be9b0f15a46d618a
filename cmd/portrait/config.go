package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
)

// config is every setting of the service. Each field is a flag, and each
// flag falls back to an environment variable named after it:
// --data-dir ↔ PORTRAIT_DATA_DIR. A flag given on the command line wins.
type config struct {
	Addr         string
	DataDir      string
	PublicURL    string
	ImageBaseURL string
	JWTSecret    string
	DatabaseURL  string
	StorageURL   string
	CORSOrigins  string
	MetricsAddr  string
	LogFormat    string
	LogLevel     string

	MaxUploadBytes int64
	MaxParts       int
	MaxPixels      int64
	MaxSide        int
	DecodeMemory   int64
	DecodeWorkers  int
	DecodeWait     time.Duration
	DecodeTimeout  time.Duration
	TokenTTL       time.Duration

	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	ShutdownTimeout   time.Duration

	GCInterval    time.Duration
	GCGrace       time.Duration
	DeletionRetry time.Duration

	LoginPerMinute  int
	UploadPerMinute int
}

// newFlagSet declares the flags of cfg on a new FlagSet.
func newFlagSet(name string, cfg *config, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:8080", "listen address")
	fs.StringVar(&cfg.DataDir, "data-dir", "./data", "folder of the embedded database and the local bucket")
	fs.StringVar(&cfg.PublicURL, "public-url", "", "base URL clients reach this server at (default http://<addr>)")
	fs.StringVar(&cfg.ImageBaseURL, "image-base-url", "", "base URL of returned image URLs, e.g. a CDN (default the public URL)")
	fs.StringVar(&cfg.JWTSecret, "jwt-secret", "", "secret (>= 32 bytes) signing access tokens; shared by all nodes (default: generated once into the data dir, embedded mode only)")
	fs.StringVar(&cfg.DatabaseURL, "database-url", "", "postgres://… or sqlite:<path> (default sqlite in the data dir)")
	fs.StringVar(&cfg.StorageURL, "storage-url", "", "s3://<bucket>?endpoint=…&region=…&path_style=true or file://<folder> (default the data dir)")
	fs.StringVar(&cfg.CORSOrigins, "cors-origins", "", "comma-separated browser origins allowed by CORS, or *")
	fs.StringVar(&cfg.MetricsAddr, "metrics-addr", "", "listen address of the Prometheus /metrics endpoint, apart from the API (default: off)")
	fs.StringVar(&cfg.LogFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&cfg.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.Int64Var(&cfg.MaxUploadBytes, "max-upload-bytes", 16<<20, "largest accepted file, in bytes (413 above)")
	fs.IntVar(&cfg.MaxParts, "max-parts", 16, "most multipart parts in one upload")
	fs.Int64Var(&cfg.MaxPixels, "max-pixels", 64_000_000, "largest accepted image, in pixels")
	fs.IntVar(&cfg.MaxSide, "max-side", 16384, "longest accepted image side, in pixels")
	fs.Int64Var(&cfg.DecodeMemory, "decode-memory", 256<<20, "bytes of decoded pixels in memory at once, across all uploads")
	fs.IntVar(&cfg.DecodeWorkers, "decode-workers", 0, "most images decoded at once (default the number of CPUs)")
	fs.DurationVar(&cfg.DecodeWait, "decode-wait", 10*time.Second, "longest wait for decode capacity before 503")
	fs.DurationVar(&cfg.DecodeTimeout, "decode-timeout", 5*time.Second, "longest time one image may take to decode (400 decode_timeout above)")
	fs.DurationVar(&cfg.TokenTTL, "token-ttl", time.Hour, "lifetime of an access token")
	fs.DurationVar(&cfg.ReadHeaderTimeout, "read-header-timeout", 10*time.Second, "longest time to receive a request's headers")
	fs.DurationVar(&cfg.ReadTimeout, "read-timeout", 2*time.Minute, "longest time to receive a whole request, body included (slow uploads get 408)")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", time.Minute, "how long a graceful shutdown waits for requests in flight")
	fs.DurationVar(&cfg.GCInterval, "gc-interval", 10*time.Minute, "period of the background sweep for orphaned images (0 = off)")
	fs.DurationVar(&cfg.GCGrace, "gc-grace", time.Hour, "age before an unreferenced image may be swept")
	fs.DurationVar(&cfg.DeletionRetry, "deletion-retry", 30*time.Second, "period of the retry of pending image deletions")
	fs.IntVar(&cfg.LoginPerMinute, "login-per-minute", 10, "failed logins allowed per account and client address each minute; 10× that many attempts per address (0: no limit)")
	fs.IntVar(&cfg.UploadPerMinute, "upload-per-minute", 240, "uploads allowed per user each minute (0: no limit)")
	return fs
}

// parseConfig parses args, then fills every flag not given on the command
// line from its environment variable.
func parseConfig(name string, args []string, getenv func(string) string, stderr io.Writer) (*config, error) {
	cfg := &config{}
	fs := newFlagSet(name, cfg, stderr)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		v := getenv(envName(f.Name))
		if err == nil && v != "" && !given[f.Name] {
			if serr := fs.Set(f.Name, v); serr != nil {
				err = fmt.Errorf("%s: %w", envName(f.Name), serr)
			}
		}
	})
	if cfg.PublicURL == "" {
		cfg.PublicURL = "http://" + cfg.Addr
	}
	if cfg.ImageBaseURL == "" {
		cfg.ImageBaseURL = cfg.PublicURL
	}
	return cfg, err
}

// envName is the environment variable of a flag: PORTRAIT_ and the flag
// name in upper case with dashes as underscores.
func envName(flagName string) string {
	return "PORTRAIT_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func (c *config) logger(w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(c.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func (c *config) corsOrigins() []string {
	var out []string
	for _, o := range strings.Split(c.CORSOrigins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			out = append(out, o)
		}
	}
	return out
}
