//go:build unix

package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rpcssh/rpcssh/rpc"
	"github.com/rpcssh/rpcssh/tunnel/tunneltest"
)

// Reliability tests that run rpcssh as a separate process: the copy of
// this test binary that testscript.Main puts on $PATH as "rpcssh", or, where
// memory is measured, a plain (non-race) build of the command.

// relBuffer is an io.Writer safe for concurrent use that tells waiters
// when a pattern shows up.
type relBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	ch  chan struct{} // closed and replaced on every write
}

func newRelBuffer() *relBuffer { return &relBuffer{ch: make(chan struct{})} }

func (b *relBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	close(b.ch)
	b.ch = make(chan struct{})
	return b.buf.Write(p)
}

func (b *relBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// wait returns the first submatch of re once the output matches it, or
// fails the test after d.
func (b *relBuffer) wait(t *testing.T, re *regexp.Regexp, d time.Duration) []string {
	t.Helper()
	deadline := time.After(d)
	for {
		b.mu.Lock()
		m := re.FindStringSubmatch(b.buf.String())
		ch := b.ch
		b.mu.Unlock()
		if m != nil {
			return m
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("no %q in the output after %v:\n%s", re, d, b.String())
		}
	}
}

// relProc is an rpcssh process started by a test.
type relProc struct {
	cmd            *exec.Cmd
	stdout, stderr *relBuffer
	done           chan struct{} // closed when it has exited
	err            error         // Wait's result, once done
}

// relBinary is the rpcssh that testscript.Main put on $PATH.
func relBinary(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("rpcssh")
	if err != nil {
		t.Fatalf("rpcssh not on $PATH (testscript.Main should put it there): %v", err)
	}
	return bin
}

// startRel starts bin with args and extra environment; the process is
// killed (if still running) and reaped when the test ends.
func startRel(t *testing.T, bin string, env []string, args ...string) *relProc {
	t.Helper()
	return startRelCmd(t, exec.Command(bin, args...), env)
}

// startRelCmd starts cmd as startRel does: a home of its own, no agent,
// password or passphrase from the test's environment, no shared link,
// then env.
func startRelCmd(t *testing.T, cmd *exec.Cmd, env []string) *relProc {
	t.Helper()
	p := &relProc{cmd: cmd, stdout: newRelBuffer(), stderr: newRelBuffer(), done: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "SSH_AUTH_SOCK=", "RPCSSH_PASSWORD=", "RPCSSH_PASSPHRASE=", "RPCSSH_CONTROL_PERSIST=0") // each process its own link
	p.cmd.Env = append(p.cmd.Env, env...)
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("%s stderr:\n%s", filepath.Base(p.cmd.Path), p.stderr.String())
		}
	})
	return p
}

// exited waits at most d for the process to end and returns its exit code.
func (p *relProc) exited(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(d):
		t.Fatalf("%s still running after %v; stderr:\n%s", p.cmd.Path, d, p.stderr.String())
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	if p.err != nil {
		t.Fatalf("wait: %v", p.err)
	}
	return 0
}

var serveAddrRE = regexp.MustCompile(`serving XML-RPC on http://([0-9.:]+)/RPC2`)

// startServe runs `rpcssh serve --port 0` with password pw and returns the
// process and its host:port.
func startServe(t *testing.T, bin, pw string, args ...string) (*relProc, string) {
	t.Helper()
	p := startRel(t, bin, []string{"RPCSSH_PASSWORD=" + pw}, append([]string{"serve", "--port", "0"}, args...)...)
	return p, p.stderr.wait(t, serveAddrRE, 20*time.Second)[1]
}

