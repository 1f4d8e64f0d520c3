//go:build linux || darwin

package control_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rpcssh/rpcssh/tunnel"
	"github.com/rpcssh/rpcssh/tunnel/control"
)

// serveInProcess dials sshd and serves a master on f.path in this process;
// the returned channel yields Serve's result.
func serveInProcess(t *testing.T, f *fixture, cfg control.MasterConfig) (*tunnel.Client, <-chan error) {
	t.Helper()
	ctx := testCtx(t)
	sock, err := control.Listen(ctx, f.path)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	c, err := tunnel.Dial(ctx, f.config())
	if err != nil {
		sock.Close()
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	done := make(chan error, 1)
	finished := make(chan struct{})
	sctx, cancel := context.WithCancel(context.Background())
	go func() {
		done <- control.Serve(sctx, sock, c, cfg)
		close(finished)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-finished:
		case <-time.After(30 * time.Second):
			t.Errorf("Serve did not return 30 s after its context ended")
		}
	})
	return c, done
}

func roundTrip(t *testing.T, conn net.Conn, msg string) {
	t.Helper()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, msg); err != nil {
		t.Fatalf("write: %v", err)
	}
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(conn, buf); err != nil {
		t.Fatalf("read: %v", err)
	}
	if string(buf) != msg {
		t.Fatalf("got %q, want %q", buf, msg)
	}
	conn.SetDeadline(time.Time{})
}

func logins(f *fixture) int {
	return strings.Count(f.sshd.Log(), "Accepted publickey for ")
}

func TestWarmDialThroughMaster(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	serveInProcess(t, f, control.MasterConfig{})
	for i := range 3 {
		conn, err := control.Dial(testCtx(t), f.path, "tcp", f.target)
		if err != nil {
			t.Fatalf("Dial %d: %v", i, err)
		}
		roundTrip(t, conn, fmt.Sprintf("call %d", i))
		conn.Close()
	}
	st, err := control.Query(testCtx(t), f.path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Opened != 3 || st.PID != os.Getpid() {
		t.Errorf("status = %+v, want 3 opened by pid %d", st, os.Getpid())
	}
	if got := logins(f); got != 1 {
		t.Errorf("sshd saw %d logins, want 1 (one connection shared)", got)
	}
}

func TestPrefetchedChannelServesNextRequest(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	serveInProcess(t, f, control.MasterConfig{Prefetch: true})
	for i := range 4 {
		conn, err := control.Dial(testCtx(t), f.path, "tcp", f.target)
		if err != nil {
			t.Fatalf("Dial %d: %v", i, err)
		}
		roundTrip(t, conn, fmt.Sprintf("call %d", i))
		conn.Close()
	}
	// Another target does not get the spare meant for the first.
	other := startEcho(t)
	conn, err := control.Dial(testCtx(t), f.path, "tcp", other)
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, conn, "other target")
	conn.Close()
}

func TestOpenRefusedIsOpenError(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	serveInProcess(t, f, control.MasterConfig{})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := l.Addr().String()
	l.Close()
	_, err = control.Dial(testCtx(t), f.path, "tcp", refused)
	var oe *control.OpenError
	if !errors.As(err, &oe) {
		t.Fatalf("Dial to a closed port: %v, want *control.OpenError", err)
	}
}

func TestManyProcessesShareOneMaster(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	m := startHelper(t, f.job("master", time.Minute))
	m.waitOutput(t, "master")
	const callers = 8
	var hs []*helper
	for range callers {
		job := f.job("echo", 0)
		job.RoundTrip = 20
		hs = append(hs, startHelper(t, job))
	}
	for i, h := range hs {
		if err := h.wait(t); err != nil {
			t.Errorf("caller %d: %v\n%s", i, err, h.output())
		}
	}
	st, err := control.Query(testCtx(t), f.path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Opened != callers {
		t.Errorf("master opened %d channels, want %d", st.Opened, callers)
	}
	if got := logins(f); got != 1 {
		t.Errorf("sshd saw %d logins, want 1", got)
	}
}

func TestMasterKilledMidStream(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	m := startHelper(t, f.job("master", time.Minute))
	m.waitOutput(t, "master")
	conn, err := control.Dial(testCtx(t), f.path, "tcp", f.target)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	roundTrip(t, conn, "before")
	if err := m.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	m.wait(t)
	// The caller's stream ends with an error, not a hang.
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	n, err := conn.Read(make([]byte, 1))
	if err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read after the master died: n=%d err=%v, want the stream cut", n, err)
	}
	// The socket is stale now: a new Dial says so at once ...
	_, err = control.Dial(testCtx(t), f.path, "tcp", f.target)
	var ue *control.UnavailableError
	if !errors.As(err, &ue) {
		t.Fatalf("Dial to a dead master: %v, want *control.UnavailableError", err)
	}
	// ... and the next master replaces it.
	serveInProcess(t, f, control.MasterConfig{})
	conn2, err := control.Dial(testCtx(t), f.path, "tcp", f.target)
	if err != nil {
		t.Fatalf("Dial through the new master: %v", err)
	}
	roundTrip(t, conn2, "after")
	conn2.Close()
}

