//go:build unix

package tunnel

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"
)

// The ProxyCommand is a child process: this program's secrets in
// RPCSSH_* variables must not reach it.
func TestProxyCommandEnvHasNoSecrets(t *testing.T) {
	t.Setenv("RPCSSH_PASSWORD", "s3cret-pw")
	t.Setenv("RPCSSH_PASSPHRASE", "s3cret-pp")
	t.Setenv("OTHER_VAR", "kept")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := dialProxyCommand(ctx, "env", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	out, _ := io.ReadAll(conn)
	if bytes.Contains(out, []byte("s3cret")) {
		t.Errorf("the proxy command saw a secret:\n%s", out)
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
