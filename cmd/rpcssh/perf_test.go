package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/rpcssh/rpcssh/internal/testbuild"
	"github.com/rpcssh/rpcssh/rpc"
	"github.com/rpcssh/rpcssh/tunnel"
	"github.com/rpcssh/rpcssh/tunnel/tunneltest"
)

// BenchmarkPerf measures rpcssh against its anchors in one run on one box
// and logs the ratios against the targets of issue 6 at the end:
//
//	go test -run '^$' -bench Perf -benchtime 2s ./cmd/rpcssh/
//
// Sub-benchmarks (each sets up its peers, skipped when one is missing):
//
//	echo/{gomin,serve,python}/{direct,tunnel,sshL}/c={1,8}
//	    keep-alive echo("hi") calls with rpc.Client: gomin is a minimal
//	    hand-written Go echo handler (upper bound), serve is what
//	    'rpcssh serve' runs (in process), python is the seed server;
//	    tunnel is the project's tunnel through a real sshd, sshL is
//	    OpenSSH 'ssh -N -L' to the same sshd.
//	cold/{handshake,inproc-call,rpcssh-call,ssh-true,ssh-W}
//	    one-shot costs: tunnel.Dial+Close; Dial+one call+Close in
//	    process; the rpcssh binary's 'call echo hi'; 'ssh host true'
//	    (which includes the remote login shell's start-up files);
//	    'ssh -W' to the serve port with stdin at EOF (OpenSSH's handshake,
//	    auth and one channel, no shell).
//	big/{8MiB,64MiB}/{direct,tunnel}
//	    a string echo to an 'rpcssh serve' process; MB/s and its peak RSS.
func BenchmarkPerf(b *testing.B) {
	p := &perfPeers{parent: b, results: map[string]perfResult{}}
	b.Run("echo", func(b *testing.B) {
		for _, server := range []string{"gomin", "serve", "python"} {
			for _, path := range []string{"direct", "tunnel", "sshL"} {
				for _, c := range []int{1, 8} {
					b.Run(fmt.Sprintf("%s/%s/c=%d", server, path, c), func(b *testing.B) {
						p.benchEcho(b, server, path, c)
					})
				}
			}
		}
	})
	b.Run("cold", func(b *testing.B) {
		b.Run("handshake", p.benchHandshake)
		b.Run("inproc-call", p.benchInprocCall)
		b.Run("rpcssh-call", p.benchRPCSSHCall)
		b.Run("ssh-true", p.benchSSHTrue)
		b.Run("ssh-W", p.benchSSHW)
	})
	b.Run("big", func(b *testing.B) {
		for _, size := range []int{8 << 20, 64 << 20} {
			for _, path := range []string{"direct", "tunnel"} {
				b.Run(fmt.Sprintf("%dMiB/%s", size>>20, path), func(b *testing.B) {
					p.benchBig(b, size, path)
				})
			}
		}
	})
	// Printed to stdout: a benchmark's log is cut at 10 lines, and only
	// leaves have theirs printed without -v.
	b.Run("summary", func(b *testing.B) {
		if b.N == 1 {
			fmt.Print(p.summary())
		}
	})
}

const perfPassword = "bench-pass" // the seed server splits user:password at every colon

// perfResult is what a sub-benchmark measured in its last (largest) run.
type perfResult struct {
	callsPerSec float64
	p50, p99    time.Duration
	perCall     time.Duration // cold: wall time per one-shot call
	mibPerSec   float64       // big: payload MiB/s
	peakRSS     int64         // big: the server's VmHWM in bytes
	payload     int64
}

// perfPeers starts each peer once, on first use by a sub-benchmark, and
// stops it when BenchmarkPerf ends.
type perfPeers struct {
	parent *testing.B

	mu      sync.Mutex
	results map[string]perfResult

	serve, gomin, python lazy[string] // host:port
	sshd                 lazy[*perfSSHD]
	tunnel               lazy[*tunnel.Client]
	bin                  lazy[string]
	fwdMu                sync.Mutex
	forwards             map[string]*lazy[string] // target -> local host:port of ssh -L
}

// lazy is a value made once; a failure to make it skips (peer missing) or
// fails every benchmark that needs it.
type lazy[T any] struct {
	once sync.Once
	v    T
	err  error
}

// skipError marks a missing peer: the benchmark is skipped, not failed.
type skipError struct{ err error }

func (e *skipError) Error() string { return e.err.Error() }

