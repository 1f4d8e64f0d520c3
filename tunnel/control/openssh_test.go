//go:build linux || darwin

package control_test

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rpcssh/rpcssh/tunnel/control"
	"github.com/rpcssh/rpcssh/tunnel/tunneltest"
)

// startOpenSSHMaster runs `ssh -M -S sock -fN` against f's sshd with a
// config, key and known_hosts of the test's own, and returns the socket.
func startOpenSSHMaster(t *testing.T, f *fixture) string {
	t.Helper()
	sshPath, err := exec.LookPath("ssh")
	if err != nil {
		t.Skipf("skipping: %v", err)
	}
	sock := filepath.Join(f.dir, "openssh.sock")
	cmd := exec.Command(sshPath, "-F", "/dev/null",
		"-M", "-S", sock, "-f", "-N",
		"-o", "ControlPersist=60",
		"-o", "BatchMode=yes",
		"-o", "StrictHostKeyChecking=yes",
		"-o", "UserKnownHostsFile="+f.known,
		"-o", "GlobalKnownHostsFile=/dev/null",
		"-o", "IdentitiesOnly=yes",
		"-o", "IdentityAgent=none",
		"-i", f.sshd.ClientKeyPath,
		"-p", strconv.Itoa(f.sshd.Port()),
		"-l", f.sshd.User,
		f.sshd.Host())
	out, err := cmd.CombinedOutput() // -f: returns once authenticated
	if err != nil {
		t.Fatalf("ssh -M: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		exec.Command(sshPath, "-F", "/dev/null", "-S", sock, "-O", "exit", "x").Run()
	})
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(sock); err == nil {
			return sock
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("ssh -M made no socket at %s", sock)
	return ""
}

func TestDialOpenSSHMaster(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	sock := startOpenSSHMaster(t, f)

	unixTarget := tunneltest.EchoServer(t, "unix", filepath.Join(f.dir, "echo.sock"))

	// A Unix socket target is sent with port -2; masters before OpenSSH
	// 9.4 (commit 94842bfe9, "add support for unix domain sockets to ssh
	// -W") ask for a TCP connection to a host named like the path, which
	// the server refuses: a clean *OpenError.
	unixOK := opensshAtLeast(t, 9, 4)
	tests := []struct {
		network, addr string
		ok            bool
	}{
		{"tcp", f.target, true},
		{"unix", unixTarget, unixOK},
	}
	for _, tt := range tests {
		t.Run(tt.network, func(t *testing.T) {
			if !tt.ok {
				_, err := control.DialOpenSSH(testCtx(t), sock, tt.network, tt.addr)
				var oe *control.OpenError
				if !errors.As(err, &oe) {
					t.Fatalf("DialOpenSSH through an OpenSSH before 9.4: %v, want *control.OpenError", err)
				}
				return
			}
			for i := range 3 { // one control connection per stream
				conn, err := control.DialOpenSSH(testCtx(t), sock, tt.network, tt.addr)
				if err != nil {
					t.Fatalf("DialOpenSSH %d: %v", i, err)
				}
				roundTrip(t, conn, "through the OpenSSH master "+tt.network)
				conn.Close()
			}
		})
	}
	if got := logins(f); got != 1 {
		t.Errorf("sshd saw %d logins, want 1 (the OpenSSH master's)", got)
	}
}

// opensshAtLeast reports whether `ssh -V` is OpenSSH major.minor or later.
func opensshAtLeast(t *testing.T, major, minor int) bool {
	t.Helper()
	out, err := exec.Command("ssh", "-V").CombinedOutput()
	if err != nil {
		t.Fatalf("ssh -V: %v", err)
	}
	m := regexp.MustCompile(`OpenSSH_(\d+)\.(\d+)`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("ssh -V: no version in %q", out)
	}
	maj, _ := strconv.Atoi(m[1])
	mnr, _ := strconv.Atoi(m[2])
	t.Logf("%s", strings.TrimSpace(string(out)))
	return maj > major || maj == major && mnr >= minor
}

func TestDialOpenSSHErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	sock := startOpenSSHMaster(t, f)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()

	_, err = control.DialOpenSSH(testCtx(t), sock, "tcp", closed)
	var oe *control.OpenError
	if !errors.As(err, &oe) {
		t.Errorf("DialOpenSSH to a closed port: %v, want *control.OpenError", err)
	}

	// Our own master's socket does not speak the mux protocol: it hangs
	// up on the hello at once, so the answer is not the context's end.
	serveInProcess(t, f, control.MasterConfig{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = control.DialOpenSSH(ctx, f.path, "tcp", f.target)
	var ue *control.UnavailableError
	if !errors.As(err, &ue) || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("DialOpenSSH to an rpcssh master: %v, want *control.UnavailableError before the context ends", err)
	}

	_, err = control.DialOpenSSH(testCtx(t), filepath.Join(f.dir, "missing.sock"), "tcp", f.target)
	if !errors.As(err, &ue) {
		t.Errorf("DialOpenSSH to no socket: %v, want *control.UnavailableError", err)
	}
}
