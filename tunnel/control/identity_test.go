package control_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/rpcssh/rpcssh/tunnel"
	"github.com/rpcssh/rpcssh/tunnel/control"
)

func TestIdentityNamesTrust(t *testing.T) {
	base := tunnel.Config{Addr: "h.example:22", User: "u", KnownHostsFiles: []string{"/k/known_hosts"},
		Jump: []tunnel.Config{{Addr: "j:22", User: "ju", KnownHostsFiles: []string{"/k/known_hosts"}}}}
	baseID, err := control.IdentityOf(base)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		change func(*tunnel.Config)
		same   bool
	}{
		{"nothing", func(*tunnel.Config) {}, true},
		{"auth methods do not name the host", func(c *tunnel.Config) { c.Auth = []ssh.AuthMethod{ssh.Password("x")} }, true},
		{"keepalive does not either", func(c *tunnel.Config) { c.KeepaliveInterval = 1 }, true},
		{"user", func(c *tunnel.Config) { c.User = "v" }, false},
		{"host", func(c *tunnel.Config) { c.Addr = "other:22" }, false},
		{"port", func(c *tunnel.Config) { c.Addr = "h.example:2222" }, false},
		{"known_hosts file", func(c *tunnel.Config) { c.KnownHostsFiles = []string{"/k/other"} }, false},
		{"a second known_hosts file", func(c *tunnel.Config) { c.KnownHostsFiles = append(c.KnownHostsFiles, "/k/2") }, false},
		{"strictness", func(c *tunnel.Config) { c.AcceptNew = true }, false},
		{"host key algorithms", func(c *tunnel.Config) { c.HostKeyAlgorithms = []string{"ssh-ed25519"} }, false},
		{"no jump", func(c *tunnel.Config) { c.Jump = nil }, false},
		{"proxy command", func(c *tunnel.Config) { c.Jump = nil; c.ProxyCommand = "nc h.example 22" }, false},
		{"host key alias", func(c *tunnel.Config) { c.HostKeyAlias = "other" }, false},
		{"jump user", func(c *tunnel.Config) {
			c.Jump = []tunnel.Config{{Addr: "j:22", User: "x", KnownHostsFiles: c.KnownHostsFiles}}
		}, false},
		{"jump trust", func(c *tunnel.Config) {
			c.Jump = []tunnel.Config{{Addr: "j:22", User: "ju", KnownHostsFiles: []string{"/k/j"}}}
		}, false},
	}
	seen := map[string]string{}
	for _, tt := range tests {
		cfg := base
		cfg.Jump = append([]tunnel.Config(nil), base.Jump...)
		tt.change(&cfg)
		id, err := control.IdentityOf(cfg)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if same := id.Hash() == baseID.Hash(); same != tt.same {
			t.Errorf("%s: same hash = %t, want %t", tt.name, same, tt.same)
		}
		if !tt.same {
			if prev, ok := seen[id.Hash()]; ok {
				t.Errorf("%s and %s share a hash", tt.name, prev)
			}
			seen[id.Hash()] = tt.name
		}
	}
	p := control.SocketPath("/run/user/1000/rpcssh", baseID)
	if !strings.HasPrefix(p, "/run/user/1000/rpcssh/") || !strings.HasSuffix(p, ".sock") || len(filepath.Base(p)) != 37 {
		t.Errorf("SocketPath = %q, want dir/<32 hex>.sock", p)
	}
}

func TestIdentityRefusesCallbackTrust(t *testing.T) {
	cfg := tunnel.Config{Addr: "h:22", HostKeyCallback: ssh.InsecureIgnoreHostKey()}
	if _, err := control.IdentityOf(cfg); !errors.Is(err, control.ErrNoIdentity) {
		t.Errorf("IdentityOf with a callback: %v, want ErrNoIdentity", err)
	}
	cfg = tunnel.Config{Addr: "h:22", KnownHostsFiles: []string{"/k"}, Jump: []tunnel.Config{{Addr: "j:22", HostKeyCallback: ssh.InsecureIgnoreHostKey()}}}
	if _, err := control.IdentityOf(cfg); !errors.Is(err, control.ErrNoIdentity) {
		t.Errorf("IdentityOf with a callback on a hop: %v, want ErrNoIdentity", err)
	}
}
