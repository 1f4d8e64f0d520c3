package install_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/rpcssh/rpcssh/tunnel/install"
)

func TestCredentials(t *testing.T) {
	c := install.Credentials{Dir: filepath.Join(t.TempDir(), "rpcssh", "credentials")}
	keys := []string{
		install.CredentialKey("ubuntu", "ec2-1-2-3-4.compute.amazonaws.com:22"),
		install.CredentialKey("root", "[::1]:2222"),
		install.CredentialKey("ubuntu", "ec2-1-2-3-4.compute.amazonaws.com:2222"),
	}
	if _, err := c.Load(keys[0]); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load before Save error = %v, want fs.ErrNotExist", err)
	}
	for i, k := range keys {
		if err := c.Save(k, "secret"+string(rune('a'+i))); err != nil {
			t.Fatalf("Save(%q) error = %v", k, err)
		}
	}
	for i, k := range keys {
		got, err := c.Load(k)
		if want := "secret" + string(rune('a'+i)); got != want || err != nil {
			t.Errorf("Load(%q) = %q, %v; want %q", k, got, err, want)
		}
		if base := filepath.Base(c.Path(k)); strings.ContainsAny(base, "/:[]") {
			t.Errorf("Path(%q) = %q, want no / : [ ] in the file name", k, base)
		}
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(c.Path(keys[0]))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("credential file mode = %v, %v; want 0600", fi.Mode(), err)
		}
		if di, err := os.Stat(c.Dir); err != nil || di.Mode().Perm() != 0o700 {
			t.Errorf("credentials directory mode = %v, %v; want 0700", di.Mode(), err)
		}
		os.Chmod(c.Path(keys[1]), 0o644)
		if _, err := c.Load(keys[1]); err == nil || !strings.Contains(err.Error(), "readable by others") {
			t.Errorf("Load(0644 file) error = %v, want it refused as readable by others", err)
		}
	}
	if err := c.Save(keys[0], "two\nlines"); err == nil {
		t.Error("Save(two lines) succeeded, want an error")
	}
	if err := c.Delete(keys[0]); err != nil {
		t.Errorf("Delete error = %v", err)
	}
	if _, err := c.Load(keys[0]); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load after Delete error = %v, want fs.ErrNotExist", err)
	}
	if err := c.Delete(keys[0]); err != nil {
		t.Errorf("Delete of a missing credential error = %v, want nil", err)
	}
}
