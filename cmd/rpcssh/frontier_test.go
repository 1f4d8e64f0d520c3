package main

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// frontierServer is Perl's Frontier::Daemon (Debian: libfrontier-rpc-perl):
// it answers HTTP/1.1 without Connection: close and then closes the
// connection, so a client that keeps connections alive races the close.
const frontierServer = `
use Frontier::Daemon;
Frontier::Daemon->new(LocalAddr => '127.0.0.1', LocalPort => $ARGV[0], ReuseAddr => 1,
	methods => { echo => sub { return uc $_[0] } });
`

// startFrontier runs Frontier::Daemon on a free loopback port and returns
// its URL; it skips the test when Perl or the module is missing.
func startFrontier(t *testing.T) string {
	t.Helper()
	if err := exec.Command("perl", "-MFrontier::Daemon", "-e1").Run(); err != nil {
		t.Skipf("perl with Frontier::Daemon (libfrontier-rpc-perl) is not installed: %v", err)
	}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(t.TempDir(), "server.pl")
	if err := os.WriteFile(script, []byte(frontierServer), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("perl", script, strconv.Itoa(port))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Frontier::Daemon did not listen on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return "http://" + addr + "/RPC2"
}

// TestBenchAgainstFrontierDaemon: rpcssh bench -c 10 -n 200 against Perl's
// Frontier::Daemon has no error (the client retries a kept-alive
// connection the server closed before answering).
func TestBenchAgainstFrontierDaemon(t *testing.T) {
	t.Parallel()
	url := startFrontier(t)
	r := benchWithoutErrors(t, url, "unused")
	t.Logf("Frontier::Daemon, -c 10: %.0f calls/s, p50 %.2f ms, p99 %.2f ms", r.CallsPerSec, r.LatencyMS.P50, r.LatencyMS.P99)
	e, out, errb := testEnv(map[string]string{"RPCSSH_PASSWORD": "unused"})
	if got := run(context.Background(), []string{"call", "--url", url, "echo", "hi"}, e); got != exitOK || out.String() != "HI\n" {
		t.Errorf("call = %d, stdout %q; want 0, HI; stderr %s", got, out, errb)
	}
}
