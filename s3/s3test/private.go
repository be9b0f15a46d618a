//go:build unix

package s3test

import (
	"context"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/portraitsvc/portrait/s3"
)

// Server is a versitygw of one test's own, serving one bucket from a temp
// folder, which the test may freeze, kill and start again without
// disturbing the other tests' server. It is stopped when the test ends.
type Server struct {
	tb  testing.TB
	bin string
	dir string
	cfg s3.Config
	p   *process
}

// NewServer starts a server with an empty bucket. Without versitygw it
// skips the test, or fails it where CI=true.
func NewServer(tb testing.TB) *Server {
	tb.Helper()
	bin := findVersitygw()
	if bin == "" {
		msg := "s3test: no versitygw for a server of the test's own (run .ci/s3-setup)"
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	s := &Server{tb: tb, bin: bin, dir: tb.TempDir(),
		cfg: s3.Config{Region: s3.DefaultRegion, PathStyle: true, AccessKey: "test" + randomHex(8), SecretKey: randomHex(20)}}
	var err error
	if s.p, err = launch(bin, s.dir, &s.cfg); err != nil {
		tb.Fatalf("s3test: %v", err)
	}
	tb.Cleanup(func() {
		s.Thaw()
		s.p.stop()
	})
	s.cfg.Bucket = bucketName("")
	s.createBucket()
	return s
}

// URL returns the URL of the server's bucket, without credentials.
func (s *Server) URL() string { return s.cfg.URL() }

// Config returns the Config of the server's bucket, credentials included.
func (s *Server) Config() s3.Config { return s.cfg }

// Env returns the credentials as AWS_ACCESS_KEY_ID=… entries.
func (s *Server) Env() []string {
	return []string{"AWS_ACCESS_KEY_ID=" + s.cfg.AccessKey, "AWS_SECRET_ACCESS_KEY=" + s.cfg.SecretKey}
}

// Freeze stops the server (SIGSTOP): connections are accepted by the
// kernel and nothing answers, as with a hung host.
func (s *Server) Freeze() { s.p.cmd.Process.Signal(syscall.SIGSTOP) }

// Thaw resumes a frozen server (SIGCONT).
func (s *Server) Thaw() { s.p.cmd.Process.Signal(syscall.SIGCONT) }

// Kill kills the server (SIGKILL) and waits until it has exited.
func (s *Server) Kill() {
	s.p.cmd.Process.Kill()
	<-s.p.done
}

// Start starts a killed server again, on the same address and folder.
func (s *Server) Start() {
	s.tb.Helper()
	p, err := launchAt(s.bin, s.dir, strings.TrimPrefix(s.cfg.Endpoint, "http://"), s.cfg)
	if err != nil {
		s.tb.Fatalf("s3test: start versitygw again: %v", err)
	}
	s.p = p
}

func (s *Server) createBucket() {
	s.tb.Helper()
	client, err := s3.NewClient(context.Background(), s.cfg)
	if err == nil {
		_, err = client.CreateBucket(s.tb.Context(), &awss3.CreateBucketInput{Bucket: aws.String(s.cfg.Bucket)})
	}
	if err != nil {
		s.tb.Fatalf("s3test: create bucket: %v", err)
	}
}
