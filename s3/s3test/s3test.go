// Package s3test gives tests a fresh bucket on a real S3 server.
//
// The server is, in order:
//   - the one that PORTRAIT_TEST_S3_URL names, "s3://<name>?endpoint=...",
//     with credentials from the standard AWS chain (AWS_ACCESS_KEY_ID...),
//     which must be allowed to create and delete buckets; each test gets a
//     bucket named "<name>-<random>";
//   - otherwise versitygw, if installed (see .ci/s3-setup): one process per
//     test binary, on a free loopback port, serving a temp folder, started
//     at the first use and stopped by Main;
//   - otherwise none: the test is skipped, or fails where CI=true.
//
// A package that uses s3test must run its tests through Main:
//
//	func TestMain(m *testing.M) { os.Exit(s3test.Main(m)) }
package s3test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/portraitsvc/portrait/s3"
)

// URLEnv names the environment variable that points tests at an external
// S3 server.
const URLEnv = "PORTRAIT_TEST_S3_URL"

// server is the S3 server of this test binary.
type server struct {
	cfg  s3.Config // all but the bucket name, which is a prefix here
	env  []string  // credentials as KEY=value
	stop func()    // stops the server this binary started, if any
	skip string    // why there is no server
	err  error     // why the server failed to start
}

var (
	once    sync.Once
	srv     server
	running atomic.Bool // Main is running the tests
)

// Main runs the tests, then stops the versitygw process that they started,
// if any, and returns m.Run's exit code. Call it from TestMain.
func Main(m *testing.M) int {
	running.Store(true)
	code := m.Run()
	once.Do(func() {}) // no server may start from now on
	if srv.stop != nil {
		srv.stop()
	}
	return code
}

// Config returns the Config of a fresh, empty bucket, credentials
// included, that is removed with its objects when tb ends.
func Config(tb testing.TB) s3.Config {
	tb.Helper()
	s := get(tb)
	c := s.cfg
	c.Bucket = bucketName(c.Bucket)
	createBucket(tb, c)
	return c
}

// URL returns the URL of a fresh, empty bucket that is removed when tb
// ends. It holds no credentials: a process that opens it with s3.Open
// needs the variables of Env in its environment.
func URL(tb testing.TB) string {
	tb.Helper()
	return Config(tb).URL()
}

// Env returns the server's credentials as AWS_ACCESS_KEY_ID=... and
// AWS_SECRET_ACCESS_KEY=... entries to add to a process's environment, so
// that the standard AWS chain finds them.
func Env(tb testing.TB) []string {
	tb.Helper()
	return slices.Clone(get(tb).env)
}

// get returns the server, starting it on the first call; it skips or
// fails tb if there is none.
func get(tb testing.TB) *server {
	tb.Helper()
	if !running.Load() {
		tb.Fatal("s3test: call s3test.Main(m) from TestMain, so that the S3 server is stopped")
	}
	once.Do(func() { srv = find() })
	switch {
	case srv.err != nil:
		tb.Fatalf("s3test: %v", srv.err)
	case srv.skip != "" && os.Getenv("CI") == "true":
		tb.Fatalf("s3test: %s (CI=true: S3 tests must run)", srv.skip)
	case srv.skip != "":
		tb.Skip("s3test: " + srv.skip)
	}
	return &srv
}

// find returns the external server if URLEnv is set, else a new versitygw
// server if versitygw is installed.
func find() server {
	if raw := os.Getenv(URLEnv); raw != "" {
		return external(raw)
	}
	bin := findVersitygw()
	if bin == "" {
		return server{skip: "no S3 server: install versitygw (`go install " + versitygwModule +
			"`, or run .ci/s3-setup) or set " + URLEnv}
	}
	return startVersitygw(bin)
}

// external returns the server of URL raw, with credentials from the
// standard AWS chain.
func external(raw string) server {
	cfg, err := s3.ParseURL(raw)
	if err != nil {
		return server{err: fmt.Errorf("%s: %w", URLEnv, err)}
	}
	var env []string
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return server{cfg: cfg, env: env}
}

// bucketName returns a fresh bucket name that starts with prefix, or with
// "portrait-test" if prefix is empty.
func bucketName(prefix string) string {
	if prefix == "" {
		prefix = "portrait-test"
	}
	return prefix[:min(len(prefix), 63-17)] + "-" + randomHex(8)
}

// createBucket creates c's bucket and removes it, with its objects, when tb
// ends.
func createBucket(tb testing.TB, c s3.Config) {
	tb.Helper()
	client, err := s3.NewClient(tb.Context(), c)
	if err != nil {
		tb.Fatal(err)
	}
	_, err = client.CreateBucket(tb.Context(), &awss3.CreateBucketInput{Bucket: aws.String(c.Bucket)})
	if err != nil {
		tb.Fatalf("s3test: create bucket %s: %v", c.Bucket, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := removeBucket(ctx, client, c.Bucket); err != nil {
			tb.Errorf("s3test: %v", err)
		}
	})
}

// removeBucket deletes the objects of bucket, then bucket.
func removeBucket(ctx context.Context, client *awss3.Client, bucket string) error {
	p := awss3.NewListObjectsV2Paginator(client, &awss3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("empty bucket %s: %w", bucket, err)
		}
		for _, o := range page.Contents {
			_, err := client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(bucket), Key: o.Key})
			if err != nil {
				return fmt.Errorf("empty bucket %s: %w", bucket, err)
			}
		}
	}
	if _, err := client.DeleteBucket(ctx, &awss3.DeleteBucketInput{Bucket: aws.String(bucket)}); err != nil {
		return fmt.Errorf("delete bucket %s: %w", bucket, err)
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
