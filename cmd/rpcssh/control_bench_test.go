package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/rpcssh/rpcssh/tunnel/tunneltest"
)

// BenchmarkControl measures connection sharing (issue 15) in one run and
// prints the ratios against the targets at the end:
//
//	go test -run '^$' -bench Control -benchtime 5x ./cmd/rpcssh/
//
// The rpcssh binary (go build) makes one-shot 'call echo hi's through a
// real sshd to the in-process server, as a shell loop does. Each op of a
// sub-benchmark runs every variant once, in turn, so that they share the
// machine's load:
//
//	loopback: url, cold, warm, ssh-W
//	    --url direct; a fresh SSH connection (--control-persist 0);
//	    through a master that an untimed first call started; and
//	    'ssh -W' to the server's port, stdin at EOF (OpenSSH's cold path)
//	ssh-S-true
//	    'ssh -S sock host true' through an OpenSSH master (ssh -M)
//	wan: cold, warm, ssh-W
//	    the same with 25 ms each way (tunneltest.LatencyProxy) between
//	    the client and sshd, and the round trips each started
//	    (LatencyProxy flights plus TCP handshakes)
//	wan-loop20: cold, warm
//	    20 calls in a row
func BenchmarkControl(b *testing.B) {
	p := &perfPeers{parent: b, results: map[string]perfResult{}}
	cb := &controlBench{p: p, times: map[string]time.Duration{}, trips: map[string]float64{}}
	b.Run("loopback", cb.loopback)
	b.Run("ssh-S-true", cb.sshSTrue)
	b.Run("wan", cb.wan)
	b.Run("wan-loop20", cb.wanLoop)
	b.Run("summary", func(b *testing.B) {
		if b.N == 1 {
			fmt.Print(cb.summary())
		}
	})
}

// wanDelay is the one-way delay of the simulated WAN.
const wanDelay = 25 * time.Millisecond

type controlBench struct {
	p *perfPeers

	mu    sync.Mutex
	times map[string]time.Duration // mean per variant, from the last run
	trips map[string]float64       // round trips started per variant (wan)

	proxy    lazy[*tunneltest.LatencyProxy]
	wanKH    lazy[string] // known_hosts naming the proxy's port
	ctlDir   lazy[string]
	osshSock lazy[string]
}

// variant is one way of doing the op being compared.
type variant struct {
	name string
	op   func() error
}

