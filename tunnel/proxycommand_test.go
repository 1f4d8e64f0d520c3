//go:build unix

package tunnel

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// The ProxyCommand is a child process: this program's secrets in
// RPCSSH_* variables must not reach it.
func TestProxyCommandEnvHasNoSecrets(t *testing.T) {
	t.Setenv("RPCSSH_PASSWORD", "s3cret-pw")
	t.Setenv("RPCSSH_PASSPHRASE", "s3cret-pp")
	t.Setenv("OTHER_VAR", "kept")
	// More output than a pipe holds, so the command exits with output
	// still unread (which exec's StdoutPipe would throw away).
	big := strings.Repeat("x", 100<<10) // under the kernel's 128 KiB bound for one variable
	t.Setenv("BIG_VAR", big)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := dialProxyCommand(ctx, "env", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Read slowly: the command exits while the pipe still holds its last
	// 64 KiB, which must still reach us.
	var out []byte
	buf := make([]byte, 4096)
	for {
		n, err := conn.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if bytes.Contains(out, []byte("s3cret")) {
		t.Errorf("the proxy command saw a secret:\n%s", out)
	}
	if !bytes.Contains(out, []byte("BIG_VAR="+big)) {
		t.Errorf("the proxy command's output was cut: read %d bytes, want BIG_VAR's %d whole", len(out), len(big))
	}
	if !bytes.Contains(out, []byte("OTHER_VAR=kept")) {
		t.Errorf("the proxy command lost the rest of the environment:\n%s", out)
	}
}

func TestExpandProxyCommand(t *testing.T) {
	got := expandProxyCommand("x %h %p %r %n %% %z", "host", "22", "me", "Alias")
	if want := "x host 22 me Alias % %z"; got != want {
		t.Errorf("expandProxyCommand = %q, want %q", got, want)
	}
}
