package s3test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/portraitsvc/portrait/s3"
)

// versitygwModule is what .ci/s3-setup installs.
const versitygwModule = "github.com/versity/versitygw/cmd/versitygw@v1.8.0"

// findVersitygw returns the path of the versitygw binary on PATH, in GOBIN
// or in GOPATH/bin, or "" if there is none.
func findVersitygw() string {
	name := "versitygw"
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output()
	if err != nil {
		return ""
	}
	gobin, gopath, _ := strings.Cut(string(out), "\n")
	dirs := []string{strings.TrimSpace(gobin)}
	for _, p := range filepath.SplitList(strings.TrimSpace(gopath)) {
		dirs = append(dirs, filepath.Join(p, "bin"))
	}
	for _, d := range dirs {
		if fi, err := os.Stat(filepath.Join(d, name)); d != "" && err == nil && fi.Mode().IsRegular() {
			return filepath.Join(d, name)
		}
	}
	return ""
}

// startVersitygw starts bin serving a new temp folder with random root
// credentials, trying again on another port if the first is taken.
func startVersitygw(bin string) server {
	dir, err := os.MkdirTemp("", "portrait-s3test-")
	if err != nil {
		return server{err: err}
	}
	cfg := s3.Config{Region: s3.DefaultRegion, PathStyle: true, AccessKey: "test" + randomHex(8), SecretKey: randomHex(20)}
	for range 3 {
		var p *process
		if p, err = launch(bin, dir, &cfg); err == nil {
			return server{
				cfg:  cfg,
				env:  []string{"AWS_ACCESS_KEY_ID=" + cfg.AccessKey, "AWS_SECRET_ACCESS_KEY=" + cfg.SecretKey},
				stop: func() { p.stop(); os.RemoveAll(dir) },
			}
		}
	}
	os.RemoveAll(dir)
	return server{err: err}
}

// process is a running versitygw.
type process struct {
	cmd  *exec.Cmd
	out  *boundedBuffer
	done chan struct{} // closed when the process has exited
}

// launch starts bin on a free loopback port, sets cfg.Endpoint to it and
// waits until the server answers.
func launch(bin, dir string, cfg *s3.Config) (*process, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cfg.Endpoint = "http://" + addr
	return launchAt(bin, dir, addr, *cfg)
}

// launchAt starts bin on addr and waits until the server answers.
func launchAt(bin, dir, addr string, cfg s3.Config) (*process, error) {
	p := &process{
		cmd:  exec.Command(bin, "--port", addr, "--quiet", "posix", dir),
		out:  &boundedBuffer{},
		done: make(chan struct{}),
	}
	p.cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+cfg.AccessKey, "ROOT_SECRET_KEY="+cfg.SecretKey)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.SysProcAttr = sysProcAttr()
	if err := p.start(); err != nil {
		return nil, fmt.Errorf("start versitygw: %w", err)
	}
	if err := p.waitReady(cfg); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

// start starts the process from a goroutine locked to its OS thread until
// the process exits: on Linux the process is killed when the thread that
// started it ends (see sysProcAttr), so it dies with the test binary.
func (p *process) start() error {
	started := make(chan error)
	go func() {
		runtime.LockOSThread()
		err := p.cmd.Start()
		started <- err
		if err != nil {
			return // the locked thread ends, with nothing to kill
		}
		p.cmd.Wait()
		close(p.done)
		runtime.UnlockOSThread()
	}()
	return <-started
}

// waitReady waits for the server to answer an authenticated request.
func (p *process) waitReady(cfg s3.Config) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, err := s3.NewClient(ctx, cfg)
	if err != nil {
		return err
	}
	for {
		attempt, cancelAttempt := context.WithTimeout(ctx, 2*time.Second)
		_, err = client.ListBuckets(attempt, &awss3.ListBucketsInput{})
		cancelAttempt()
		if err == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("versitygw exited: %v\n%s", p.cmd.ProcessState, p.out)
		case <-ctx.Done():
			return fmt.Errorf("versitygw did not answer within 30s: %w\n%s", err, p.out)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stop asks the process to exit, kills it after 5 seconds and waits for it.
func (p *process) stop() {
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil && !errors.Is(err, os.ErrProcessDone) {
		p.cmd.Process.Kill()
	}
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// boundedBuffer keeps the first 64 KiB written to it, for error messages.
type boundedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p[:min(len(p), max(0, 64<<10-b.buf.Len()))])
	return len(p), nil
}

func (b *boundedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
