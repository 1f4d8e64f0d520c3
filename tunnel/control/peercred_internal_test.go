//go:build linux || darwin

package control

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// checkPeer refuses a process of another user. Run as root, the test
// connects from a child running as nobody (65534) to a socket in a
// directory it may enter (a real master's directory would stop it first).
func TestCheckPeerRefusesOtherUsers(t *testing.T) {
	t.Parallel()
	if os.Getuid() != 0 {
		t.Skip("needs root to run a client as another user")
	}
	py := "/usr/bin/python3" // one another user may run (not a pyenv shim under /root)
	if _, err := os.Stat(py); err != nil {
		t.Skip(err)
	}
	dir, err := os.MkdirTemp("", "rcp")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	path := filepath.Join(dir, "s")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	os.Chmod(path, 0o777)

	connect := func(uid uint32) error {
		cmd := exec.Command(py, "-c", "import socket,sys,time; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); time.sleep(2)", path)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid}}
		if err := cmd.Start(); err != nil {
			return err
		}
		go cmd.Wait()
		l.SetDeadline(time.Now().Add(20 * time.Second))
		c, err := l.AcceptUnix()
		if err != nil {
			t.Fatalf("accept: %v", err)
		}
		defer c.Close()
		return checkPeer(c)
	}
	if err := connect(0); err != nil {
		t.Errorf("checkPeer(same user) = %v, want nil", err)
	}
	if err := connect(65534); err == nil || !strings.Contains(err.Error(), "uid 65534") {
		t.Errorf("checkPeer(uid 65534) = %v, want a refusal naming the uid", err)
	}
}
