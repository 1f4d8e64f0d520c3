package tunnel_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rpcssh/rpcssh/tunnel"
	"github.com/rpcssh/rpcssh/tunnel/tunneltest"
)

// TestResolveControlSettings: ControlMaster, ControlPath and
// ControlPersist reach Resolved.Control, -o first as ssh takes it.
func TestResolveControlSettings(t *testing.T) {
	tests := []struct {
		name    string
		config  string
		options []string
		want    tunnel.ControlSettings
	}{
		{name: "unset", config: "Host h\n  User u\n"},
		{name: "all three", config: "Host h\n  ControlMaster auto\n  ControlPath /s/%h-%p-%r\n  ControlPersist 2m\n",
			want: tunnel.ControlSettings{Master: "auto", Path: "/s/h-22-me", Persist: 2 * time.Minute, PersistSet: true}},
		{name: "option wins", config: "Host h\n  ControlMaster auto\n  ControlPath /s/%h\n", options: []string{"ControlMaster=no", "ControlPath none", "ControlPersist=yes"},
			want: tunnel.ControlSettings{Master: "no", Path: "none", Persist: -1, PersistSet: true}},
		{name: "persist zero is forever", config: "ControlPersist 0\nControlMaster true\n",
			want: tunnel.ControlSettings{Master: "yes", Persist: -1, PersistSet: true}},
		{name: "persist no", config: "ControlPersist no\n", want: tunnel.ControlSettings{PersistSet: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := filepath.Join(dir, "config")
			if err := os.WriteFile(cfg, []byte(tt.config), 0o600); err != nil {
				t.Fatal(err)
			}
			res, err := tunnel.Resolve(context.Background(), "h", tunnel.ResolveOptions{
				ConfigFile: cfg, Home: dir, LocalUser: "me", Options: tt.options, DeferKeys: true,
				LookupHost: func(context.Context, string) ([]string, error) { return []string{"127.0.0.1"}, nil },
			})
			if err != nil {
				t.Fatal(err)
			}
			defer res.Close()
			if res.Control != tt.want {
				t.Errorf("Control = %+v, want %+v", res.Control, tt.want)
			}
		})
	}
}

// TestResolveDeferKeys: with DeferKeys, Resolve reads no key and asks for
// no passphrase; LoadKeys (or Dial) does, once, and a failure stays.
func TestResolveDeferKeys(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "id_ed25519")
	if _, err := tunneltest.GenerateKey(key, "ed25519", "secret"); err != nil { // few KDF rounds: quick under -race
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name       string
		defer_     bool
		passphrase string
		wantAsked  int // before LoadKeys
	}{
		{name: "eager", defer_: false, passphrase: "secret", wantAsked: 1},
		{name: "deferred", defer_: true, passphrase: "secret", wantAsked: 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			asked := 0
			res, err := tunnel.Resolve(context.Background(), "127.0.0.1", tunnel.ResolveOptions{
				ConfigFile: "none", Home: dir, LocalUser: "me", IdentityFiles: []string{key}, DeferKeys: tt.defer_,
				Getenv: func(string) string { return "" },
				Passphrase: func(string) ([]byte, error) {
					asked++
					return []byte(tt.passphrase), nil
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			defer res.Close()
			if asked != tt.wantAsked {
				t.Errorf("passphrase asked %d times by Resolve, want %d", asked, tt.wantAsked)
			}
			if tt.defer_ && (res.Config.Auth != nil || len(res.Keys) != 0) {
				t.Errorf("deferred Resolve loaded keys: %d auth methods, keys %q", len(res.Config.Auth), res.Keys)
			}
			for range 2 {
				if err := res.LoadKeys(); err != nil {
					t.Fatal(err)
				}
			}
			if asked != 1 || len(res.Config.Auth) == 0 || len(res.Keys) != 1 {
				t.Errorf("after LoadKeys: asked %d, %d auth methods, keys %q; want 1, some, one key", asked, len(res.Config.Auth), res.Keys)
			}
		})
	}
	t.Run("failure stays", func(t *testing.T) {
		res, err := tunnel.Resolve(context.Background(), "127.0.0.1", tunnel.ResolveOptions{
			ConfigFile: "none", Home: t.TempDir(), LocalUser: "me", DeferKeys: true, Getenv: func(string) string { return "" },
		})
		if err != nil {
			t.Fatal(err)
		}
		defer res.Close()
		for i := range 2 {
			if err := res.LoadKeys(); err == nil {
				t.Fatalf("LoadKeys #%d with no key: nil error, want ErrNoKey", i+1)
			}
		}
	})
}
