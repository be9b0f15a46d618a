package pgtest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/portraitsvc/portrait/internal/testproc"
)

// Server is a PostgreSQL server of one test's own, in a temp folder, on a
// loopback port, which the test may freeze, kill and start again — what
// must never be done to the machine's shared server. Signals go to the
// postmaster and every process it started (each backend is a process group
// of its own, so a group signal would miss them). It is stopped when the
// test ends; its log is shown if the test failed.
type Server struct {
	tb       testing.TB
	bin      string // folder of initdb and postgres
	dir      string
	port     int
	settings []string
	cred     *syscall.Credential
	cmd      *exec.Cmd
	done     chan struct{}
	log      *testproc.Log
}

// NewServer initializes and starts a server with the given settings
// ("max_connections=10", …). Without PostgreSQL's binaries it skips the
// test, or fails it where CI=true.
func NewServer(tb testing.TB, settings ...string) *Server {
	tb.Helper()
	s := &Server{tb: tb, bin: serverBinaries(), settings: settings, log: &testproc.Log{}}
	if s.bin == "" {
		skipOrFail(tb, "PostgreSQL's server binaries (initdb, postgres) not found")
	}
	s.dir = tempDir(tb)
	s.port = freePort(tb)
	s.cred = unprivileged(tb, s.dir)
	s.initdb()
	s.Start()
	tb.Cleanup(func() {
		s.Thaw()
		s.Kill()
		if tb.Failed() {
			tb.Logf("log of the test's PostgreSQL:\n%s", s.log.Tail(4000))
		}
	})
	return s
}

// URL returns the URL of the server's postgres database as its superuser.
func (s *Server) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=2", s.port)
}

// Start starts the server, which must not be running, and waits until it
// accepts connections.
func (s *Server) Start() {
	s.tb.Helper()
	args := []string{"-D", filepath.Join(s.dir, "data"), "-p", strconv.Itoa(s.port), "-k", s.dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "full_page_writes=off"}
	for _, kv := range s.settings {
		args = append(args, "-c", kv)
	}
	s.cmd = exec.Command(filepath.Join(s.bin, "postgres"), args...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Credential: s.cred}
	s.done = make(chan struct{})
	if err := startLocked(s.cmd, s.done); err != nil {
		s.tb.Fatalf("pgtest: start postgres: %v", err)
	}
	s.waitReady()
}

// Freeze stops every process of the server (SIGSTOP): connections stay
// open and nothing answers, as with a hung host.
func (s *Server) Freeze() { s.signal(syscall.SIGSTOP) }

// Thaw resumes a frozen server (SIGCONT).
func (s *Server) Thaw() { s.signal(syscall.SIGCONT) }

// Kill kills every process of the server (SIGKILL), as a crash would, and
// waits for the postmaster to exit. Killing a server that is not running
// does nothing.
func (s *Server) Kill() {
	select {
	case <-s.done:
		return
	default:
	}
	s.signal(syscall.SIGKILL)
	<-s.done
}

// signal sends sig to the postmaster, then to every process it started.
// A stopped postmaster starts none meanwhile.
func (s *Server) signal(sig syscall.Signal) {
	postmaster := s.cmd.Process.Pid
	for _, pid := range append([]int{postmaster}, children(postmaster)...) {
		syscall.Kill(pid, sig)
	}
}

// children returns the processes whose parent is pid, from /proc.
func children(pid int) []int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var out []int
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces and parentheses.
		rest := string(b[bytes.LastIndexByte(b, ')')+1:])
		var state string
		var child, ppid int
		if _, err := fmt.Sscan(rest, &state, &ppid); err == nil && ppid == pid {
			child, _ = strconv.Atoi(filepath.Base(filepath.Dir(path)))
			out = append(out, child)
		}
	}
	return out
}

// initdb creates the cluster, with trust authentication.
func (s *Server) initdb() {
	s.tb.Helper()
	cmd := exec.Command(filepath.Join(s.bin, "initdb"), "-D", filepath.Join(s.dir, "data"),
		"-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	if out, err := cmd.CombinedOutput(); err != nil {
		s.tb.Fatalf("pgtest: initdb: %v\n%s", err, out)
	}
}

// waitReady waits up to 30 s for the server to accept a connection.
func (s *Server) waitReady() {
	s.tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn, err := pgx.Connect(ctx, s.URL())
		cancel()
		if err == nil {
			conn.Close(context.Background())
			return
		}
		select {
		case <-s.done:
			s.tb.Fatalf("pgtest: postgres exited: %v", s.cmd.ProcessState)
		default:
		}
		if time.Now().After(deadline) {
			s.tb.Fatalf("pgtest: postgres did not accept connections within 30 s: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startLocked starts cmd from a goroutine locked to its OS thread until
// cmd exits, so that Pdeathsig kills it when the test binary dies, and
// closes done when it has exited.
func startLocked(cmd *exec.Cmd, done chan struct{}) error {
	started := make(chan error)
	go func() {
		runtime.LockOSThread()
		err := cmd.Start()
		started <- err
		if err == nil {
			cmd.Wait()
			runtime.UnlockOSThread()
		}
		close(done)
	}()
	return <-started
}

// serverBinaries returns the folder of initdb and postgres: on PATH, or
// the newest of Debian's /usr/lib/postgresql/<version>/bin; "" if none.
func serverBinaries() string {
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p)
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(dirs) == 0 {
		return ""
	}
	return filepath.Dir(dirs[len(dirs)-1])
}

// unprivileged returns the credential to run the server with, and gives
// dir to it: PostgreSQL refuses to run as root, so a root test runs it as
// the postgres user; any other user runs it as itself (nil).
func unprivileged(tb testing.TB, dir string) *syscall.Credential {
	tb.Helper()
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		skipOrFail(tb, "running as root and there is no postgres user to run a test server as")
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
}

// tempDir returns a new folder removed when the test ends. Unlike
// tb.TempDir's, its parent is open to other users, as it must be for a
// server running as the postgres user.
func tempDir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.MkdirTemp("", "portrait-pgtest-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func freePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// skipOrFail skips the test with msg, or fails it where CI=true.
func skipOrFail(tb testing.TB, msg string) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatal("pgtest: " + msg)
	}
	tb.Skip("pgtest: " + msg)
}