func (l *lazy[T]) get(b *testing.B, make func() (T, error)) T {
	b.Helper()
	l.once.Do(func() { l.v, l.err = make() })
	var skip *skipError
	switch {
	case errors.As(l.err, &skip):
		b.Skip(skip.err)
	case l.err != nil:
		b.Fatal(l.err)
	}
	return l.v
}

func (p *perfPeers) record(b *testing.B, r perfResult) {
	name := strings.TrimPrefix(b.Name(), "BenchmarkPerf/")
	p.mu.Lock()
	p.results[name] = r
	p.mu.Unlock()
}

func (p *perfPeers) result(name string) (perfResult, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r, ok := p.results[name]
	return r, ok
}

// --- peers ---

func (p *perfPeers) serveAddr(b *testing.B) string {
	return p.serve.get(b, func() (string, error) {
		srv := rpc.NewServer(rpc.ServerConfig{Username: "user", Password: perfPassword})
		if err := registerBuiltins(srv); err != nil {
			return "", err
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", err
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { _ = srv.Serve(ctx, l); close(done) }()
		p.parent.Cleanup(func() { cancel(); <-done })
		return l.Addr().String(), nil
	})
}

// minimalEcho is the upper bound: no XML parsing, no reflection. It checks
// the Authorization header as a string, finds the first <string> (or bare
// <value>) in the body and writes a fixed-format response holding it in
// upper case.
func minimalEcho(user, password string) http.Handler {
	wantAuth := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
	const head = `<?xml version="1.0"?><methodResponse><params><param><value><string>`
	const tail = `</string></value></param></params></methodResponse>`
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != wantAuth {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		open, close := []byte("<string>"), []byte("</string>")
		i := bytes.Index(body, open)
		if i < 0 {
			open, close = []byte("<value>"), []byte("</value>")
			i = bytes.Index(body, open)
		}
		var s []byte
		if i >= 0 {
			rest := body[i+len(open):]
			if j := bytes.Index(rest, close); j >= 0 {
				s = bytes.ToUpper(rest[:j])
			}
		}
		h := w.Header()
		h.Set("Content-Type", "text/xml")
		h.Set("Content-Length", strconv.Itoa(len(head)+len(s)+len(tail)))
		_, _ = io.WriteString(w, head)
		_, _ = w.Write(s)
		_, _ = io.WriteString(w, tail)
	})
}

func (p *perfPeers) gominAddr(b *testing.B) string {
	return p.gomin.get(b, func() (string, error) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", err
		}
		srv := &http.Server{Handler: minimalEcho("user", perfPassword), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(l) }()
		p.parent.Cleanup(func() { _ = srv.Close() })
		return l.Addr().String(), nil
	})
}

// startProcess starts cmd and kills it when BenchmarkPerf ends.
func (p *perfPeers) startProcess(cmd *exec.Cmd) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	waited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(waited) }()
	p.parent.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-waited
	})
	return nil
}

// readLine waits (at most 20 s) for a line of r matching re and returns
// its first group; the rest of r is then discarded in the background.
func readLine(r io.Reader, re *regexp.Regexp) (string, error) {
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(r)
		sent := false
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil && !sent {
				found <- m[1]
				sent = true
			}
		}
		if !sent {
			close(found)
		}
		_, _ = io.Copy(io.Discard, r)
	}()
	select {
	case s, ok := <-found:
		if !ok {
			return "", fmt.Errorf("no line matching %s before EOF", re)
		}
		return s, nil
	case <-time.After(20 * time.Second):
		return "", fmt.Errorf("no line matching %s within 20 s", re)
	}
}

func (p *perfPeers) pythonAddr(b *testing.B) string {
	return p.python.get(b, func() (string, error) {
		py, err := exec.LookPath("python3")
		if err != nil {
			return "", &skipError{err}
		}
		seed, err := filepath.Abs(filepath.Join("..", "..", "rpc", "testdata", "python", "seed_server.py"))
		if err != nil {
			return "", err
		}
		cmd := exec.Command(py, seed, "--host", "127.0.0.1", "--port", "0")
		cmd.Env = append(os.Environ(), "RPC_PASSWORD="+perfPassword)
		out, err := cmd.StdoutPipe() // echo prints a line per call: keep draining it
		if err != nil {
			return "", err
		}
		if err := p.startProcess(cmd); err != nil {
			return "", err
		}
		port, err := readLine(out, regexp.MustCompile(`^PORT (\d+)$`))
		if err != nil {
			return "", fmt.Errorf("seed server: %w", err)
		}
		return net.JoinHostPort("127.0.0.1", port), nil
	})
}