// relClient is an rpc.Client for a serve at addr.
func relClient(t *testing.T, addr, pw string) *rpc.Client {
	t.Helper()
	c, err := rpc.NewClient(rpc.ClientConfig{URL: "http://" + addr + "/RPC2", Username: "user", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func relCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// mustServeEcho checks that serve's echo (which uppercases) answers.
func mustServeEcho(t *testing.T, c *rpc.Client) {
	t.Helper()
	var got string
	if err := c.Call(relCtx(t, 20*time.Second), "echo", []any{"still there"}, &got); err != nil || got != "STILL THERE" {
		t.Fatalf("echo = %q, %v; want %q", got, err, "STILL THERE")
	}
}

// zeros is an endless reader of '<' bytes (not valid XML, never decoded).
type relFiller struct{ n, max int64 }

func (f *relFiller) Read(p []byte) (int, error) {
	if f.n >= f.max {
		return 0, io.EOF
	}
	if rem := f.max - f.n; int64(len(p)) > rem {
		p = p[:rem]
	}
	if len(p) > 0 {
		p[0] = '<'
		for n := 1; n < len(p); n *= 2 { // copy, not a store per byte: -race instruments each
			copy(p[n:], p[:n])
		}
	}
	f.n += int64(len(p))
	return len(p), nil
}

// sendHuge posts body over a raw connection to addr with the given extra
// header lines (Content-Length when size >= 0, else chunked) and returns
// the status and how many body bytes the client got to write before the
// server answered and closed the connection.
func sendHuge(t *testing.T, addr, headers string, body io.Reader, size int64) (int, int64) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	framing := "Transfer-Encoding: chunked\r\n"
	if size >= 0 {
		framing = fmt.Sprintf("Content-Length: %d\r\n", size)
	}
	type result struct {
		n   int64
		err error
	}
	wrote := make(chan result, 1)
	go func() {
		if _, err := fmt.Fprintf(conn, "POST /RPC2 HTTP/1.1\r\nHost: x\r\n%s%sContent-Type: text/xml\r\n\r\n", headers, framing); err != nil {
			wrote <- result{0, err}
			return
		}
		var w io.Writer = conn
		var cw io.WriteCloser
		if size < 0 {
			cw = httputil.NewChunkedWriter(conn)
			w = cw
		}
		n, err := io.Copy(w, body)
		if cw != nil && err == nil {
			err = cw.Close()
		}
		wrote <- result{n, err}
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	resp.Body.Close()
	var r result
	select {
	case r = <-wrote:
	case <-time.After(30 * time.Second):
		t.Fatal("still writing the body 30 s after the answer: the server keeps reading")
	}
	return resp.StatusCode, r.n
}

// TestServeMemoryBoundedUnderHugeBodies offers `rpcssh serve` (default
// 64 MiB limit) 512 MiB bodies with and without valid credentials, and a
// gzip bomb of 1 GiB of zeros; each is refused with its status, the client
// cannot push the whole body, serve's peak RSS (VmHWM) stays far below the
// size offered, and serve still answers.
func TestServeMemoryBoundedUnderHugeBodies(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds rpcssh and moves 512 MiB bodies")
	}
	const (
		huge  = 512 << 20 // offered per body
		limit = 64 << 20  // serve's default --max-body-mib
	)
	const pw = "rss-test-password"
	bin := testBinary(t) // without -race, so that its memory is its own
	var bomb bytes.Buffer
	{
		var one bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&one, gzip.BestCompression)
		zw.Write(make([]byte, 1<<20))
		zw.Close()
		for range 1024 { // gzip members concatenate: 1 GiB of zeros in about 1 MiB
			bomb.Write(one.Bytes())
		}
	}
	valid := "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("user:"+pw)) + "\r\n"
	tests := []struct {
		name    string
		headers string
		size    int64 // -1: chunked
		body    func() io.Reader
		want    int
	}{
		{"no credentials, Content-Length 512 MiB", "", huge, nil, 401},
		{"no credentials, chunked 512 MiB", "", -1, nil, 401},
		{"valid credentials, Content-Length 512 MiB", valid, huge, nil, 413},
		{"valid credentials, chunked 512 MiB", valid, -1, nil, 413},
		{"gzip bomb, 1 GiB of zeros", valid + "Content-Encoding: gzip\r\n", int64(bomb.Len()), func() io.Reader { return bytes.NewReader(bomb.Bytes()) }, 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A fresh serve per case, so each peak is its own.
			srv, addr := startServe(t, bin, pw)
			_, statErr := os.Stat(fmt.Sprintf("/proc/%d/status", srv.cmd.Process.Pid))
			rss := func() int64 {
				if statErr != nil {
					return -1
				}
				n, err := peakRSS(srv.cmd.Process.Pid)
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
			c := relClient(t, addr, pw)
			mustServeEcho(t, c)
			base := rss()
			body := io.Reader(&relFiller{max: huge})
			if tt.body != nil {
				body = tt.body()
			}
			status, n := sendHuge(t, addr, tt.headers, body, tt.size)
			if status != tt.want {
				t.Errorf("status %d, want %d", status, tt.want)
			}
			if tt.body == nil && n >= huge {
				t.Errorf("the client wrote all %d bytes; want serve to stop it early", n)
			}
			mustServeEcho(t, c)
			if statErr != nil {
				t.Logf("status %d; client wrote %d MiB; no /proc (%v): memory not measured", status, n>>20, statErr)
				return
			}
			// serve may hold one body up to the limit. Measured: about 4.2 x
			// the limit (271 MiB at 64 MiB) for a body cut at the limit, from
			// bytes.Buffer's doublings (garbage not yet collected) and its
			// last doubling, 64 -> 128 MiB, for the one byte past the limit.
			// The bound allows 5 x; what serve must not do is grow with the
			// body offered (the seed server peaked at 1.5 GiB for 256 MiB).
			peak := rss()
			bound := base + 5*limit
			t.Logf("status %d; client wrote %d MiB; serve VmHWM %d MiB at start, %d MiB after (limit %d MiB, bound %d MiB)",
				status, n>>20, base>>20, peak>>20, limit>>20, bound>>20)
			if peak > bound || peak >= huge {
				t.Errorf("serve VmHWM %d MiB, want under %d MiB (5 x the limit) and under the %d MiB offered", peak>>20, bound>>20, huge>>20)
			}
		})
	}
}

// TestServeSIGTERMFinishesCallsInFlight starts `rpcssh serve --methods`
// with a method that runs a one-second program, starts several calls,
// sends SIGTERM while all of them are running, and expects every call to
// get its full answer, new connections to be refused, and serve to exit 0.
func TestServeSIGTERMFinishesCallsInFlight(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	const n = 4
	dir := t.TempDir()
	started := filepath.Join(dir, "started")
	methods := filepath.Join(dir, "methods.toml")
	toml := fmt.Sprintf(`[[method]]
name = "slow"
help = "Writes a line to a file, sleeps a second, prints done."
argv = ["/bin/sh", "-c", "echo x >> %s; sleep 1; echo done"]
env = ["PATH"]
timeout = "30s"
max_concurrent = %d
`, started, n)
	if err := os.WriteFile(methods, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	const pw = "sigterm-test"
	srv, addr := startServe(t, relBinary(t), pw, "--methods", methods, "--state-dir", filepath.Join(dir, "state"))
	c := relClient(t, addr, pw)
	type answer struct {
		res map[string]any
		err error
	}
	answers := make(chan answer, n)
	for range n {
		go func() {
			var res map[string]any
			err := c.Call(relCtx(t, 30*time.Second), "slow", nil, &res)
			answers <- answer{res, err}
		}()
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, _ := os.ReadFile(started)
		if bytes.Count(b, []byte("\n")) == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d calls started in 20 s", bytes.Count(b, []byte("\n")), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Shutdown has begun once the listener is closed.
	for deadline := time.Now().Add(10 * time.Second); ; {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		conn.Close()
		if time.Now().After(deadline) {
			t.Fatal("serve still accepting connections 10 s after SIGTERM")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for range n {
		a := <-answers
		if a.err != nil || a.res["stdout"] != "done\n" || a.res["exit_code"] != int64(0) {
			t.Errorf("call in flight at SIGTERM = %v, %v; want exit_code 0, stdout \"done\\n\"", a.res, a.err)
		}
	}
	if code := srv.exited(t, 20*time.Second); code != 0 {
		t.Errorf("serve exit code = %d, want 0", code)
	}
	if !strings.Contains(srv.stderr.String(), "rpcssh: stopped") {
		t.Errorf("serve did not report stopping:\n%s", srv.stderr.String())
	}
}

// TestSecretsStayOutOfPsAndLogs runs serve with the password in
// RPCSSH_PASSWORD and checks that neither its command line (what ps shows)
// nor its log of right and wrong calls holds the password, the wrong one,
// or their Basic encodings; `rpcssh call` with a wrong password does not
// print it either.
func TestSecretsStayOutOfPsAndLogs(t *testing.T) {
	t.Parallel()
	const pw = "Tr0ub4dor:and:3"
	const wrong = "wr0ng-passw0rd"
	bin := relBinary(t)
	srv, addr := startServe(t, bin, pw, "--log-level", "debug") // logs every call
	if cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", srv.cmd.Process.Pid)); err == nil {
		if bytes.Contains(cmdline, []byte(pw)) {
			t.Errorf("serve's command line (ps) holds the password: %q", cmdline)
		}
	} else {
		t.Logf("no /proc: command line not checked (%v)", err)
	}
	mustServeEcho(t, relClient(t, addr, pw))
	if err := relClient(t, addr, wrong).Call(relCtx(t, 20*time.Second), "echo", []any{"x"}, nil); !errors.Is(err, rpc.ErrUnauthorized) {
		t.Errorf("call with a wrong password = %v, want ErrUnauthorized", err)
	}
	call := startRel(t, bin, []string{"RPCSSH_PASSWORD=" + wrong}, "call", "--url", "http://"+addr+"/RPC2", "echo", "hi")
	if code := call.exited(t, 20*time.Second); code != 1 {
		t.Errorf("call with a wrong password: exit %d, want 1", code)
	}
	srv.cmd.Process.Signal(syscall.SIGTERM)
	srv.exited(t, 20*time.Second)
	logs := srv.stderr.String()
	if !strings.Contains(logs, "status=401") || !strings.Contains(logs, "method=echo") {
		t.Fatalf("serve's log lacks the calls:\n%s", logs)
	}
	for _, out := range []struct{ name, text string }{
		{"serve's log", logs}, {"call's stderr", call.stderr.String()}, {"call's stdout", call.stdout.String()},
	} {
		for _, secret := range []string{pw, wrong, base64.StdEncoding.EncodeToString([]byte("user:" + pw)), base64.StdEncoding.EncodeToString([]byte("user:" + wrong))} {
			if strings.Contains(out.text, secret) {
				t.Errorf("%s holds %q:\n%s", out.name, secret, out.text)
			}
		}
	}
	if !strings.Contains(call.stderr.String(), "401") {
		t.Errorf("call's stderr does not name the 401:\n%s", call.stderr.String())
	}
}

// relSSHD starts a real sshd and returns it with the common ssh flags
// of rpcssh call/tunnel for it.
func relSSHD(t *testing.T) (*tunneltest.SSHD, []string) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs a real sshd")
	}
	d := tunneltest.StartSSHD(t, tunneltest.SSHDConfig{})
	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := d.WriteKnownHosts(kh, false); err != nil {
		t.Fatal(err)
	}
	return d, []string{"--host", d.Host(), "--ssh-port", fmt.Sprint(d.Port()), "--user", d.User,
		"--key", d.ClientKeyPath, "--known-hosts", kh}
}

// relRPC runs an in-process XML-RPC server (user "user", password pw) with
// echo and "block", which signals entered and waits for its ctx; it
// returns the listener's port.
func relRPC(t *testing.T, pw string, entered chan<- struct{}) (string, func()) {
	t.Helper()
	srv := rpc.NewServer(rpc.ServerConfig{Username: "user", Password: pw})
	if err := registerBuiltins(srv); err != nil {
		t.Fatal(err)
	}
	if err := srv.Register("block", func(ctx context.Context) (string, error) {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-ctx.Done()
		return "", ctx.Err()
	}); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Serve(ctx, l); close(done) }()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port, stop
}

// TestCallFrozenSSHDFailsWithinKeepalive: `rpcssh call --keepalive 200ms`
// is waiting for an answer when sshd is SIGSTOPped; the call must fail on
// its own (3 unanswered keepalives), long before --timeout.
func TestCallFrozenSSHDFailsWithinKeepalive(t *testing.T) {
	t.Parallel()
	d, sshArgs := relSSHD(t)
	const pw = "frozen-test"
	entered := make(chan struct{}, 1)
	port, _ := relRPC(t, pw, entered)
	args := append([]string{"call"}, sshArgs...)
	args = append(args, "--port", port, "--keepalive", "200ms", "--timeout", "2m", "block")
	call := startRel(t, relBinary(t), []string{"RPCSSH_PASSWORD=" + pw}, args...)
	select {
	case <-entered:
	case <-call.done:
		t.Fatalf("call ended before the method ran:\n%s", call.stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatal("the call did not reach the method in 30 s")
	}
	if err := d.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Signal(syscall.SIGCONT) })
	frozen := time.Now()
	code := call.exited(t, 30*time.Second) // keepalive bound: about 4 x 200 ms
	t.Logf("rpcssh call failed %v after sshd froze (--keepalive 200ms); stderr:\n%s", time.Since(frozen).Round(time.Millisecond), call.stderr.String())
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	if !strings.Contains(call.stderr.String(), "rpcssh: error: ") {
		t.Errorf("no error line in stderr:\n%s", call.stderr.String())
	}
	if !strings.Contains(call.stderr.String(), "the SSH link was lost: ") || !strings.Contains(call.stderr.String(), "keepalive") {
		t.Errorf("the error does not say the link was lost to unanswered keepalives:\n%s", call.stderr.String())
	}
	if strings.Contains(call.stderr.String(), "--timeout") {
		t.Errorf("the call ended by --timeout, not by the keepalive:\n%s", call.stderr.String())
	}
}

