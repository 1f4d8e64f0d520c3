package tunnel_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/rpcssh/rpcssh/tunnel"
	"github.com/rpcssh/rpcssh/tunnel/tunneltest"
)

// TestDialSharedKnownHosts: a KnownHosts set is read once and verifies
// many dials: they still succeed after the file is gone (it is not read
// again), an unknown host is still *UnknownHostError naming the files, and
// a changed key still *HostKeyChangedError.
func TestDialSharedKnownHosts(t *testing.T) {
	good := newInProc(t, tunneltest.Config{})
	other := newInProc(t, tunneltest.Config{})
	changed := newInProc(t, tunneltest.Config{})
	kh := filepath.Join(t.TempDir(), "known_hosts")
	writeFile(t, kh, good.srv.KnownHostsLine()+"\n"+
		knownhosts.Normalize(changed.srv.Addr())+" "+authorizedKey(genSigner(t).PublicKey())+"\n")
	set, err := tunnel.ReadKnownHosts(kh)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(kh); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		cfg := good.config()
		cfg.KnownHostsFiles, cfg.KnownHosts = nil, set
		c, err := tunnel.Dial(testCtx(t), cfg)
		if err != nil {
			t.Fatalf("dial %d with the shared set: %v", i, err)
		}
		c.Close()
	}
	cfg := other.config() // its own KnownHostsFiles know it: the set must win
	cfg.KnownHosts = set
	var unknown *tunnel.UnknownHostError
	if _, err := tunnel.Dial(testCtx(t), cfg); !errors.As(err, &unknown) || len(unknown.Files) != 1 || unknown.Files[0] != kh {
		t.Errorf("dial unknown host error = %v, want *UnknownHostError naming %s", err, kh)
	}
	cfg = changed.config()
	cfg.KnownHosts = set
	var ch *tunnel.HostKeyChangedError
	if _, err := tunnel.Dial(testCtx(t), cfg); !errors.As(err, &ch) || ch.Line != 2 {
		t.Errorf("dial changed host error = %v, want *HostKeyChangedError at line 2", err)
	}
	if _, err := tunnel.ReadKnownHosts(); !errors.Is(err, tunnel.ErrNoHostKeyCheck) {
		t.Errorf("ReadKnownHosts() error = %v, want ErrNoHostKeyCheck", err)
	}
}