// perfSSHD is a real sshd with a known_hosts file and the client key.
type perfSSHD struct {
	*tunneltest.SSHD
	knownHosts string
	cfg        tunnel.Config
}

func (p *perfPeers) realSSHD(b *testing.B) *perfSSHD {
	return p.sshd.get(b, func() (*perfSSHD, error) {
		if _, err := tunneltest.FindSSHD(); err != nil {
			return nil, &skipError{err}
		}
		dir := p.parent.TempDir()
		d, err := tunneltest.LaunchSSHD(dir, tunneltest.SSHDConfig{})
		if err != nil {
			return nil, err
		}
		p.parent.Cleanup(d.Close)
		kh := filepath.Join(dir, "perf_known_hosts")
		if err := d.WriteKnownHosts(kh, false); err != nil {
			return nil, err
		}
		key, err := tunnel.LoadKey(d.ClientKeyPath, nil)
		if err != nil {
			return nil, err
		}
		cfg := tunnel.Config{Addr: d.Addr(), User: d.User, Auth: []ssh.AuthMethod{ssh.PublicKeys(key)}, KnownHostsFiles: []string{kh}}
		return &perfSSHD{SSHD: d, knownHosts: kh, cfg: cfg}, nil
	})
}

func (p *perfPeers) tunnelClient(b *testing.B) *tunnel.Client {
	d := p.realSSHD(b)
	return p.tunnel.get(b, func() (*tunnel.Client, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		c, err := tunnel.Dial(ctx, d.cfg)
		if err != nil {
			return nil, err
		}
		p.parent.Cleanup(func() { _ = c.Close() })
		return c, nil
	})
}

// sshArgs are the OpenSSH client options shared by ssh -L and ssh true:
// no user config, no agent, only the test key and known_hosts.
func (d *perfSSHD) sshArgs() []string {
	return []string{
		"-F", "/dev/null",
		"-o", "BatchMode=yes",
		"-o", "UserKnownHostsFile=" + d.knownHosts,
		"-o", "GlobalKnownHostsFile=/dev/null",
		"-o", "StrictHostKeyChecking=yes",
		"-o", "IdentitiesOnly=yes",
		"-o", "IdentityAgent=none",
		"-i", d.ClientKeyPath,
		"-p", strconv.Itoa(d.Port()),
		"-l", d.User,
	}
}