// interleave runs every variant once per b.N, in turn, and records each
// one's mean time under prefix/name (and, with px, the round trips it
// started through the proxy).
func (cb *controlBench) interleave(b *testing.B, prefix string, px *tunneltest.LatencyProxy, vs []variant) {
	total := make([]time.Duration, len(vs))
	trips := make([]int64, len(vs))
	b.ResetTimer()
	for range b.N {
		for i, v := range vs {
			var before int64
			if px != nil {
				before = px.Flights() + px.Accepted()
			}
			start := time.Now()
			if err := v.op(); err != nil {
				b.Fatal(err)
			}
			total[i] += time.Since(start)
			if px != nil {
				trips[i] += px.Flights() + px.Accepted() - before
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(0, "ns/op")
	cb.mu.Lock()
	defer cb.mu.Unlock()
	for i, v := range vs {
		per := total[i] / time.Duration(b.N)
		b.ReportMetric(ms(per), v.name+"-ms")
		cb.times[prefix+"/"+v.name] = per
		if px != nil {
			cb.trips[prefix+"/"+v.name] = float64(trips[i]) / float64(b.N)
		}
	}
}

func (cb *controlBench) wanProxy(b *testing.B) *tunneltest.LatencyProxy {
	d := cb.p.realSSHD(b)
	return cb.proxy.get(b, func() (*tunneltest.LatencyProxy, error) {
		px, err := tunneltest.StartLatencyProxy(d.Addr(), wanDelay)
		if err != nil {
			return nil, err
		}
		cb.p.parent.Cleanup(func() { px.Close() })
		return px, nil
	})
}

// wanKnownHosts is a known_hosts file for the sshd as reached through the
// proxy: [127.0.0.1]:PROXYPORT.
func (cb *controlBench) wanKnownHosts(b *testing.B) string {
	d := cb.p.realSSHD(b)
	px := cb.wanProxy(b)
	return cb.wanKH.get(b, func() (string, error) {
		var lines []string
		for _, k := range d.HostKeys {
			lines = append(lines, knownhosts.Line([]string{knownhosts.Normalize(px.Addr())}, k))
		}
		path := filepath.Join(cb.p.parent.TempDir(), "wan_known_hosts")
		return path, os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600)
	})
}

// controlDir is a short private directory for the masters' sockets.
func (cb *controlBench) controlDir(b *testing.B) string {
	return cb.ctlDir.get(b, func() (string, error) {
		dir, err := os.MkdirTemp("", "rcb")
		if err != nil {
			return "", err
		}
		cb.p.parent.Cleanup(func() { os.RemoveAll(dir) })
		return dir, nil
	})
}

// callArgs are the arguments of 'rpcssh call echo hi' through the real
// sshd, or through the WAN proxy in front of it.
func (cb *controlBench) callArgs(b *testing.B, wan bool) []string {
	d := cb.p.realSSHD(b)
	_, port, _ := net.SplitHostPort(cb.p.serveAddr(b))
	host, sshPort, kh := d.Host(), d.Port(), d.knownHosts
	if wan {
		px := cb.wanProxy(b)
		host, sshPort, kh = px.Host(), px.Port(), cb.wanKnownHosts(b)
	}
	return []string{"call", "--host", host, "--ssh-port", strconv.Itoa(sshPort), "--user", d.User,
		"--key", d.ClientKeyPath, "--known-hosts", kh, "--ssh-config", "none",
		"--port", port, "echo", "hi"}
}

func (cb *controlBench) env(b *testing.B, persist string) []string {
	return append(os.Environ(), "HOME="+b.TempDir(), "SSH_AUTH_SOCK=", "RPCSSH_PASSWORD="+perfPassword,
		"RPCSSH_PASSPHRASE=", "RPCSSH_CONTROL_PERSIST="+persist, "RPCSSH_CONTROL_DIR="+cb.controlDir(b))
}

func runHI(bin string, args, env []string) error {
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil || string(out) != "HI\n" {
		return fmt.Errorf("rpcssh %s: %v: %q", strings.Join(args, " "), err, out)
	}
	return nil
}

// callOp is n one-shot calls, warm (through a master, started here by an
// untimed call) or cold, on loopback or over the WAN proxy.
func (cb *controlBench) callOp(b *testing.B, warm, wan bool, n int) func() error {
	bin := cb.p.rpcsshBin(b)
	args := cb.callArgs(b, wan)
	persist := "0"
	if warm {
		persist = "120s"
	}
	env := cb.env(b, persist)
	if warm {
		if err := runHI(bin, args, env); err != nil { // starts the master
			b.Fatal(err)
		}
	}
	return func() error {
		for range n {
			if err := runHI(bin, args, env); err != nil {
				return err
			}
		}
		return nil
	}
}

func (cb *controlBench) urlOp(b *testing.B) func() error {
	bin := cb.p.rpcsshBin(b)
	args := []string{"call", "--url", "http://" + cb.p.serveAddr(b) + "/RPC2", "echo", "hi"}
	env := cb.env(b, "0")
	return func() error { return runHI(bin, args, env) }
}

// sshWOp is 'ssh -W' to the server's port (through the proxy when wan)
// with stdin at EOF: TCP, key exchange, host key check, authentication
// and one channel, the SSH work of a cold call.
func (cb *controlBench) sshWOp(b *testing.B, wan bool) func() error {
	d := cb.p.realSSHD(b)
	target := cb.p.serveAddr(b)
	args := append(d.sshArgs(), "-W", target, d.Host())
	if wan {
		px := cb.wanProxy(b)
		kh := cb.wanKnownHosts(b)
		// ssh keeps the first value of an option: replace, not append.
		args = nil
		for _, a := range d.sshArgs() {
			switch {
			case strings.HasPrefix(a, "UserKnownHostsFile="):
				a = "UserKnownHostsFile=" + kh
			case a == strconv.Itoa(d.Port()):
				a = strconv.Itoa(px.Port())
			}
			args = append(args, a)
		}
		args = append(args, "-W", target, px.Host())
	}
	return func() error {
		if out, err := exec.Command("ssh", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("ssh -W: %v: %s", err, out)
		}
		return nil
	}
}

func (cb *controlBench) loopback(b *testing.B) {
	cb.interleave(b, "loopback", nil, []variant{
		{"url", cb.urlOp(b)},
		{"cold", cb.callOp(b, false, false, 1)},
		{"warm", cb.callOp(b, true, false, 1)},
		{"ssh-W", cb.sshWOp(b, false)},
	})
}

func (cb *controlBench) wan(b *testing.B) {
	cb.interleave(b, "wan", cb.wanProxy(b), []variant{
		{"cold", cb.callOp(b, false, true, 1)},
		{"warm", cb.callOp(b, true, true, 1)},
		{"ssh-W", cb.sshWOp(b, true)},
	})
}

func (cb *controlBench) wanLoop(b *testing.B) {
	cb.interleave(b, "wan-loop20", nil, []variant{
		{"cold", cb.callOp(b, false, true, 20)},
		{"warm", cb.callOp(b, true, true, 20)},
	})
}

// openSSHMaster starts 'ssh -M -S sock -fN' to the sshd on loopback.
func (cb *controlBench) openSSHMaster(b *testing.B) string {
	d := cb.p.realSSHD(b)
	return cb.osshSock.get(b, func() (string, error) {
		sshPath, err := exec.LookPath("ssh")
		if err != nil {
			return "", &skipError{err}
		}
		sock := filepath.Join(cb.controlDir(b), "ossh.sock")
		args := append(d.sshArgs(), "-M", "-S", sock, "-f", "-N", "-o", "ControlPersist=120", d.Host())
		if out, err := exec.Command(sshPath, args...).CombinedOutput(); err != nil {
			return "", fmt.Errorf("ssh -M: %v: %s", err, out)
		}
		cb.p.parent.Cleanup(func() { exec.Command(sshPath, "-F", os.DevNull, "-S", sock, "-O", "exit", "x").Run() })
		return sock, nil
	})
}

func (cb *controlBench) sshSTrue(b *testing.B) {
	d := cb.p.realSSHD(b)
	sock := cb.openSSHMaster(b)
	args := append(d.sshArgs(), "-S", sock, d.Host(), "true")
	cb.interleave(b, "loopback", nil, []variant{{"ssh-S-true", func() error {
		if out, err := exec.Command("ssh", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("ssh -S true: %v: %s", err, out)
		}
		return nil
	}}})
}

func (cb *controlBench) summary() string {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	t, trips := cb.times, cb.trips
	rtt := 2 * wanDelay
	var s strings.Builder
	line := func(format string, a ...any) { fmt.Fprintf(&s, format+"\n", a...) }
	ratio := func(a, b string) string {
		if t[a] == 0 || t[b] == 0 {
			return "n/a"
		}
		return fmt.Sprintf("%.2f×", float64(t[a])/float64(t[b]))
	}
	started := func(name string) string {
		if v, ok := trips[name]; ok {
			return fmt.Sprintf("%.1f", v)
		}
		return "n/a"
	}
	// The time a WAN op takes beyond the same op on loopback, in RTTs.
	over := func(wan, loop string) string {
		if t[wan] == 0 || t[loop] == 0 {
			return "n/a"
		}
		return fmt.Sprintf("%.1f", float64(t[wan]-t[loop])/float64(rtt))
	}
	line("control summary (one-shot 'rpcssh call echo hi'; %s RTT on the WAN)", rtt)
	line("  loopback: url %.1f ms, cold %.1f ms, warm %.1f ms, ssh -W %.1f ms; warm/url %s (target ≤ 1.3×), warm/cold %s",
		ms(t["loopback/url"]), ms(t["loopback/cold"]), ms(t["loopback/warm"]), ms(t["loopback/ssh-W"]),
		ratio("loopback/warm", "loopback/url"), ratio("loopback/warm", "loopback/cold"))
	line("  warm call vs 'ssh -S sock host true' (%.1f ms): %s (target ≤ 0.1×)",
		ms(t["loopback/ssh-S-true"]), ratio("loopback/warm", "loopback/ssh-S-true"))
	line("  WAN one call: cold %.1f ms, warm %.1f ms (target ≤ 70 ms), ssh -W %.1f ms",
		ms(t["wan/cold"]), ms(t["wan/warm"]), ms(t["wan/ssh-W"]))
	line("  WAN round trips started: cold %s, warm %s, ssh -W %s (target: cold ≤ ssh -W)",
		started("wan/cold"), started("wan/warm"), started("wan/ssh-W"))
	line("  WAN time beyond loopback, in RTTs: cold %s, warm %s, ssh -W %s",
		over("wan/cold", "loopback/cold"), over("wan/warm", "loopback/warm"), over("wan/ssh-W", "loopback/ssh-W"))
	line("  WAN 20 calls: cold %.0f ms, warm %.0f ms; warm/cold %s (target ≤ 0.35×)",
		ms(t["wan-loop20/cold"]), ms(t["wan-loop20/warm"]), ratio("wan-loop20/warm", "wan-loop20/cold"))
	return s.String()
}
