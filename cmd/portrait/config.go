package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/portraitsvc/portrait/avatar"
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
	// JWTPreviousSecrets are comma-separated secrets that verify tokens
	// but sign none: the secrets being rotated out.
	JWTPreviousSecrets string
	DatabaseURL        string
	StorageURL         string
	CORSOrigins        string
	MetricsAddr        string
	LogFormat          string
	LogLevel           string

	MaxUploadBytes int64
	MaxParts       int
	SpoolBytes     int64
	MaxPixels      int64
	MaxSide        int
	DecodeMemory   int64
	DecodeWorkers  int
	DecodeWait     time.Duration
	DecodeTimeout  time.Duration
	// AvatarSizes are the comma-separated sides of the avatars of an
	// upload; WebPMaxSize the largest also made as WebP (0: none).
	AvatarSizes string
	WebPMaxSize int
	TokenTTL    time.Duration

	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	BodyIdleTimeout   time.Duration
	ShutdownTimeout   time.Duration

	GCInterval    time.Duration
	GCGrace       time.Duration
	DeletionRetry time.Duration

	DBTimeout       time.Duration
	DBMaxCalls      int
	StorageTimeout  time.Duration
	StorageMaxCalls int

	LoginPerMinute    int
	UploadPerMinute   int
	RegisterPerMinute int
	RateLimitStore    string

	// OIDCIssuer are the comma-separated issuer URLs of the identity
	// providers whose access tokens are accepted (see identity.go).
	OIDCIssuer    string
	OIDCAudience  string
	OIDCProvision bool
	OIDCTimeout   time.Duration
	LocalAccounts bool
}