// sshForward runs 'ssh -N -L 127.0.0.1:FREE:target' to the real sshd and
// returns the local address once it accepts.
func (p *perfPeers) sshForward(b *testing.B, target string) string {
	d := p.realSSHD(b)
	sshPath, err := exec.LookPath("ssh")
	if err != nil {
		b.Skip(err)
	}
	p.fwdMu.Lock()
	if p.forwards == nil {
		p.forwards = map[string]*lazy[string]{}
	}
	l := p.forwards[target]
	if l == nil {
		l = &lazy[string]{}
		p.forwards[target] = l
	}
	p.fwdMu.Unlock()
	return l.get(b, func() (string, error) {
		port, err := freePort()
		if err != nil {
			return "", err
		}
		local := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		args := append(d.sshArgs(), "-N", "-o", "ExitOnForwardFailure=yes",
			"-L", local+":"+target, d.Host())
		cmd := exec.Command(sshPath, args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			return "", err
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		p.parent.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })
		deadline := time.Now().Add(20 * time.Second)
		for {
			select {
			case <-exited:
				return "", fmt.Errorf("ssh -L exited: %s", strings.TrimSpace(stderr.String()))
			default:
			}
			if c, err := net.DialTimeout("tcp", local, time.Second); err == nil {
				c.Close()
				return local, nil
			}
			if time.Now().After(deadline) {
				return "", fmt.Errorf("ssh -L: nothing listens on %s after 20 s", local)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// rpcsshBin builds the rpcssh binary once.
func (p *perfPeers) rpcsshBin(b *testing.B) string {
	return p.bin.get(b, func() (string, error) {
		bin, err := builds.Binary("")
		if errors.Is(err, testbuild.ErrNoGo) {
			return "", &skipError{err}
		}
		return bin, err
	})
}

// --- echo ---

func (p *perfPeers) target(b *testing.B, server string) string {
	switch server {
	case "gomin":
		return p.gominAddr(b)
	case "serve":
		return p.serveAddr(b)
	default:
		return p.pythonAddr(b)
	}
}

// dialer returns how to reach target: direct, through the project's
// tunnel, or through ssh -L.
func (p *perfPeers) dialer(b *testing.B, path, target string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	switch path {
	case "tunnel":
		tc := p.tunnelClient(b)
		return func(ctx context.Context, _, _ string) (net.Conn, error) { return tc.DialContext(ctx, "tcp", target) }
	case "sshL":
		local := p.sshForward(b, target)
		return func(ctx context.Context, _, _ string) (net.Conn, error) { return d.DialContext(ctx, "tcp", local) }
	}
	return func(ctx context.Context, _, _ string) (net.Conn, error) { return d.DialContext(ctx, "tcp", target) }
}

func perfClient(b *testing.B, target string, dial func(ctx context.Context, network, addr string) (net.Conn, error), lim rpc.Limits) *rpc.Client {
	tr := &http.Transport{
		DialContext:         dial,
		MaxIdleConns:        64,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	b.Cleanup(tr.CloseIdleConnections)
	c, err := rpc.NewClient(rpc.ClientConfig{
		URL: "http://" + target + "/RPC2", Username: "user", Password: perfPassword,
		HTTPClient: &http.Client{Transport: tr}, Limits: lim,
	})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func (p *perfPeers) benchEcho(b *testing.B, server, path string, c int) {
	target := p.target(b, server)
	client := perfClient(b, target, p.dialer(b, path, target), rpc.Limits{})
	call := func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		var s string
		if err := client.Call(ctx, "echo", []any{"hi"}, &s); err != nil {
			return err
		}
		if s != "HI" {
			return fmt.Errorf("echo(hi) = %q, want HI", s)
		}
		return nil
	}
	ctx := context.Background()
	// Warm-up: open the c connections (and the SSH channels) first.
	if w := runLoad(ctx, loadSpec{calls: int64(2 * c), concurrency: c}, call); w.errors > 0 {
		b.Fatalf("warm-up: %d of %d calls failed, first: %v", w.errors, w.calls, w.firstErr)
	}
	b.ResetTimer()
	res := runLoad(ctx, loadSpec{calls: int64(b.N), concurrency: c}, call)
	b.StopTimer()
	if res.errors > 0 {
		b.Errorf("%d of %d calls failed, first: %v", res.errors, res.calls, res.firstErr)
	}
	r := perfResult{callsPerSec: perSecond(res.calls, res.elapsed), p50: res.hist.quantile(0.5), p99: res.hist.quantile(0.99)}
	b.ReportMetric(r.callsPerSec, "calls/s")
	b.ReportMetric(ms(r.p50), "p50-ms")
	b.ReportMetric(ms(r.p99), "p99-ms")
	p.record(b, r)
}

// --- cold one-shot calls ---

// timeEach runs op b.N times and reports the wall time per op in ms.
func (p *perfPeers) timeEach(b *testing.B, op func() error) {
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if err := op(); err != nil {
			b.Fatal(err)
		}
	}
	per := time.Since(start) / time.Duration(b.N)
	b.StopTimer()
	b.ReportMetric(ms(per), "ms/call")
	p.record(b, perfResult{perCall: per})
}

func (p *perfPeers) benchHandshake(b *testing.B) {
	d := p.realSSHD(b)
	p.timeEach(b, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		c, err := tunnel.Dial(ctx, d.cfg)
		if err != nil {
			return err
		}
		return c.Close()
	})
}

func (p *perfPeers) benchInprocCall(b *testing.B) {
	d := p.realSSHD(b)
	target := p.serveAddr(b)
	p.timeEach(b, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		tc, err := tunnel.Dial(ctx, d.cfg)
		if err != nil {
			return err
		}
		defer tc.Close()
		tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return tc.DialContext(ctx, "tcp", target)
		}, DisableCompression: true}
		defer tr.CloseIdleConnections()
		c, err := rpc.NewClient(rpc.ClientConfig{URL: "http://" + target + "/RPC2", Username: "user", Password: perfPassword, HTTPClient: &http.Client{Transport: tr}})
		if err != nil {
			return err
		}
		var s string
		if err := c.Call(ctx, "echo", []any{"hi"}, &s); err != nil {
			return err
		}
		if s != "HI" {
			return fmt.Errorf("echo(hi) = %q, want HI", s)
		}
		return nil
	})
}

