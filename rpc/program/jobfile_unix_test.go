//go:build unix

package program_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/rpcssh/rpcssh/rpc"
	"github.com/rpcssh/rpcssh/rpc/program"
)

// helloMethod is an async method whose job prints hello.
const helloMethod = `
[[method]]
name = "hello"
async = true
argv = ["echo", "hello"]
env = ["PATH"]
`

func TestJobFilesRefuseSymlinks(t *testing.T) {
	t.Parallel()
	s := startHost(t, helloMethod, "")
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("the secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		plant func(path string) error
		want  string
	}{
		{"symlink", func(p string) error { return os.Symlink(secret, p) }, "symbolic link"},
		{"fifo", func(p string) error { return os.Symlink(fifo, p) }, "symbolic link"},
		{"hard link", func(p string) error { return os.Link(secret, p) }, ""}, // same owner, regular: allowed
		{"another user's file", func(p string) error {
			if err := os.WriteFile(p, []byte("theirs\n"), 0o644); err != nil {
				return err
			}
			return os.Chown(p, 65534, 65534)
		}, "owned by uid 65534"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "another user's file" && os.Geteuid() != 0 {
				t.Skip("needs root to give a file away")
			}
			id := s.mustCall(t, "hello").(string)
			if st := result(t, s.mustCall(t, "jobs.wait", id, 15)); st["state"] != program.StateExited {
				t.Fatalf("status = %v", st)
			}
			out := filepath.Join(s.state, "jobs", id, "output")
			if err := os.Remove(out); err != nil {
				t.Fatal(err)
			}
			if err := tt.plant(out); err != nil {
				t.Fatal(err)
			}
			r, err := s.call(t, "jobs.output", id, 0)
			if tt.want == "" {
				if err != nil {
					t.Errorf("jobs.output of a regular file: %v", err)
				}
				return
			}
			if faultCode(err) != rpc.CodeApplication || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("jobs.output through a planted %s = %v, %v; want a fault saying %q", tt.name, r, err, tt.want)
			}
		})
	}
}

func TestPlantedMetaSymlinkIsSkipped(t *testing.T) {
	t.Parallel()
	s := startHost(t, helloMethod, "")
	id := s.mustCall(t, "hello").(string)
	s.mustCall(t, "jobs.wait", id, 15)
	s.host.Close()
	meta := filepath.Join(s.state, "jobs", id, "meta.json")
	elsewhere := filepath.Join(t.TempDir(), "meta.json")
	if err := os.Rename(meta, elsewhere); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, meta); err != nil {
		t.Fatal(err)
	}
	s2 := startHostFile(t, mustLoad(t, filepath.Join(s.dir, "methods.toml")), s.state)
	if _, err := s2.call(t, "jobs.status", id); faultCode(err) != rpc.CodeInvalidParams {
		t.Errorf("job whose meta.json is a symlink: status error = %v, want it skipped (no such job)", err)
	}
}
