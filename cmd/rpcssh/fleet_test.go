package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/rpcssh/rpcssh/rpc"
	"github.com/rpcssh/rpcssh/tunnel/tunneltest"
)

// hostKind is how a host of a test fleet behaves.
type hostKind int

const (
	kindOK       hostKind = iota // whoami answers its name
	kindFault                    // whoami answers fault 17
	kindSlow                     // whoami never answers (until the caller gives up)
	kindMute                     // SSH works, then the forwarded connection goes silent
	kindDown                     // nothing listens on its port
	kindWrongKey                 // known_hosts holds another key for it
	kindUnknown                  // not in known_hosts at all
	kindStalled                  // sends its SSH version, then nothing (tunneltest Stall)
	kindFrozen                   // frozen before the handshake (tunneltest Freeze)
	kindDenied                   // refuses to forward (tunneltest DenyForwarding)
)

var kindNames = map[hostKind]string{
	kindOK: "ok", kindFault: "fault", kindSlow: "slow", kindMute: "mute", kindDown: "down",
	kindWrongKey: "wrong key", kindUnknown: "unknown", kindStalled: "stalled", kindFrozen: "frozen", kindDenied: "denied",
}

const fleetPassword = "fleet pw"

// testFleet is a fleet of SSH hosts on loopback, each with its own host
// key, listed in one known_hosts file and in a hosts file.
type testFleet struct {
	dir        string
	key        string // the client's private key file
	knownHosts string
	hostsFile  string
	hosts      []string            // destinations, in hosts-file order
	kind       map[string]hostKind // by destination
	name       map[string]string   // what whoami answers, by destination
}

// newFleet starts one host per element of kinds. Hosts that need their
// own XML-RPC server (ok, fault, slow, mute) are fleetHosts; the stalled,
// frozen and denied ones are tunneltest servers.
func newFleet(tb testing.TB, kinds []hostKind) *testFleet {
	tb.Helper()
	f := &testFleet{
		dir:  tb.TempDir(),
		kind: make(map[string]hostKind),
		name: make(map[string]string),
	}
	f.key = filepath.Join(f.dir, "id_ed25519")
	f.knownHosts = filepath.Join(f.dir, "known_hosts")
	f.hostsFile = filepath.Join(f.dir, "hosts")
	pub, err := writeClientKey(f.dir)
	if err != nil {
		tb.Fatal(err)
	}
	var known, list strings.Builder
	list.WriteString("# test fleet\n\n")
	for i, k := range kinds {
		name := fmt.Sprintf("host-%03d", i)
		var addr string
		var hostKey ssh.PublicKey
		switch k {
		case kindOK, kindFault, kindSlow, kindMute, kindWrongKey, kindUnknown:
			h := startFleetHost(tb, name, k, pub)
			addr, hostKey = h.ln.Addr().String(), h.key.PublicKey()
		case kindDown:
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				tb.Fatal(err)
			}
			addr = l.Addr().String()
			l.Close()
			hostKey = randomHostKey(tb)
		case kindStalled, kindFrozen, kindDenied:
			cfg := tunneltest.Config{AuthorizedKeys: []ssh.PublicKey{pub}, DenyForwarding: k == kindDenied}
			if k == kindStalled {
				cfg.Stall = tunneltest.StallAfterVersion
			}
			s := tunneltest.NewServer(tb, cfg)
			if k == kindFrozen {
				s.Freeze()
			}
			addr, hostKey = s.Addr(), s.HostKey()
		}
		switch k {
		case kindWrongKey:
			known.WriteString(knownhosts.Line([]string{addr}, randomHostKey(tb)) + "\n")
		case kindUnknown:
		default:
			known.WriteString(knownhosts.Line([]string{addr}, hostKey) + "\n")
		}
		fmt.Fprintf(&list, "%s  # %s\n", addr, name)
		f.hosts = append(f.hosts, addr)
		f.kind[addr], f.name[addr] = k, name
	}
	if err := os.WriteFile(f.knownHosts, []byte(known.String()), 0o600); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(f.hostsFile, []byte(list.String()), 0o600); err != nil {
		tb.Fatal(err)
	}
	return f
}

// args are the call flags that point at the fleet; no file of the user's
// (~/.ssh) is read.
func (f *testFleet) args(extra ...string) []string {
	a := []string{"call", "--hosts-file", f.hostsFile, "--key", f.key, "--known-hosts", f.knownHosts,
		"--ssh-config", "none"}
	return append(a, extra...)
}

