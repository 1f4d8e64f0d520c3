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
// Every sub-benchmark runs the rpcssh binary (go build) as a one-shot
// 'call echo hi' through a real sshd to the in-process server, the way a
// shell loop does:
//
//	loopback/{url,cold,warm}
//	    --url direct; a fresh SSH connection each call (--control-persist
//	    0); through a master that an untimed first call started
//	loopback/ssh-S-true
//	    'ssh -S sock host true' through an OpenSSH master (ssh -M)
//	loopback/ssh-W, wan/ssh-W
//	    'ssh -W' to the server's port, stdin at EOF: OpenSSH's cold path
//	wan/{cold,warm}
//	    one call with 25 ms each way (tunneltest.LatencyProxy) between the
//	    client and sshd; round trips are (wan - loopback) / 50 ms
//	wan/loop20/{cold,warm}
//	    20 calls in a row, one op
func BenchmarkControl(b *testing.B) {
	p := &perfPeers{parent: b, results: map[string]perfResult{}}
	cb := &controlBench{p: p, times: map[string]time.Duration{}}
	b.Run("loopback/url", cb.loopURL)
	b.Run("loopback/cold", func(b *testing.B) { cb.call(b, "loopback/cold", false, false, 1) })
	b.Run("loopback/warm", func(b *testing.B) { cb.call(b, "loopback/warm", true, false, 1) })
	b.Run("loopback/ssh-S-true", cb.sshSTrue)
	b.Run("wan/cold", func(b *testing.B) { cb.call(b, "wan/cold", false, true, 1) })
	b.Run("wan/warm", func(b *testing.B) { cb.call(b, "wan/warm", true, true, 1) })
	b.Run("loopback/ssh-W", func(b *testing.B) { cb.sshW(b, "loopback/ssh-W", false) })
	b.Run("wan/ssh-W", func(b *testing.B) { cb.sshW(b, "wan/ssh-W", true) })
	b.Run("wan/loop20/cold", func(b *testing.B) { cb.call(b, "wan/loop20/cold", false, true, 20) })
	b.Run("wan/loop20/warm", func(b *testing.B) { cb.call(b, "wan/loop20/warm", true, true, 20) })
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
	times map[string]time.Duration // per op, from each sub-benchmark's last run

	proxy    lazy[*tunneltest.LatencyProxy]
	wanKH    lazy[string] // known_hosts naming the proxy's port
	ctlDir   lazy[string]
	osshSock lazy[string]
}

func (cb *controlBench) record(name string, d time.Duration) {
	cb.mu.Lock()
	cb.times[name] = d
	cb.mu.Unlock()
}

// timeOps runs op b.N times, reports ms/op and records it under name.
func (cb *controlBench) timeOps(b *testing.B, name string, op func() error) {
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if err := op(); err != nil {
			b.Fatal(err)
		}
	}
	per := time.Since(start) / time.Duration(b.N)
	b.StopTimer()
	b.ReportMetric(ms(per), "ms/op")
	b.ReportMetric(0, "ns/op")
	cb.record(name, per)
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
		"--key", d.ClientKeyPath, "--known-hosts", kh, "--ssh-config", filepath.Join(cb.controlDir(b), "no_ssh_config"),
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

// call times n one-shot calls per op, warm (a master started by an
// untimed call first) or cold, on loopback or over the WAN proxy.
func (cb *controlBench) call(b *testing.B, name string, warm, wan bool, n int) {
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
	cb.timeOps(b, name, func() error {
		for range n {
			if err := runHI(bin, args, env); err != nil {
				return err
			}
		}
		return nil
	})
}

func (cb *controlBench) loopURL(b *testing.B) {
	bin := cb.p.rpcsshBin(b)
	args := []string{"call", "--url", "http://" + cb.p.serveAddr(b) + "/RPC2", "echo", "hi"}
	env := cb.env(b, "0")
	cb.timeOps(b, "loopback/url", func() error { return runHI(bin, args, env) })
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
	cb.timeOps(b, "loopback/ssh-S-true", func() error {
		if out, err := exec.Command("ssh", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("ssh -S true: %v: %s", err, out)
		}
		return nil
	})
}

// sshW is 'ssh -W' to the server's port (through the proxy when wan) with
// stdin at EOF: TCP, key exchange, host key check, authentication and one
// channel, the SSH work of a cold call.
func (cb *controlBench) sshW(b *testing.B, name string, wan bool) {
	d := cb.p.realSSHD(b)
	target := cb.p.serveAddr(b)
	args := append(d.sshArgs(), "-W", target, d.Host())
	if wan {
		px := cb.wanProxy(b)
		kh := cb.wanKnownHosts(b)
		args = append(d.sshArgs(), "-o", "UserKnownHostsFile="+kh, "-p", strconv.Itoa(px.Port()), "-W", target, px.Host())
	}
	cb.timeOps(b, name, func() error {
		if out, err := exec.Command("ssh", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("ssh -W: %v: %s", err, out)
		}
		return nil
	})
}

func (cb *controlBench) summary() string {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	t := cb.times
	rtt := 2 * wanDelay
	var s strings.Builder
	line := func(format string, a ...any) { fmt.Fprintf(&s, format+"\n", a...) }
	ratio := func(a, b string) string {
		if t[a] == 0 || t[b] == 0 {
			return "n/a"
		}
		return fmt.Sprintf("%.2f×", float64(t[a])/float64(t[b]))
	}
	// Round trips: the time a WAN op takes beyond the same op on
	// loopback, in RTTs.
	trips := func(wan, loop string) string {
		if t[wan] == 0 || t[loop] == 0 {
			return "n/a"
		}
		return fmt.Sprintf("%.1f", float64(t[wan]-t[loop])/float64(rtt))
	}
	line("control summary (%s RTT on the WAN legs)", rtt)
	line("  loopback one-shot call: url %.1f ms, cold %.1f ms, warm %.1f ms; warm/url %s (target ≤ 1.3×), warm/cold %s",
		ms(t["loopback/url"]), ms(t["loopback/cold"]), ms(t["loopback/warm"]), ratio("loopback/warm", "loopback/url"), ratio("loopback/warm", "loopback/cold"))
	line("  warm call vs ssh -S sock host true (%.1f ms): %s (target ≤ 0.1×)", ms(t["loopback/ssh-S-true"]), ratio("loopback/warm", "loopback/ssh-S-true"))
	line("  WAN one call: cold %.1f ms (%s RTTs more than on loopback), warm %.1f ms (%s RTTs; target ≤ 70 ms), ssh -W %.1f ms (%s RTTs)",
		ms(t["wan/cold"]), trips("wan/cold", "loopback/cold"), ms(t["wan/warm"]), trips("wan/warm", "loopback/warm"),
		ms(t["wan/ssh-W"]), trips("wan/ssh-W", "loopback/ssh-W"))
	line("  WAN 20 calls: cold %.0f ms, warm %.0f ms; warm/cold %s (target ≤ 0.35×)",
		ms(t["wan/loop20/cold"]), ms(t["wan/loop20/warm"]), ratio("wan/loop20/warm", "wan/loop20/cold"))
	return s.String()
}