func TestRaceToBecomeMaster(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := startHelper(t, f.job("master", 2*time.Second))
	b := startHelper(t, f.job("master", 2*time.Second))
	outs := map[string]int{}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) && outs["master"]+outs["running"] < 2 {
		outs = map[string]int{}
		for _, h := range []*helper{a, b} {
			for _, w := range strings.Fields(h.output()) {
				outs[w]++
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if outs["master"] != 1 || outs["running"] != 1 {
		t.Fatalf("outputs %v, want one master and one running\nA:\n%s\nB:\n%s", outs, a.output(), b.output())
	}
	loser := a
	if strings.Contains(a.output(), "master") {
		loser = b
	}
	if err := loser.wait(t); err != nil || !strings.Contains(loser.output(), "echoed") {
		t.Fatalf("the loser did not use the winner: %v\n%s", err, loser.output())
	}
	if got := logins(f); got != 1 {
		t.Errorf("sshd saw %d logins, want 1", got)
	}
}

func TestStaleSocketIsUnavailableThenReplaced(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: f.path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false)
	l.Close() // a socket file nobody listens on, as after a crash
	start := time.Now()
	_, err = control.Dial(testCtx(t), f.path, "tcp", f.target)
	var ue *control.UnavailableError
	if !errors.As(err, &ue) {
		t.Fatalf("Dial to a stale socket: %v, want *control.UnavailableError", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Dial to a stale socket took %v", d)
	}
	serveInProcess(t, f, control.MasterConfig{})
	conn, err := control.Dial(testCtx(t), f.path, "tcp", f.target)
	if err != nil {
		t.Fatalf("Dial after Listen replaced the stale socket: %v", err)
	}
	roundTrip(t, conn, "fresh")
	conn.Close()
}

func TestNonSocketFileIsNotRemoved(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if err := os.WriteFile(f.path, []byte("not a socket"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := control.Listen(testCtx(t), f.path); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Fatalf("Listen over a regular file: %v, want 'not a socket'", err)
	}
	if b, _ := os.ReadFile(f.path); string(b) != "not a socket" {
		t.Errorf("the file was changed: %q", b)
	}
}

func TestMasterEnds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  control.MasterConfig
		end  func(t *testing.T, f *fixture)
		want func(error) bool
	}{
		{"idle", control.MasterConfig{Idle: 300 * time.Millisecond},
			func(*testing.T, *fixture) {},
			func(err error) bool { return errors.Is(err, control.ErrIdle) }},
		{"stop request", control.MasterConfig{},
			func(t *testing.T, f *fixture) {
				if err := control.Stop(testCtx(t), f.path); err != nil {
					t.Fatal(err)
				}
			},
			func(err error) bool { return errors.Is(err, control.ErrStopped) }},
		{"link dies", control.MasterConfig{},
			func(t *testing.T, f *fixture) { f.sshd.Stop() },
			func(err error) bool {
				return err != nil && !errors.Is(err, control.ErrIdle) && !errors.Is(err, control.ErrStopped)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			_, done := serveInProcess(t, f, tt.cfg)
			tt.end(t, f)
			select {
			case err := <-done:
				if !tt.want(err) {
					t.Errorf("Serve = %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("Serve still running 30 s later")
			}
			if _, err := os.Lstat(f.path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("socket left behind: %v", err)
			}
		})
	}
}

func TestIdleWaitsForOpenStreams(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, done := serveInProcess(t, f, control.MasterConfig{Idle: 200 * time.Millisecond})
	conn, err := control.Dial(testCtx(t), f.path, "tcp", f.target)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(600 * time.Millisecond) // three idle times with a stream open
	roundTrip(t, conn, "still here")
	select {
	case err := <-done:
		t.Fatalf("Serve returned with a stream open: %v", err)
	default:
	}
	conn.Close()
	select {
	case err := <-done:
		if !errors.Is(err, control.ErrIdle) {
			t.Errorf("Serve = %v, want ErrIdle", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Serve still running 30 s after the last stream closed")
	}
}

func TestListShowsLiveMasters(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	serveInProcess(t, f, control.MasterConfig{Identity: control.Identity{User: "u", Addr: "h:22"}})
	sts, err := control.List(testCtx(t), f.dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(sts) != 1 || sts[0].Path != f.path || sts[0].Identity.Addr != "h:22" {
		t.Fatalf("List = %+v, want the one master at %s", sts, f.path)
	}
}

func TestConcurrentStreamsInOneProcess(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	serveInProcess(t, f, control.MasterConfig{Prefetch: true})
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := control.Dial(testCtx(t), f.path, "tcp", f.target)
			if err != nil {
				errs <- err
				return
			}
			defer conn.Close()
			msg := fmt.Sprintf("stream %d", i)
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			io.WriteString(conn, msg)
			buf := make([]byte, len(msg))
			if _, err := io.ReadFull(conn, buf); err != nil || string(buf) != msg {
				errs <- fmt.Errorf("stream %d: got %q, %v", i, buf, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestWatchSaysWhyTheMasterEnded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		end  func(t *testing.T, f *fixture, m *helper)
		want string
	}{
		{"stopped", func(t *testing.T, f *fixture, _ *helper) {
			if err := control.Stop(testCtx(t), f.path); err != nil {
				t.Fatal(err)
			}
		}, "stopped on request"},
		{"link died", func(t *testing.T, f *fixture, _ *helper) { f.sshd.Stop() }, ""},
		{"killed", func(t *testing.T, _ *fixture, m *helper) { m.cmd.Process.Kill() }, control.ErrMasterGone.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			m := startHelper(t, f.job("master", time.Minute))
			m.waitOutput(t, "master")
			w, err := control.Watch(testCtx(t), f.path)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			select {
			case <-w.Done():
				t.Fatal("Done before the master ended")
			case <-time.After(200 * time.Millisecond):
			}
			tt.end(t, f, m)
			select {
			case <-w.Done():
			case <-time.After(30 * time.Second):
				t.Fatal("Done not closed 30 s after the master ended")
			}
			if err := w.Err(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Err() = %v, want it to say %q", err, tt.want)
			}
		})
	}
}
