package tunnel_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rpcssh/rpcssh/tunnel"
)

// A destination's own options (an inventory's host variables) win over the
// Resolver's options and ssh_config; without them Resolve is unchanged.
func TestResolveHostOptionsWin(t *testing.T) {
	home := t.TempDir()
	writeTestKey(t, filepath.Join(home, ".ssh", "id_ed25519"))
	hostKey := filepath.Join(home, "host_key")
	writeTestKey(t, hostKey)
	config := filepath.Join(home, "config")
	if err := os.WriteFile(config, []byte("Host lab\n  HostName lab.example.com\n  User cfguser\n  Port 2200\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := tunnel.NewResolver(tunnel.ResolveOptions{
		Home: home, LocalUser: "local", ConfigFile: config, User: "flag", Port: 2400,
		Getenv:     func(string) string { return "" },
		LookupHost: func(context.Context, string) ([]string, error) { return []string{"127.0.0.1"}, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	tests := []struct {
		name     string
		h        tunnel.HostOptions
		wantAddr string
		wantUser string
		wantKey  string // a prefix of the first key offered
	}{
		{"none: the Resolver's options", tunnel.HostOptions{}, "lab.example.com:2400", "flag", filepath.Join(home, ".ssh", "id_ed25519")},
		{"user and port win", tunnel.HostOptions{User: "inv", Port: 2500}, "lab.example.com:2500", "inv", ""},
		{"-o lines win", tunnel.HostOptions{Options: []string{"User=opt", "Port 2600"}}, "lab.example.com:2600", "opt", ""},
		{"its key is offered first", tunnel.HostOptions{IdentityFiles: []string{hostKey}}, "lab.example.com:2400", "flag", hostKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := r.ResolveHost(context.Background(), "lab", tt.h)
			if err != nil {
				t.Fatal(err)
			}
			if res.Config.Addr != tt.wantAddr || res.Config.User != tt.wantUser {
				t.Errorf("got %s@%s, want %s@%s", res.Config.User, res.Config.Addr, tt.wantUser, tt.wantAddr)
			}
			if tt.wantKey != "" && (len(res.Keys) == 0 || !strings.HasPrefix(res.Keys[0], tt.wantKey)) {
				t.Errorf("keys offered %q, want %s first", res.Keys, tt.wantKey)
			}
		})
	}
	_, err = r.ResolveHost(context.Background(), "lab", tunnel.HostOptions{Options: []string{"NoSuchKeyword=1"}})
	var ce *tunnel.ConfigError
	if !errors.As(err, &ce) {
		t.Errorf("unknown keyword in host options: error %v, want *tunnel.ConfigError", err)
	}
	if _, err := r.ResolveHost(context.Background(), "lab", tunnel.HostOptions{Port: 70000}); err == nil {
		t.Error("port 70000 in host options: no error, want one")
	}
}

// With ShareKnownHosts every Config of a Resolver carries the same one
// reading of its known_hosts files; without it, none.
func TestResolverSharesKnownHosts(t *testing.T) {
	for _, share := range []bool{false, true} {
		home := t.TempDir()
		writeTestKey(t, filepath.Join(home, ".ssh", "id_ed25519"))
		r, err := tunnel.NewResolver(tunnel.ResolveOptions{
			Home: home, LocalUser: "local", ConfigFile: "none", ShareKnownHosts: share,
			KnownHostsFiles: []string{filepath.Join(home, "known_hosts")},
			Getenv:          func(string) string { return "" },
			LookupHost:      func(context.Context, string) ([]string, error) { return []string{"127.0.0.1"}, nil },
		})
		if err != nil {
			t.Fatal(err)
		}
		a, errA := r.Resolve(context.Background(), "a.example")
		b, errB := r.Resolve(context.Background(), "b.example")
		if errA != nil || errB != nil {
			t.Fatal(errA, errB)
		}
		got := a.Config.KnownHosts != nil && a.Config.KnownHosts == b.Config.KnownHosts
		if got != share {
			t.Errorf("ShareKnownHosts %v: one shared reading = %v, want %v", share, got, share)
		}
		r.Close()
	}
}