// newFlagSet declares the flags of cfg on a new FlagSet.
func newFlagSet(name string, cfg *config, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:8080", "listen address")
	fs.StringVar(&cfg.DataDir, "data-dir", "./data", "folder of the embedded database and the local bucket")
	fs.StringVar(&cfg.PublicURL, "public-url", "", "base URL clients reach this server at (default http://<the address bound>, localhost for 0.0.0.0)")
	fs.StringVar(&cfg.ImageBaseURL, "image-base-url", "", "base URL of returned image URLs, e.g. a CDN (default the public URL)")
	fs.StringVar(&cfg.JWTSecret, "jwt-secret", "", "secret (>= 32 bytes) signing access tokens; shared by all nodes (default: generated once into the data dir, embedded mode only)")
	fs.StringVar(&cfg.JWTPreviousSecrets, "jwt-previous-secrets", "", "comma-separated earlier secrets that still verify tokens (not sign them), for rotating --jwt-secret without logging everyone out")
	fs.StringVar(&cfg.DatabaseURL, "database-url", "", "postgres://… or sqlite:<path> (default sqlite in the data dir)")
	fs.StringVar(&cfg.StorageURL, "storage-url", "", "s3://<bucket>?endpoint=…&region=…&path_style=true or file://<folder> (default the data dir)")
	fs.StringVar(&cfg.CORSOrigins, "cors-origins", "", "comma-separated browser origins allowed by CORS, or *")
	fs.StringVar(&cfg.MetricsAddr, "metrics-addr", "", "listen address of the Prometheus /metrics endpoint, apart from the API (default: off)")
	fs.StringVar(&cfg.LogFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&cfg.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	addImageFlags(fs, cfg)
	addTimingFlags(fs, cfg)
	addAbuseFlags(fs, cfg)
	addIdentityFlags(fs, cfg)
	return fs
}

// addImageFlags declares the bounds of uploads and their decoding, and
// the lifetime of tokens.
func addImageFlags(fs *flag.FlagSet, cfg *config) {
	fs.Int64Var(&cfg.MaxUploadBytes, "max-upload-bytes", 16<<20, "largest accepted file, in bytes (413 above)")
	fs.IntVar(&cfg.MaxParts, "max-parts", 16, "most multipart parts in one upload")
	fs.Int64Var(&cfg.SpoolBytes, "spool-bytes", 0, "bytes of uploads being received at once, all together, in <data dir>/tmp (0: half the free space there at start; -1: no bound)")
	fs.Int64Var(&cfg.MaxPixels, "max-pixels", 64_000_000, "largest accepted image, in pixels")
	fs.IntVar(&cfg.MaxSide, "max-side", 16384, "longest accepted image side, in pixels")
	fs.Int64Var(&cfg.DecodeMemory, "decode-memory", 256<<20, "bytes of decoded pixels in memory at once, across all uploads")
	fs.IntVar(&cfg.DecodeWorkers, "decode-workers", 0, "most images decoded at once (default the number of CPUs)")
	fs.DurationVar(&cfg.DecodeWait, "decode-wait", 10*time.Second, "longest wait for decode capacity before 503")
	fs.DurationVar(&cfg.DecodeTimeout, "decode-timeout", 5*time.Second, "longest time one image may take to decode (400 decode_timeout above)")
	fs.StringVar(&cfg.AvatarSizes, "avatar-sizes", "512,256,128,64", "comma-separated sides in pixels of the avatars each upload becomes (1–2048); the largest is profile_image")
	fs.IntVar(&cfg.WebPMaxSize, "webp-max-size", 256, "largest avatar size also stored as WebP (0: no WebP; 512 adds ~17 ms of CPU per upload, see BENCHMARKS.md)")
	fs.DurationVar(&cfg.TokenTTL, "token-ttl", time.Hour, "lifetime of an access token")
}

// avatarSizes returns the sizes of --avatar-sizes, or an error naming
// the first that is not a whole number of pixels from 1 to 2048.
func (c *config) avatarSizes() ([]int, error) {
	var sizes []int
	for _, s := range commaList(c.AvatarSizes) {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > avatar.MaxSize {
			return nil, fmt.Errorf("--avatar-sizes: %q is not a side from 1 to %d pixels", s, avatar.MaxSize)
		}
		sizes = append(sizes, n)
	}
	if len(sizes) == 0 {
		return nil, errors.New("--avatar-sizes: at least one size is needed")
	}
	return sizes, nil
}

// addTimingFlags declares the timeouts of requests and of the background
// work, and the deadlines and bounds of the calls to the dependencies.
func addTimingFlags(fs *flag.FlagSet, cfg *config) {
	fs.DurationVar(&cfg.ReadHeaderTimeout, "read-header-timeout", 10*time.Second, "longest time to receive a request's headers")
	fs.DurationVar(&cfg.ReadTimeout, "read-timeout", 2*time.Minute, "longest time to receive a whole request, body included (slow uploads get 408)")
	fs.DurationVar(&cfg.BodyIdleTimeout, "body-idle-timeout", 15*time.Second, "longest pause in a request body before its connection is closed (0: none; --read-timeout still bounds the whole request)")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", time.Minute, "how long a graceful shutdown waits for requests in flight")
	fs.DurationVar(&cfg.GCInterval, "gc-interval", 10*time.Minute, "period of the background sweep for orphaned images (0 = off)")
	fs.DurationVar(&cfg.GCGrace, "gc-grace", time.Hour, "age before an unreferenced image, or an upload that never committed, may be swept (raised to the longest an upload can take, with a warning)")
	fs.DurationVar(&cfg.DeletionRetry, "deletion-retry", 30*time.Second, "period of the retry of pending image deletions")
	fs.DurationVar(&cfg.DBTimeout, "db-timeout", 5*time.Second, "deadline of each database call, waiting for a pooled connection included (503 after it)")
	fs.IntVar(&cfg.DBMaxCalls, "db-max-calls", 64, "database calls in flight or waiting at once; more are answered 503 at once")
	fs.DurationVar(&cfg.StorageTimeout, "storage-timeout", 10*time.Second, "deadline of each object-storage call; a stream must deliver each read within it (503 after it)")
	fs.IntVar(&cfg.StorageMaxCalls, "storage-max-calls", 64, "object-storage calls in flight or waiting at once, image downloads included; more are answered 503 at once")
}

// addAbuseFlags declares the rate limits and where they are counted.
func addAbuseFlags(fs *flag.FlagSet, cfg *config) {
	fs.IntVar(&cfg.LoginPerMinute, "login-per-minute", 10, "failed logins allowed per account and client address each minute; 10× that many attempts per address (0: no limit)")
	fs.IntVar(&cfg.UploadPerMinute, "upload-per-minute", 240, "uploads allowed per user each minute (0: no limit)")
	fs.StringVar(&cfg.RateLimitStore, "rate-limit-store", "auto", "where rate limits are counted: memory (per node), database (shared by all nodes; PostgreSQL only) or auto (database with PostgreSQL, else memory)")
	fs.IntVar(&cfg.RegisterPerMinute, "register-per-minute", 10, "registrations allowed per client address each minute (0: no limit)")
}

// commandFlags names the flags of each command other than serve, which
// has them all: a command lists, and reads from the environment, only the
// settings it uses.
var commandFlags = map[string][]string{
	"migrate": {"data-dir", "database-url"},
	"link":    {"data-dir", "database-url", "oidc-issuer", "log-format", "log-level"},
	"gc": {"data-dir", "database-url", "storage-url", "gc-grace", "db-timeout", "db-max-calls",
		"storage-timeout", "storage-max-calls", "log-format", "log-level"},
}

// commandSummaries is what each command's --help says it does.
var commandSummaries = map[string]string{
	"serve":   "Runs the HTTP service.",
	"migrate": "Applies the database migrations and exits (serve applies them too).",
	"gc":      "Deletes orphaned images older than --gc-grace, retries pending deletions, prints what it did, and exits.",
	"link":    "Links an identity of an OpenID provider to a user, or removes the link, and exits.",
}

// flagSetFor declares the flags of the named command on a new FlagSet
// that writes its messages to out.
func flagSetFor(name string, cfg *config, out io.Writer) *flag.FlagSet {
	all := newFlagSet(name, cfg, out)
	names, ok := commandFlags[name]
	if !ok {
		return all
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	for _, n := range names {
		f := all.Lookup(n)
		fs.Var(f.Value, f.Name, f.Usage)
	}
	return fs
}

// parseFlags parses args with fs, printing --help to stdout and flag
// errors, with the usage, to stderr. It returns flag.ErrHelp after help.
func parseFlags(fs *flag.FlagSet, usage string, args []string, stdout, stderr io.Writer) error {
	var out bytes.Buffer
	fs.SetOutput(&out)
	fs.Usage = func() {
		fmt.Fprint(&out, usage)
		fs.PrintDefaults()
	}
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		stdout.Write(out.Bytes())
	} else {
		stderr.Write(out.Bytes())
	}
	return err
}

// configUsage is the head of a service command's --help.
func configUsage(name string) string {
	return fmt.Sprintf("Usage: portrait %s [flags]\n\n%s\n\nFlags (each also an environment variable: --data-dir is PORTRAIT_DATA_DIR; a flag given wins):\n",
		name, commandSummaries[name])
}

// parseConfig parses the flags of the named command, then fills every flag
// not given on the command line from its environment variable, and checks
// the settings that are checked before anything is opened. extra adds a
// command's own flags, which are taken from the command line only.
func parseConfig(name string, args []string, getenv func(string) string, stdout, stderr io.Writer, extra ...func(*flag.FlagSet)) (*config, error) {
	cfg := &config{}
	fs := flagSetFor(name, cfg, stderr)
	shared := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) { shared[f.Name] = true })
	for _, add := range extra {
		add(fs)
	}
	if err := parseFlags(fs, configUsage(name), args, stdout, stderr); err != nil {
		return nil, err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		v := getenv(envName(f.Name))
		if err == nil && v != "" && !given[f.Name] && shared[f.Name] {
			if serr := fs.Set(f.Name, v); serr != nil {
				err = fmt.Errorf("%s: %w", envName(f.Name), serr)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return cfg, checkOrigins(cfg.corsOrigins())
}

// publicURLs sets the public URL, if not configured, from the address the
// server is bound to — so that --addr 127.0.0.1:0 gets its real port —
// and the image base URL, if not configured, to the public URL. An
// unspecified host (:8080, 0.0.0.0) becomes localhost: other machines need
// --public-url, and publicURLs says so by returning false.
func (c *config) publicURLs(bound net.Addr) (complete bool) {
	complete = true
	if c.PublicURL == "" {
		host, port, _ := net.SplitHostPort(bound.String())
		if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
			host, complete = "localhost", false
		}
		c.PublicURL = "http://" + net.JoinHostPort(host, port)
	}
	if c.ImageBaseURL == "" {
		c.ImageBaseURL = c.PublicURL
	}
	return complete
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

// minGCGrace returns the shortest sweep grace that no upload can outlast:
// an upload holds its record while it writes its objects (a few storage
// calls, four at a time) and commits (a database call), each bounded by its
// deadline; twice that allows for clocks that disagree. A shorter grace
// would not lose images (the sweep is fenced) but would fail uploads.
func (c *config) minGCGrace() time.Duration {
	return 2 * (2*c.StorageTimeout + 2*c.DBTimeout)
}

// gcGrace returns --gc-grace for the sweeps of a serving node, raised to
// minGCGrace with a warning.
func (c *config) gcGrace(log *slog.Logger) time.Duration {
	if min := c.minGCGrace(); c.GCGrace < min {
		log.Warn("PORTRAIT_GC_GRACE is shorter than the longest upload; using the longest upload instead",
			"configured", c.GCGrace, "used", min)
		return min
	}
	return c.GCGrace
}

// corsOrigins returns the origins of --cors-origins.
func (c *config) corsOrigins() []string {
	return commaList(c.CORSOrigins)
}

// checkOrigins returns an error naming the first origin that no browser
// would ever send, such as one with a trailing slash or without a scheme:
// it would match nothing, and every preflight would fail.
func checkOrigins(origins []string) error {
	for _, o := range origins {
		if err := checkOrigin(o); err != nil {
			return fmt.Errorf("PORTRAIT_CORS_ORIGINS: %q %w", o, err)
		}
	}
	return nil
}

// checkOrigin accepts "*" and the origins browsers send (RFC 6454):
// http or https, a lower-case host, a port only if not the default, and
// nothing after it.
func checkOrigin(o string) error {
	if o == "*" {
		return nil
	}
	u, err := url.Parse(o)
	switch {
	case !strings.HasPrefix(o, "http://") && !strings.HasPrefix(o, "https://"):
		return errors.New("must start with http:// or https://, as in https://app.example.com")
	case err != nil || u.Host == "" || u.Hostname() == "":
		return errors.New("is not scheme://host[:port], as in https://app.example.com")
	case u.Path == "/" && u.RawQuery == "" && u.Fragment == "":
		return errors.New("must not end with a slash: a browser sends its origin without one")
	case u.User != nil || u.Path != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return errors.New("must be scheme://host[:port] alone, with no user, path, query or fragment")
	case strings.ToLower(o) != o:
		return errors.New("must be in lower case, as a browser sends it")
	case (u.Scheme == "http" && u.Port() == "80") || (u.Scheme == "https" && u.Port() == "443"):
		return errors.New("must not name its scheme's default port: a browser leaves it out")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return errors.New("has a port out of 1-65535")
		}
	}
	return nil
}

// previousSecrets returns the secrets of --jwt-previous-secrets.
func (c *config) previousSecrets() [][]byte {
	var out [][]byte
	for _, s := range commaList(c.JWTPreviousSecrets) {
		out = append(out, []byte(s))
	}
	return out
}

// commaList splits a comma-separated setting, trimming spaces and
// dropping empty entries.
func commaList(s string) []string {
	var out []string
	for _, o := range strings.Split(s, ",") {
		if o = strings.TrimSpace(o); o != "" {
			out = append(out, o)
		}
	}
	return out
}
