package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/rpcssh/rpcssh/rpc"
	"github.com/rpcssh/rpcssh/tunnel/tunneltest"
)

// followRig is a job server reached through SSH, with a proxy in front
// of the SSH server (sshProxy) and one in front of serve (serveProxy), so
// a test can take either away.
type followRig struct {
	id         string
	args       []string // jobs follow's connection flags
	sshProxy   *flakyProxy
	serveProxy *flakyProxy
}

func newFollowRig(t *testing.T, lines int) *followRig {
	t.Helper()
	hs, id := startCountJob(t, lines, rpc.ServerConfig{Username: "user", Password: "pw"})
	serveProxy := newFlakyProxy(t, hs.Listener.Addr().String())

	dir := t.TempDir()
	pub, err := writeClientKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	sshSrv := tunneltest.NewServer(t, tunneltest.Config{AuthorizedKeys: []ssh.PublicKey{pub}})
	sshProxy := newFlakyProxy(t, sshSrv.Addr())
	line := knownhosts.Line([]string{knownhosts.Normalize(sshProxy.l.Addr().String())}, sshSrv.HostKey())
	if err := os.WriteFile(filepath.Join(dir, "known_hosts"), []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	_, sshPort, _ := net.SplitHostPort(sshProxy.l.Addr().String())
	_, servePort, _ := net.SplitHostPort(serveProxy.l.Addr().String())
	return &followRig{
		id: id,
		args: []string{"--host", "127.0.0.1", "--ssh-port", sshPort, "--key", filepath.Join(dir, "id_ed25519"),
			"--known-hosts", filepath.Join(dir, "known_hosts"), "--port", servePort, "--connect-timeout", "5s"},
		sshProxy:   sshProxy,
		serveProxy: serveProxy,
	}
}

// follow starts jobs follow in the background and returns its exit code
// channel and output buffers.
func (r *followRig) follow(ctx context.Context) (<-chan int, *lockedBuffer, *lockedBuffer) {
	var out, errb lockedBuffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb,
		getenv: func(k string) string { return map[string]string{"RPCSSH_PASSWORD": "pw"}[k] }}
	code := make(chan int, 1)
	args := append(append([]string{"jobs", "follow"}, r.args...), r.id)
	go func() { code <- run(ctx, args, e) }()
	return code, &out, &errb
}

func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool, diag func() string) {
	t.Helper()
	for !cond() {
		if ctx.Err() != nil {
			t.Fatalf("gave up waiting for %s; %s", what, diag())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func wantLines(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	return b.String()
}

// TestJobsFollowSSHDownAtReconnect: the SSH server is still unreachable
// at the first reconnect attempt (this used to panic on a nil closer);
// follow keeps retrying and then prints every line once.
func TestJobsFollowSSHDownAtReconnect(t *testing.T) {
	t.Parallel()
	followThroughOutage(t, func(r *followRig) *flakyProxy { return r.sshProxy })
}

// TestJobsFollowReconnectedMeansServeAnswers: with SSH up but serve
// unreachable, follow does not claim it reconnected until serve answers.
func TestJobsFollowReconnectedMeansServeAnswers(t *testing.T) {
	t.Parallel()
	followThroughOutage(t, func(r *followRig) *flakyProxy { return r.serveProxy })
}

// followThroughOutage follows a 30-line job and, after line 3, takes away
// the proxy outage picks until follow has failed twice to get through,
// then restores it. follow must not say "reconnected" while it cannot get
// through, must say it once after, must not fail on an internal error,
// and must exit 0 having printed each line once.
func followThroughOutage(t *testing.T, outage func(*followRig) *flakyProxy) {
	t.Helper()
	rig := newFollowRig(t, 30)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code, out, errb := rig.follow(ctx)
	diag := func() string { return fmt.Sprintf("stdout %q stderr %s", out.String(), errb.String()) }
	waitFor(t, ctx, "line 3", func() bool { return strings.Contains(out.String(), "line 3\n") }, diag)
	proxy := outage(rig)
	proxy.cut()
	waitFor(t, ctx, "two failed reconnects", func() bool { return strings.Count(errb.String(), "link lost") >= 2 }, diag)
	if strings.Contains(errb.String(), "reconnected") {
		t.Errorf("stderr says reconnected while the link is down: %s", errb.String())
	}
	proxy.restore()
	select {
	case got := <-code:
		if got != exitOK || out.String() != wantLines(30) {
			t.Errorf("follow = %d; want 0 and each line once; %s", got, diag())
		}
		if strings.Contains(errb.String(), "internal error") || strings.Count(errb.String(), "reconnected") != 1 {
			t.Errorf("stderr %q: want exactly one reconnected and no internal error", errb.String())
		}
	case <-ctx.Done():
		t.Fatalf("follow did not end; %s", diag())
	}
}
