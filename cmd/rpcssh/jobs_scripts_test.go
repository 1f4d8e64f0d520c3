package main

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/rpcssh/rpcssh/rpc/program"
)

// cmdBuildRPCSSH copies to the path given an rpcssh built from this module
// (another binary than the test's own), for the scripts that upgrade
// serve under running jobs.
func cmdBuildRPCSSH(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: buildbin PATH")
	}
	bin, err := builds.Binary("")
	ts.Check(err)
	copyBinary(ts, bin, args[0])
}

// copyBinary copies bin to path in the script's $WORK.
func copyBinary(ts *testscript.TestScript, bin, path string) {
	data, err := os.ReadFile(bin)
	ts.Check(err)
	dst := ts.MkAbs(path)
	ts.Check(os.MkdirAll(filepath.Dir(dst), 0o755))
	ts.Check(os.WriteFile(dst, data, 0o755))
}

// cmdDropResponse starts a TCP proxy to 127.0.0.1:PORT that passes the
// first connection's request on and closes it as the answer starts to
// come back: an answer lost with the link. Later connections pass as
// they are. It sets $VAR to the proxy's port.
func cmdDropResponse(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: dropresp VAR PORT")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	target := net.JoinHostPort("127.0.0.1", args[1])
	var wg sync.WaitGroup
	ts.Defer(func() { l.Close(); wg.Wait() })
	wg.Go(func() {
		first := true
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			drop := first
			first = false
			wg.Go(func() { proxyConn(c, target, drop) })
		}
	})
	ts.Setenv(args[0], strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
}

func proxyConn(c net.Conn, target string, drop bool) {
	defer c.Close()
	s, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	defer s.Close()
	go func() { _, _ = io.Copy(s, c) }()
	if drop {
		var b [1]byte
		_, _ = s.Read(b[:]) // the answer is coming: the link drops
		return
	}
	_, _ = io.Copy(c, s)
}

// testRunnerCommand is RunnerCommand for a Host inside this test binary:
// a link named rpcssh to it, so testscript.Main runs main().
func testRunnerCommand(t *testing.T) []string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "rpcssh")
	if err := os.Symlink(exe, link); err != nil {
		t.Fatal(err)
	}
	return []string{link, program.RunnerArg}
}
