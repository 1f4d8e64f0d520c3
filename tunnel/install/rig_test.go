package install_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/rpcssh/rpcssh/internal/testbuild"
	"github.com/rpcssh/rpcssh/tunnel"
	"github.com/rpcssh/rpcssh/tunnel/tunneltest"
)

// rig is a real sshd and a fresh non-root account to install into.
type rig struct {
	acct *tunneltest.Account
	sshd *tunneltest.SSHD
}

func newRig(t *testing.T) *rig {
	t.Helper()
	acct := tunneltest.AddAccount(t)
	sshd := tunneltest.StartSSHD(t, tunneltest.SSHDConfig{Extra: acct.SSHDLines()})
	if err := acct.Authorize(sshd.ClientKey); err != nil {
		t.Fatal(err)
	}
	return &rig{acct: acct, sshd: sshd}
}

// dial logs in as the account; the connection is closed at cleanup.
func (r *rig) dial(t *testing.T) *tunnel.Client {
	t.Helper()
	signer, err := tunnel.LoadKey(r.sshd.ClientKeyPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := tunnel.Dial(ctx, tunnel.Config{
		Addr:            r.sshd.Addr(),
		User:            r.acct.Name,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: ssh.FixedHostKey(r.sshd.HostKey("ed25519")),
	})
	if err != nil {
		t.Fatalf("dial %s as %s: %v\n%s", r.sshd.Addr(), r.acct.Name, err, r.sshd.Log())
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestMain removes the builds the tests shared.
func TestMain(m *testing.M) {
	code := m.Run()
	if err := builds.Remove(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}

// builds is the rpcssh command built once per stated version for every
// test (and every -count run) of this test binary.
var builds testbuild.Set

// buildRPCSSH builds the rpcssh command (once per test binary).
func buildRPCSSH(t *testing.T) string {
	t.Helper()
	return buildVersions(t, "")[0]
}

// buildVersions builds the rpcssh command for each version at the same
// time, stating v as a release build does ("" states none), once per test
// binary; the binaries must not be changed.
func buildVersions(t *testing.T, vs ...string) []string {
	t.Helper()
	paths := make([]string, len(vs))
	errs := make([]error, len(vs))
	var wg sync.WaitGroup
	for i, v := range vs {
		wg.Go(func() {
			if v == "" {
				paths[i], errs[i] = builds.Binary("")
			} else {
				paths[i], errs[i] = builds.Release(v)
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if errors.Is(err, testbuild.ErrNoGo) {
			t.Skip("skipping: " + err.Error())
		}
		if err != nil {
			t.Fatalf("build rpcssh %q: %v", vs[i], err)
		}
	}
	return paths
}

// variant copies bin with bytes appended: it still runs, but has another
// checksum and so another version directory.
func variant(t *testing.T, bin, tag string) string {
	t.Helper()
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "rpcssh")
	if err := os.WriteFile(out, append(data, []byte("\nrpcssh-test-variant "+tag+"\n")...), 0o755); err != nil {
		t.Fatal(err)
	}
	return out
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// corrupting flips one byte of what the upload's `cat` receives, as a bad
// link or disk would.
type corrupting struct{ *tunnel.Client }

func (c corrupting) Run(ctx context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer) error {
	if strings.Contains(cmd, "cat >") && strings.Contains(cmd, ".rpcssh.upload.") {
		stdin = &flipper{r: stdin, at: 4096}
	}
	return c.Client.Run(ctx, cmd, stdin, stdout, stderr)
}

type flipper struct {
	r   io.Reader
	at  int64
	off int64
}

func (f *flipper) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if f.at >= f.off && f.at < f.off+int64(n) {
		p[f.at-f.off] ^= 0xff
	}
	f.off += int64(n)
	return n, err
}