var tunnelURLRE = regexp.MustCompile(`(?m)^(http://[0-9.:]+/RPC2)$`)

// TestTunnelSurvivesSSHDRestartAndRemoteOutage: under `rpcssh tunnel`,
// sshd restarts (the tunnel reconnects and the next call succeeds), then
// the remote XML-RPC port closes (calls fail at once, the tunnel stays) and
// comes back (calls succeed again).
func TestTunnelSurvivesSSHDRestartAndRemoteOutage(t *testing.T) {
	t.Parallel()
	d, sshArgs := relSSHD(t)
	const pw = "tunnel-test"
	port, stopRPC := relRPC(t, pw, make(chan struct{}, 1))
	args := append([]string{"tunnel"}, sshArgs...)
	args = append(args, "--port", port, "--local", "127.0.0.1:0", "--keepalive", "500ms")
	tun := startRel(t, relBinary(t), nil, args...)
	url := tun.stdout.wait(t, tunnelURLRE, 30*time.Second)[1]
	echo := func() error { // a fresh client each time, as a new process would have
		c, err := rpc.NewClient(rpc.ClientConfig{URL: url, Username: "user", Password: pw})
		if err != nil {
			return err
		}
		var got string
		if err := c.Call(relCtx(t, 20*time.Second), "echo", []any{"via tunnel"}, &got); err != nil {
			return err
		}
		if got != "VIA TUNNEL" {
			return fmt.Errorf("echo = %q, want VIA TUNNEL", got)
		}
		return nil
	}
	if err := echo(); err != nil {
		t.Fatalf("first call: %v", err)
	}

	if err := d.Restart(); err != nil {
		t.Fatal(err)
	}
	tun.stderr.wait(t, regexp.MustCompile(`SSH link lost`), 20*time.Second)
	if err := echo(); err != nil {
		t.Fatalf("call after sshd restarted: %v", err)
	}
	tun.stderr.wait(t, regexp.MustCompile(`(?s)SSH link lost.*SSH link up`), 20*time.Second)

	stopRPC()
	start := time.Now()
	if err := echo(); err == nil {
		t.Fatal("call with the remote port closed succeeded")
	} else {
		t.Logf("with the remote port closed: %v after %v", err, time.Since(start).Round(time.Millisecond))
	}
	tun.stderr.wait(t, regexp.MustCompile(`could not forward a connection`), 20*time.Second)
	select {
	case <-tun.done:
		t.Fatalf("tunnel exited when the remote port closed:\n%s", tun.stderr.String())
	default:
	}
	l, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		t.Skipf("cannot listen on the remote port again: %v", err)
	}
	srv := rpc.NewServer(rpc.ServerConfig{Username: "user", Password: pw})
	if err := registerBuiltins(srv); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() { srv.Serve(ctx, l); close(served) }()
	t.Cleanup(func() { cancel(); <-served })
	if err := echo(); err != nil {
		t.Fatalf("call after the remote port came back: %v", err)
	}
}

