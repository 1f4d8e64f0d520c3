//go:build linux || darwin

package control_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rpcssh/rpcssh/tunnel/control"
)

func TestMakeDirRefusesOpenDirectories(t *testing.T) {
	root := t.TempDir()
	tests := []struct {
		name    string
		setup   func(path string) error
		wantErr bool
	}{
		{"missing: created 0700", func(string) error { return nil }, false},
		{"existing 0700", func(p string) error { return os.Mkdir(p, 0o700) }, false},
		{"group readable", func(p string) error { os.Mkdir(p, 0o700); return os.Chmod(p, 0o750) }, true},
		{"world writable", func(p string) error { os.Mkdir(p, 0o700); return os.Chmod(p, 0o777) }, true},
		{"a file", func(p string) error { return os.WriteFile(p, nil, 0o600) }, true},
		{"a symlink to a private dir", func(p string) error {
			os.Mkdir(p+"-real", 0o700)
			return os.Symlink(p+"-real", p)
		}, true},
	}
	for i, tt := range tests {
		p := filepath.Join(root, string(rune('a'+i)))
		if err := tt.setup(p); err != nil {
			t.Fatalf("%s: setup: %v", tt.name, err)
		}
		err := control.MakeDir(p)
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: MakeDir = %v, want error %t", tt.name, err, tt.wantErr)
		}
		if err == nil {
			fi, _ := os.Stat(p)
			if fi.Mode().Perm() != 0o700 {
				t.Errorf("%s: mode %v, want 0700", tt.name, fi.Mode().Perm())
			}
		}
	}
}