func randomHostKey(tb testing.TB) ssh.PublicKey {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// fleetHost is one machine of a test fleet: an SSH server on loopback
// with its own host key that forwards every direct-tcpip channel to its
// own XML-RPC server, whatever address the client asks for (that server
// is the host's "remote loopback"). tunneltest.Server forwards to the
// address asked, which a fleet call makes the same for every host
// (--port), so it cannot give each host its own server and answer.
type fleetHost struct {
	ln      net.Listener
	key     ssh.Signer
	mute    bool
	backend string

	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

func startFleetHost(tb testing.TB, name string, kind hostKind, client ssh.PublicKey) *fleetHost {
	tb.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		tb.Fatal(err)
	}
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
			if bytes.Equal(k.Marshal(), client.Marshal()) {
				return nil, nil
			}
			return nil, errors.New("key not authorized")
		},
	}
	cfg.AddHostKey(signer)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	h := &fleetHost{ln: ln, key: signer, mute: kind == kindMute, conns: make(map[net.Conn]struct{})}
	h.backend = startFleetBackend(tb, name, kind)
	h.wg.Add(1)
	go h.accept(cfg)
	tb.Cleanup(h.close)
	return h
}

// startFleetBackend runs the host's XML-RPC server: whoami answers the
// host's name, a fault, or nothing, by kind.
func startFleetBackend(tb testing.TB, name string, kind hostKind) string {
	tb.Helper()
	srv := rpc.NewServer(rpc.ServerConfig{Username: "user", Password: fleetPassword})
	whoami := func(ctx context.Context, _ []any) (any, error) {
		switch kind {
		case kindFault:
			return nil, &rpc.Fault{Code: 17, Message: name + " is in maintenance"}
		case kindSlow:
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return name, nil
	}
	if err := srv.RegisterMethod(rpc.Method{Name: "whoami", Raw: whoami}); err != nil {
		tb.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ctx, l)
	}()
	tb.Cleanup(func() { cancel(); <-done })
	return l.Addr().String()
}

func (h *fleetHost) accept(cfg *ssh.ServerConfig) {
	defer h.wg.Done()
	for {
		c, err := h.ln.Accept()
		if err != nil {
			return
		}
		h.mu.Lock()
		if h.closed {
			h.mu.Unlock()
			c.Close()
			return
		}
		h.conns[c] = struct{}{}
		h.mu.Unlock()
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			h.serve(c, cfg)
			h.mu.Lock()
			delete(h.conns, c)
			h.mu.Unlock()
			c.Close()
		}()
	}
}

func (h *fleetHost) serve(c net.Conn, cfg *ssh.ServerConfig) {
	sc, chans, reqs, err := ssh.NewServerConn(c, cfg)
	if err != nil {
		return
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		ssh.DiscardRequests(reqs)
	}()
	for nc := range chans {
		if nc.ChannelType() != "direct-tcpip" {
			_ = nc.Reject(ssh.UnknownChannelType, "forwarding only")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			go ssh.DiscardRequests(creqs)
			if h.mute {
				_, _ = io.Copy(io.Discard, ch) // read the request, never answer
				ch.Close()
				return
			}
			h.pipe(ch)
		}()
	}
	sc.Close()
	wg.Wait()
}

// pipe copies between the channel and a new connection to the backend,
// half-closing each way as its source ends.
func (h *fleetHost) pipe(ch ssh.Channel) {
	defer ch.Close()
	conn, err := net.Dial("tcp", h.backend)
	if err != nil {
		return
	}
	defer conn.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(conn, ch)
		_ = conn.(*net.TCPConn).CloseWrite()
	}()
	_, _ = io.Copy(ch, conn)
	_ = ch.CloseWrite()
	<-done
}

func (h *fleetHost) close() {
	h.mu.Lock()
	h.closed = true
	for c := range h.conns {
		c.Close()
	}
	h.mu.Unlock()
	h.ln.Close()
	h.wg.Wait()
}