// TestCallHandshakeStallTimesOut: the SSH port accepts but never speaks;
// `rpcssh call --connect-timeout 500ms` gives up with a hint.
func TestCallHandshakeStallTimesOut(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			held = append(held, c) // accept, read nothing, say nothing
		}
	}()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	dir := t.TempDir()
	if _, err := writeClientKey(dir); err != nil {
		t.Fatal(err)
	}
	kh := filepath.Join(dir, "known_hosts")
	os.WriteFile(kh, nil, 0o600)
	start := time.Now()
	call := startRel(t, relBinary(t), []string{"RPCSSH_PASSWORD=x"}, "call", "--host", "127.0.0.1", "--ssh-port", port,
		"--key", filepath.Join(dir, "id_ed25519"), "--known-hosts", kh, "--connect-timeout", "500ms", "--timeout", "2m", "echo", "hi")
	code := call.exited(t, 30*time.Second)
	t.Logf("gave up after %v:\n%s", time.Since(start).Round(time.Millisecond), call.stderr.String())
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	for _, re := range []string{`(?m)^rpcssh: error: tunnel: handshake with 127\.0\.0\.1:` + port + `: context deadline exceeded$`, `(?m)^rpcssh: hint: .*--connect-timeout`} {
		if !regexp.MustCompile(re).MatchString(call.stderr.String()) {
			t.Errorf("stderr does not match %s:\n%s", re, call.stderr.String())
		}
	}
}