func (p *perfPeers) benchRPCSSHCall(b *testing.B) {
	d := p.realSSHD(b)
	target := p.serveAddr(b)
	bin := p.rpcsshBin(b)
	_, port, _ := net.SplitHostPort(target)
	home := b.TempDir()
	env := append(os.Environ(), "HOME="+home, "SSH_AUTH_SOCK=", "RPCSSH_PASSWORD="+perfPassword, "RPCSSH_PASSPHRASE=", "RPCSSH_CONTROL_PERSIST=0")
	args := []string{"call", "--host", d.Host(), "--ssh-port", strconv.Itoa(d.Port()), "--user", d.User,
		"--key", d.ClientKeyPath, "--known-hosts", d.knownHosts, "--ssh-config", "none",
		"--port", port, "echo", "hi"}
	p.timeEach(b, func() error {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil || string(out) != "HI\n" {
			return fmt.Errorf("rpcssh call: %v: %q", err, out)
		}
		return nil
	})
}

func (p *perfPeers) benchSSHTrue(b *testing.B) {
	d := p.realSSHD(b)
	sshPath, err := exec.LookPath("ssh")
	if err != nil {
		b.Skip(err)
	}
	args := append(d.sshArgs(), d.Host(), "true")
	p.timeEach(b, func() error {
		out, err := exec.Command(sshPath, args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("ssh true: %v: %s", err, out)
		}
		return nil
	})
}

// benchSSHW is ssh -W to the in-process server with stdin at EOF: ssh
// connects, authenticates, opens one direct-tcpip channel, sends EOF, and
// exits when the server closes; no remote shell is started.
func (p *perfPeers) benchSSHW(b *testing.B) {
	d := p.realSSHD(b)
	target := p.serveAddr(b)
	sshPath, err := exec.LookPath("ssh")
	if err != nil {
		b.Skip(err)
	}
	args := append(d.sshArgs(), "-W", target, d.Host())
	p.timeEach(b, func() error {
		out, err := exec.Command(sshPath, args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("ssh -W: %v: %s", err, out)
		}
		return nil
	})
}

// --- big payloads ---

var servingRE = regexp.MustCompile(`serving XML-RPC on http://(\S+)/RPC2`)

// startServe runs 'rpcssh serve --port 0' as its own process (so its peak
// RSS is its own) and returns its address and PID.
func (p *perfPeers) startServe(b *testing.B, maxBodyMiB int) (string, int) {
	bin := p.rpcsshBin(b)
	cmd := exec.Command(bin, "serve", "--port", "0", "--max-body-mib", strconv.Itoa(maxBodyMiB))
	cmd.Env = append(os.Environ(), "RPCSSH_PASSWORD="+perfPassword)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	waited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(waited) }()
	b.Cleanup(func() { _ = cmd.Process.Kill(); <-waited })
	addr, err := readLine(stderr, servingRE)
	if err != nil {
		b.Fatalf("rpcssh serve: %v", err)
	}
	return addr, cmd.Process.Pid
}

// peakRSS reads VmHWM (the peak resident set) of a process, in bytes.
func peakRSS(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmHWM in /proc status")
}