// fleetLine is one line of --output json.
type fleetLine struct {
	Host   string `json:"host"`
	OK     bool   `json:"ok"`
	Result any    `json:"result"`
	Error  string `json:"error"`
	Fault  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"fault"`
	Hints      []string `json:"hints"`
	DurationMS *int64   `json:"duration_ms"`
}

// parseFleetLines decodes stdout, one JSON object a line, by host, and
// fails on a host seen twice.
func parseFleetLines(t *testing.T, out string) map[string]fleetLine {
	t.Helper()
	lines := make(map[string]fleetLine)
	for _, s := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if s == "" {
			continue
		}
		var l fleetLine
		if err := json.Unmarshal([]byte(s), &l); err != nil {
			t.Fatalf("stdout line %q: %v", s, err)
		}
		if _, dup := lines[l.Host]; dup {
			t.Errorf("host %s reported twice", l.Host)
		}
		lines[l.Host] = l
	}
	return lines
}

var summaryRE = regexp.MustCompile(`(?m)^rpcssh: (?:error: )?(?:interrupted: )?(\d+) succeeded, (\d+) faulted, (\d+) failed(?:, (\d+) not started)? in \d+\.\ds$`)

// summaryCounts reads the summary line, which must be stderr's last.
func summaryCounts(t *testing.T, stderr string) (ok, faulted, failed, notStarted int) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	last := lines[len(lines)-1]
	if strings.HasPrefix(last, "rpcssh: hint:") && len(lines) > 1 {
		last = lines[len(lines)-2]
	}
	m := summaryRE.FindStringSubmatch(last)
	if m == nil {
		t.Fatalf("stderr does not end with a summary:\n%s", stderr)
	}
	n := func(s string) int { v, _ := strconv.Atoi(s); return v }
	return n(m[1]), n(m[2]), n(m[3]), n(m[4])
}

// fleetSize is the size of the all-healthy fleet: 200, or 50 under
// -short or -race (a 200-host run takes 5 to 15 s with -race on two cores).
func fleetSize() int {
	if testing.Short() || raceBuild {
		return 50
	}
	return 200
}

// fleetTimeouts are the --timeout and --connect-timeout of the mixed
// fleet: a healthy host's handshake must fit in the connect bound even
// with -race on two busy cores, and the slow hosts cost the whole timeout.
func fleetTimeouts() (timeout, connectTimeout time.Duration) {
	if raceBuild {
		return 6 * time.Second, 5 * time.Second
	}
	return 3 * time.Second, 2 * time.Second
}

// TestFanoutFleetAllSucceed calls whoami on every host of a healthy fleet
// at once: each host's line carries its own name, each host exactly once,
// the summary counts them all and the exit code is 0.
func TestFanoutFleetAllSucceed(t *testing.T) {
	t.Parallel()
	kinds := make([]hostKind, fleetSize())
	f := newFleet(t, kinds)
	e, out, errb := testEnv(map[string]string{"RPCSSH_PASSWORD": fleetPassword})
	start := time.Now()
	code := run(context.Background(), f.args("--timeout", "60s", "whoami"), e)
	t.Logf("%d hosts in %v", len(f.hosts), time.Since(start))
	if code != exitOK {
		t.Fatalf("exit code = %d, want 0\nstderr:\n%s", code, errb)
	}
	seen := make(map[string]bool)
	for _, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		host, result, ok := strings.Cut(line, ": ")
		if !ok {
			t.Fatalf("stdout line %q: want HOST: RESULT", line)
		}
		if want, known := f.name[host]; !known || result != want {
			t.Errorf("line %q: got result %q, want %q", line, result, want)
		}
		if seen[host] {
			t.Errorf("host %s reported twice", host)
		}
		seen[host] = true
	}
	if len(seen) != len(f.hosts) {
		t.Errorf("got lines for %d hosts, want %d", len(seen), len(f.hosts))
	}
	if ok, faulted, failed, ns := summaryCounts(t, errb.String()); ok != len(f.hosts) || faulted+failed+ns != 0 {
		t.Errorf("summary %d/%d/%d/%d, want %d succeeded and nothing else", ok, faulted, failed, ns, len(f.hosts))
	}
}

// TestFanoutFleetMixed runs one call on a fleet where hosts are down,
// misconfigured, frozen, slow or faulting: every host gets the line that
// says what happened to it, and the bad ones cost no more than their own
// timeouts: the whole run stays near one --timeout.
func TestFanoutFleetMixed(t *testing.T) {
	t.Parallel()
	var kinds []hostKind
	for range 2 {
		for k := kindOK; k <= kindDenied; k++ {
			kinds = append(kinds, k)
		}
	}
	kinds = append(kinds, kindOK, kindOK)
	f := newFleet(t, kinds)
	timeout, connectTimeout := fleetTimeouts()
	e, out, errb := testEnv(map[string]string{"RPCSSH_PASSWORD": fleetPassword})
	start := time.Now()
	code := run(context.Background(), f.args("--output", "json",
		"--timeout", timeout.String(), "--connect-timeout", connectTimeout.String(), "whoami"), e)
	elapsed := time.Since(start)
	t.Logf("%d hosts in %v", len(f.hosts), elapsed)

	if code != exitError {
		t.Errorf("exit code = %d, want %d (some hosts failed)", code, exitError)
	}
	if bound := 3*timeout + 5*time.Second; elapsed > bound {
		t.Errorf("the run took %v, want under %v: a bad host delayed the others", elapsed, bound)
	}
	lines := parseFleetLines(t, out.String())
	want := map[hostKind]int{}
	for _, h := range f.hosts {
		k := f.kind[h]
		want[k]++
		l, ok := lines[h]
		if !ok {
			t.Errorf("%s host %s: no line", kindNames[k], h)
			continue
		}
		if l.DurationMS == nil {
			t.Errorf("%s host %s: no duration_ms", kindNames[k], h)
		}
		var check func(fleetLine) bool
		var wantDesc string
		switch k {
		case kindOK:
			check = func(l fleetLine) bool { return l.OK && l.Result == f.name[h] && l.Error == "" && l.Fault == nil }
			wantDesc = fmt.Sprintf("ok, result %q", f.name[h])
		case kindFault:
			check = func(l fleetLine) bool {
				return !l.OK && l.Fault != nil && l.Fault.Code == 17 && l.Fault.Message == f.name[h]+" is in maintenance" && l.Error == ""
			}
			wantDesc = "fault 17 naming the host"
		case kindSlow, kindMute:
			check = func(l fleetLine) bool { return !l.OK && strings.HasPrefix(l.Error, "--timeout "+timeout.String()+": ") }
			wantDesc = "error starting --timeout " + timeout.String()
		case kindStalled, kindFrozen:
			check = func(l fleetLine) bool {
				return !l.OK && strings.HasPrefix(l.Error, "--connect-timeout "+connectTimeout.String()+": ")
			}
			wantDesc = "error starting --connect-timeout " + connectTimeout.String()
		case kindDown:
			check = func(l fleetLine) bool {
				return !l.OK && strings.Contains(l.Error, "connection refused") && len(l.Hints) > 0
			}
			wantDesc = "connection refused, with a hint"
		case kindWrongKey:
			check = func(l fleetLine) bool { return !l.OK && strings.Contains(l.Error, "has changed") && len(l.Hints) > 0 }
			wantDesc = "host key has changed, with hints"
		case kindUnknown:
			check = func(l fleetLine) bool { return !l.OK && strings.Contains(l.Error, "unknown host") && len(l.Hints) > 0 }
			wantDesc = "unknown host, with hints"
		case kindDenied:
			check = func(l fleetLine) bool { return !l.OK && strings.Contains(l.Error, "prohibited") }
			wantDesc = "forwarding prohibited"
		}
		if !check(l) {
			t.Errorf("%s host %s: got %+v, want %s", kindNames[k], h, l, wantDesc)
		}
	}
	if len(lines) != len(f.hosts) {
		t.Errorf("got %d lines, want one per host (%d)", len(lines), len(f.hosts))
	}
	ok, faulted, failed, ns := summaryCounts(t, errb.String())
	wantFailed := len(f.hosts) - want[kindOK] - want[kindFault]
	if ok != want[kindOK] || faulted != want[kindFault] || failed != wantFailed || ns != 0 {
		t.Errorf("summary: %d succeeded, %d faulted, %d failed, %d not started; want %d, %d, %d, 0",
			ok, faulted, failed, ns, want[kindOK], want[kindFault], wantFailed)
	}
}

// TestFanoutFleetExitCodes checks the fleet exit codes on real hosts:
// 0 when all succeed, 2 when some fault and none fail, 1 when any fails.
func TestFanoutFleetExitCodes(t *testing.T) {
	t.Parallel()
	f := newFleet(t, []hostKind{kindOK, kindFault, kindDown})
	only := func(hosts ...string) []string {
		return []string{"call", "--host", strings.Join(hosts, ","), "--key", f.key,
			"--known-hosts", f.knownHosts, "--ssh-config", "none", "whoami"}
	}
	okHost, faultHost, downHost := f.hosts[0], f.hosts[1], f.hosts[2]
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"all succeed", only(okHost, okHost+",root@"+okHost), exitOK},
		{"a fault", only(okHost, faultHost), exitFault},
		{"a failure beats a fault", only(okHost, faultHost, downHost), exitError},
		{"hosts file with a failure", f.args("whoami"), exitError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, out, errb := testEnv(map[string]string{"RPCSSH_PASSWORD": fleetPassword})
			if got := run(context.Background(), tt.args, e); got != tt.want {
				t.Errorf("run(%q) = %d, want %d\nstdout:\n%s\nstderr:\n%s", tt.args, got, tt.want, out, errb)
			}
			summaryCounts(t, errb.String())
		})
	}
}

// TestFanoutInterrupt cancels a fleet run (Ctrl-C) while calls hang: they
// end at once, the hosts not reached are counted, the summary is printed
// and the exit code is 1.
func TestFanoutInterrupt(t *testing.T) {
	t.Parallel()
	f := newFleet(t, []hostKind{kindSlow, kindSlow, kindSlow, kindSlow, kindSlow, kindSlow})
	e, out, errb := testEnv(map[string]string{"RPCSSH_PASSWORD": fleetPassword})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(500*time.Millisecond, cancel)
	start := time.Now()
	code := run(ctx, f.args("--parallel", "2", "--timeout", "60s", "--output", "json", "whoami"), e)
	if elapsed := time.Since(start); elapsed > 20*time.Second {
		t.Errorf("the interrupted run took %v, want it to end soon after the interrupt", elapsed)
	}
	if code != exitError {
		t.Errorf("exit code = %d, want %d", code, exitError)
	}
	lines := parseFleetLines(t, out.String())
	if len(lines) != 2 {
		t.Errorf("got %d lines, want 2 (the hosts in flight)\n%s", len(lines), out)
	}
	for h, l := range lines {
		if l.OK || !strings.HasPrefix(l.Error, "interrupted: ") {
			t.Errorf("host %s: got %+v, want an error starting interrupted:", h, l)
		}
	}
	if !strings.Contains(errb.String(), "rpcssh: error: interrupted: ") {
		t.Errorf("stderr = %q, want the summary to say interrupted", errb)
	}
	if ok, faulted, failed, ns := summaryCounts(t, errb.String()); ok+faulted != 0 || failed != 2 || ns != 4 {
		t.Errorf("summary %d/%d/%d/%d, want 0 succeeded, 0 faulted, 2 failed, 4 not started", ok, faulted, failed, ns)
	}
}

// BenchmarkFanout200 measures a 200-host fan-out, SSH handshakes
// included, in hosts/s.
func BenchmarkFanout200(b *testing.B) {
	f := newFleet(b, make([]hostKind, 200))
	args := f.args("--timeout", "60s", "whoami")
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		e, _, errb := testEnv(map[string]string{"RPCSSH_PASSWORD": fleetPassword})
		if code := run(context.Background(), args, e); code != exitOK {
			b.Fatalf("exit code %d\n%s", code, errb)
		}
	}
	b.ReportMetric(float64(200*b.N)/time.Since(start).Seconds(), "hosts/s")
}

// TestFanoutAcceptNew: under accept-new, hosts seen for the first time
// are called and each is recorded once in known_hosts, even though they
// are all dialled at once; a second run with the default
// --strict-host-key-checking yes finds them all known.
func TestFanoutAcceptNew(t *testing.T) {
	t.Parallel()
	f := newFleet(t, []hostKind{kindUnknown, kindUnknown, kindUnknown, kindUnknown, kindUnknown, kindUnknown})
	for i, args := range [][]string{
		f.args("--strict-host-key-checking", "accept-new", "whoami"),
		f.args("whoami"),
	} {
		e, out, errb := testEnv(map[string]string{"RPCSSH_PASSWORD": fleetPassword})
		if code := run(context.Background(), args, e); code != exitOK {
			t.Fatalf("run %d: exit code %d, want 0\nstdout:\n%s\nstderr:\n%s", i+1, code, out, errb)
		}
	}
	data, err := os.ReadFile(f.knownHosts)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(data), "\n"); got != len(f.hosts) {
		t.Errorf("known_hosts has %d lines, want one per host (%d):\n%s", got, len(f.hosts), data)
	}
}