// TestServeHoldsThousandConnections opens 1,000 connections to `rpcssh
// serve` (half of them in the middle of a request line) and checks that
// calls still succeed while they are all held open.
func TestServeHoldsThousandConnections(t *testing.T) {
	t.Parallel()
	const n = 1000
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skipf("getrlimit: %v", err)
	}
	if need := uint64(n + 200); lim.Cur < need { // serve inherits the raised limit
		if lim.Max < need {
			t.Skipf("RLIMIT_NOFILE hard limit %d is below the %d descriptors needed", lim.Max, need)
		}
		raised := lim
		raised.Cur = need
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err != nil {
			t.Skipf("cannot raise RLIMIT_NOFILE to %d: %v", need, err)
		}
		t.Cleanup(func() { syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim) })
	}
	const pw = "many-conns"
	_, addr := startServe(t, relBinary(t), pw)
	conns := make([]net.Conn, 0, n)
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for i := range n {
		conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		if i%2 == 0 {
			io.WriteString(conn, "POST /RPC2 HTTP/1.1\r\n")
		}
		conns = append(conns, conn)
	}
	c := relClient(t, addr, pw)
	for range 3 {
		mustServeEcho(t, c)
	}
	for _, i := range []int{0, 1, n - 2, n - 1} {
		conns[i].SetReadDeadline(time.Now().Add(10 * time.Millisecond))
		_, err := conns[i].Read(make([]byte, 1))
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("connection %d: read = %v, want a timeout (still open)", i, err)
		}
	}
}
