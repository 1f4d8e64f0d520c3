//go:build unix

package tunnel_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/rpcssh/rpcssh/tunnel/tunneltest"
)

// TestRunRealSSHD runs commands through OpenSSH's sshd: streams, the exit
// status, and a context that ends a command that would run on.
func TestRunRealSSHD(t *testing.T) {
	t.Parallel()
	// A fresh account with an empty home: no login-shell start-up files
	// (root's ~/.bashrc ran pyenv, whose lock a session killed by the
	// context test below left behind, stalling every later root shell).
	acct := tunneltest.AddAccount(t)
	s := tunneltest.StartSSHD(t, tunneltest.SSHDConfig{Extra: acct.SSHDLines()})
	if err := acct.Authorize(s.ClientKey); err != nil {
		t.Fatal(err)
	}
	cfg := sshdClientConfig(t, s)
	cfg.User = acct.Name
	c := sshdDial(t, cfg)

	t.Run("streams and exit status", func(t *testing.T) {
		var out, errb bytes.Buffer
		err := c.Run(context.Background(), "cat; echo err >&2; exit 3", strings.NewReader("in\n"), &out, &errb)
		var exit *ssh.ExitError
		if !errors.As(err, &exit) || exit.ExitStatus() != 3 {
			t.Errorf("Run error = %v, want *ssh.ExitError with status 3", err)
		}
		if out.String() != "in\n" || errb.String() != "err\n" {
			t.Errorf("stdout, stderr = %q, %q; want %q, %q", out.String(), errb.String(), "in\n", "err\n")
		}
	})

	t.Run("success", func(t *testing.T) {
		var out bytes.Buffer
		if err := c.Run(context.Background(), "echo hi", nil, &out, nil); err != nil || out.String() != "hi\n" {
			t.Errorf("Run(echo hi) = %q, %v; want %q, nil", out.String(), err, "hi\n")
		}
	})

	t.Run("context ends the command", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := c.Run(ctx, "sleep 60", nil, nil, nil)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Run(sleep 60) error = %v, want context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 20*time.Second {
			t.Errorf("Run returned after %s, want soon after the deadline", d)
		}
	})
}