func (p *perfPeers) benchBig(b *testing.B, size int, path string) {
	if runtime.GOOS != "linux" {
		b.Skip("peak RSS is read from /proc")
	}
	const maxMiB = 192 // the envelope is a little more than the payload
	target, pid := p.startServe(b, maxMiB)
	client := perfClient(b, target, p.dialer(b, path, target), rpc.Limits{MaxBodyBytes: maxMiB << 20})
	payload := strings.Repeat("a", size)
	b.SetBytes(int64(size))
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		var s string
		err := client.Call(ctx, "echo", []any{payload}, &s)
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		if len(s) != size || s[0] != 'A' || s[size-1] != 'A' {
			b.Fatalf("echo returned %d bytes, want %d upper-cased", len(s), size)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	rss, err := peakRSS(pid)
	if err != nil {
		b.Fatal(err)
	}
	r := perfResult{mibPerSec: float64(size) * float64(b.N) / (1 << 20) / elapsed.Seconds(), peakRSS: rss, payload: int64(size)}
	b.ReportMetric(r.mibPerSec, "MiB/s")
	b.ReportMetric(float64(rss)/(1<<20), "serve-peak-MiB")
	b.ReportMetric(float64(rss)/float64(size), "rss/payload")
	p.record(b, r)
}

// --- summary ---

// summary logs each target of issue 6 with the ratio measured in this run.
func (p *perfPeers) summary() string {
	type row struct {
		what   string
		ratio  func() (float64, string, bool) // value, detail, ok
		target string
		met    func(float64) bool
	}
	ratio := func(num, den string, f func(perfResult) float64) func() (float64, string, bool) {
		return func() (float64, string, bool) {
			n, ok1 := p.result(num)
			d, ok2 := p.result(den)
			if !ok1 || !ok2 || f(d) == 0 {
				return 0, "", false
			}
			return f(n) / f(d), fmt.Sprintf("%.4g / %.4g", f(n), f(d)), true
		}
	}
	value := func(name string, f func(perfResult) float64) func() (float64, string, bool) {
		return func() (float64, string, bool) {
			r, ok := p.result(name)
			if !ok {
				return 0, "", false
			}
			return f(r), "", true
		}
	}
	perCall := func(r perfResult) float64 { return ms(r.perCall) }
	cps := func(r perfResult) float64 { return r.callsPerSec }
	atMost := func(x float64) func(float64) bool { return func(v float64) bool { return v <= x } }
	atLeast := func(x float64) func(float64) bool { return func(v float64) bool { return v >= x } }
	rows := []row{
		{"cold rpcssh-call / handshake (ms)", ratio("cold/rpcssh-call", "cold/handshake", perCall), "<= 1.1", atMost(1.1)},
		{"cold rpcssh-call / ssh-true (ms)", ratio("cold/rpcssh-call", "cold/ssh-true", perCall), "<= 0.5", atMost(0.5)},
		{"cold rpcssh-call / ssh-W, no shell (ms)", ratio("cold/rpcssh-call", "cold/ssh-W", perCall), "<= 0.5", atMost(0.5)},
		{"cold inproc-call / handshake (ms)", ratio("cold/inproc-call", "cold/handshake", perCall), "(info)", nil},
		{"python tunnel c=1 p99 (ms)", value("echo/python/tunnel/c=1", func(r perfResult) float64 { return ms(r.p99) }), "<= 5", atMost(5)},
		{"serve/gomin direct c=8 (calls/s)", ratio("echo/serve/direct/c=8", "echo/gomin/direct/c=8", cps), ">= 0.8", atLeast(0.8)},
		{"serve/python direct c=8 (calls/s)", ratio("echo/serve/direct/c=8", "echo/python/direct/c=8", cps), ">= 5", atLeast(5)},
	}
	for _, c := range []string{"1", "8"} {
		rows = append(rows,
			row{"serve tunnel/direct c=" + c + " (calls/s)", ratio("echo/serve/tunnel/c="+c, "echo/serve/direct/c="+c, cps), ">= 0.7", atLeast(0.7)},
			row{"serve tunnel/sshL c=" + c + " (calls/s)", ratio("echo/serve/tunnel/c="+c, "echo/serve/sshL/c="+c, cps), ">= 1.5", atLeast(1.5)},
		)
	}
	rows = append(rows,
		row{"64MiB echo tunnel (MiB/s)", value("big/64MiB/tunnel", func(r perfResult) float64 { return r.mibPerSec }), ">= 100", atLeast(100)},
		row{"64MiB serve peak RSS / payload", value("big/64MiB/tunnel", func(r perfResult) float64 { return float64(r.peakRSS) / float64(r.payload) }), "<= 5", atMost(5)},
	)
	var sb strings.Builder
	fmt.Fprintf(&sb, "issue 6 targets, this run (GOMAXPROCS %d):\n", runtime.GOMAXPROCS(0))
	for _, r := range rows {
		v, detail, ok := r.ratio()
		switch {
		case !ok:
			fmt.Fprintf(&sb, "  %-40s %8s  %-7s %s\n", r.what, "n/a", r.target, "not run")
		case r.met == nil:
			fmt.Fprintf(&sb, "  %-40s %8.3f  %-7s %s\n", r.what, v, r.target, detail)
		default:
			verdict := "MISSED"
			if r.met(v) {
				verdict = "met"
			}
			fmt.Fprintf(&sb, "  %-40s %8.3f  %-7s %-6s %s\n", r.what, v, r.target, verdict, detail)
		}
	}
	return sb.String()
}
