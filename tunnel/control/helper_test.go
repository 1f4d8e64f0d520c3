//go:build linux || darwin

package control_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/rpcssh/rpcssh/internal/racetest"
	"github.com/rpcssh/rpcssh/tunnel"
	"github.com/rpcssh/rpcssh/tunnel/control"
	"github.com/rpcssh/rpcssh/tunnel/tunneltest"
)

// The tests run masters and callers as separate processes: the test binary
// re-executed with CONTROL_TEST_HELPER set to a JSON helperJob.
type helperJob struct {
	Role      string        // "master" (become or use one) or "echo" (use one)
	Path      string        // control socket
	SSHAddr   string        // sshd
	User      string        // login
	Key       string        // client key file
	Known     string        // known_hosts
	Target    string        // echo server behind sshd
	Idle      time.Duration // master's idle time
	RoundTrip int           // echo: round trips to make
}

func TestMain(m *testing.M) {
	if err := racetest.NoExitSleep(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if spec := os.Getenv("CONTROL_TEST_HELPER"); spec != "" {
		var job helperJob
		if err := json.Unmarshal([]byte(spec), &job); err != nil {
			fmt.Println("bad job:", err)
			os.Exit(3)
		}
		if err := runHelper(job); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runHelper does job, printing one word per step on stdout for the test.
func runHelper(job helperJob) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	switch job.Role {
	case "master":
		sock, err := control.Listen(ctx, job.Path)
		if errors.Is(err, control.ErrMasterRunning) {
			fmt.Println("running")
			return echoVia(ctx, job.Path, job.Target, 1)
		}
		if err != nil {
			return err
		}
		c, err := tunnel.Dial(ctx, helperConfig(job))
		if err != nil {
			sock.Close()
			return err
		}
		defer c.Close()
		fmt.Println("master")
		return ignoreEnd(control.Serve(context.Background(), sock, c, control.MasterConfig{Idle: job.Idle}))
	case "echo":
		return echoVia(ctx, job.Path, job.Target, job.RoundTrip)
	}
	return fmt.Errorf("unknown role %q", job.Role)
}

func ignoreEnd(err error) error {
	if errors.Is(err, control.ErrIdle) || errors.Is(err, control.ErrStopped) {
		return nil
	}
	return err
}

func helperConfig(job helperJob) tunnel.Config {
	cfg := tunnel.Config{Addr: job.SSHAddr, User: job.User, KnownHostsFiles: []string{job.Known}}
	if signer, err := tunnel.LoadKey(job.Key, nil); err == nil {
		cfg.Auth = []ssh.AuthMethod{ssh.PublicKeys(signer)}
	}
	return cfg
}

// echoVia makes n round trips on one stream through the master at path.
func echoVia(ctx context.Context, path, target string, n int) error {
	conn, err := control.Dial(ctx, path, "tcp", target)
	if err != nil {
		return err
	}
	defer conn.Close()
	for i := range n {
		msg := fmt.Sprintf("round trip %d from %d\n", i, os.Getpid())
		if _, err := io.WriteString(conn, msg); err != nil {
			return err
		}
		buf := make([]byte, len(msg))
		if _, err := io.ReadFull(conn, buf); err != nil {
			return err
		}
		if string(buf) != msg {
			return fmt.Errorf("echo %q, want %q", buf, msg)
		}
	}
	fmt.Println("echoed")
	return nil
}

// fixture is one real sshd, an echo server behind it and a private
// socket directory.
type fixture struct {
	sshd   *tunneltest.SSHD
	known  string
	target string
	dir    string
	path   string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	s := tunneltest.StartSSHD(t, tunneltest.SSHDConfig{})
	known := filepath.Join(t.TempDir(), "known_hosts")
	if err := s.WriteKnownHosts(known, false); err != nil {
		t.Fatal(err)
	}
	// A short directory: socket paths are limited to about 100 bytes.
	dir, err := os.MkdirTemp("", "rc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := control.MakeDir(dir); err != nil {
		t.Fatal(err)
	}
	f := &fixture{sshd: s, known: known, target: startEcho(t), dir: dir}
	id, err := control.IdentityOf(f.config())
	if err != nil {
		t.Fatal(err)
	}
	f.path = control.SocketPath(dir, id)
	return f
}

func (f *fixture) config() tunnel.Config {
	return helperConfig(f.job("", 0))
}

func (f *fixture) job(role string, idle time.Duration) helperJob {
	return helperJob{Role: role, Path: f.path, SSHAddr: f.sshd.Addr(), User: f.sshd.User,
		Key: f.sshd.ClientKeyPath, Known: f.known, Target: f.target, Idle: idle, RoundTrip: 1}
}

// helper is a running helper process and its output so far.
type helper struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  strings.Builder
	done chan error
}

func startHelper(t *testing.T, job helperJob) *helper {
	t.Helper()
	spec, err := json.Marshal(job)
	if err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	h := &helper{cmd: exec.Command(exe, "-test.run=^$"), done: make(chan error, 1)}
	h.cmd.Env = append(os.Environ(), "CONTROL_TEST_HELPER="+string(spec))
	h.cmd.Stdout = h
	h.cmd.Stderr = h
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { h.done <- h.cmd.Wait() }()
	t.Cleanup(func() {
		h.cmd.Process.Kill()
		<-h.done
		h.done <- nil
	})
	return h
}

func (h *helper) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.out.Write(p)
}

func (h *helper) output() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.out.String()
}

// waitOutput waits up to 30 s for word on a line of h's output.
func (h *helper) waitOutput(t *testing.T, word string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(h.output(), "\n") {
			if line == word {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("helper did not print %q within 30 s; output:\n%s", word, h.output())
}

// wait waits up to 30 s for h to exit and returns its error.
func (h *helper) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-h.done:
		h.done <- err
		return err
	case <-time.After(30 * time.Second):
		t.Fatalf("helper still running after 30 s; output:\n%s", h.output())
		return nil
	}
}

func startEcho(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			// Streams end when their callers or sshd close them.
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
	return l.Addr().String()
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
