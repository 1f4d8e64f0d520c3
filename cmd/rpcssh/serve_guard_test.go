//go:build unix

package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startServeAs runs `rpcssh serve --port 0` like startServe, with extra
// descriptors (fd 3 and up) inherited from the test, and as another user
// when cred is not nil.
func startServeAs(t *testing.T, bin string, cred *syscall.Credential, extra []*os.File, env []string, args ...string) (*relProc, string) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--port", "0"}, args...)...)
	cmd.ExtraFiles = extra
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	p := startRelCmd(t, cmd, env)
	return p, p.stderr.wait(t, serveAddrRE, 20*time.Second)[1]
}

// callProgram calls a program method without params and returns its stdout.
func callProgram(t *testing.T, addr, pw, method string) string {
	t.Helper()
	var res map[string]any
	if err := relClient(t, addr, pw).Call(relCtx(t, 30*time.Second), method, nil, &res); err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	out, _ := res["stdout"].(string)
	return out
}

// writeMethods writes a methods file into dir (mode 0644, so another user
// can read it) and returns its path.
func writeMethods(t *testing.T, dir, toml string) string {
	t.Helper()
	path := filepath.Join(dir, "methods.toml")
	if err := os.WriteFile(path, []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestServeInheritedDescriptorsNotPassedToPrograms opens a file holding a
// secret in the test, hands it to serve as descriptor 3 (not close-on-exec,
// as a shell's `3<secret` does), and has a method program read fd 3.
func TestServeInheritedDescriptorsNotPassedToPrograms(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("inherited-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(secret)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	methods := writeMethods(t, dir, `[[method]]
name = "fd3"
argv = ["/bin/sh", "-c", "if read line <&3; then echo \"leaked: $line\"; else echo closed; fi"]
`)
	const pw = "fd-test"
	_, addr := startServeAs(t, relBinary(t), nil, []*os.File{f}, []string{"RPCSSH_PASSWORD=" + pw},
		"--methods", methods, "--state-dir", filepath.Join(dir, "state"))
	if got := callProgram(t, addr, pw, "fd3"); got != "closed\n" {
		t.Errorf("a program reading fd 3 printed %q, want %q", got, "closed\n")
	}
}

// peekScript is a method program that looks for serve's password by every
// way a program running as serve's user has: its own environment (the
// methods file lists RPCSSH_PASSWORD in env), /proc/$PPID/environ, and
// serve's whole readable memory through /proc/$PPID/mem.
const peekScript = `import os, re
ppid = os.getppid()
pat = re.compile(rb"guard-secret-[0-9a-f]{16}")
print("own:", os.environ.get("RPCSSH_PASSWORD", "<unset>"))
try:
    m = pat.search(open("/proc/%d/environ" % ppid, "rb").read())
    print("environ:", m.group().decode() if m else "<absent>")
except OSError as e:
    print("environ: <denied>", e.strerror)
try:
    mem = open("/proc/%d/mem" % ppid, "rb")
    found = "<absent>"
    for line in open("/proc/%d/maps" % ppid):
        addr, perms = line.split()[:2]
        if not perms.startswith("r"):
            continue
        lo, hi = (int(x, 16) for x in addr.split("-"))
        try:
            mem.seek(lo)
            m = pat.search(mem.read(hi - lo))
        except (OSError, OverflowError, ValueError):
            continue
        if m:
            found = m.group().decode()
            break
    print("mem:", found)
except OSError as e:
    print("mem: <denied>", e.strerror)
`

// TestServePasswordHiddenFromPrograms runs serve with its password in
// RPCSSH_PASSWORD and a method program that looks for it in its own
// environment, /proc/$PPID/environ and /proc/$PPID/mem. The threat is a
// program running as serve's user; root can read any process's memory
// (CAP_SYS_PTRACE), so when the test runs as root, serve (and so the
// program) runs as nobody, and root's view of /proc/PID/environ is checked
// separately: the password's bytes are wiped from it.
func TestServePasswordHiddenFromPrograms(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("/proc/PID/environ and PR_SET_DUMPABLE are Linux")
	}
	const python = "/usr/bin/python3" // a path any user can run (pyenv's may be under /root)
	if _, err := os.Stat(python); err != nil {
		t.Skipf("no %s: %v", python, err)
	}
	var cred *syscall.Credential
	var uid int
	if os.Geteuid() == 0 {
		u, err := user.Lookup("nobody")
		if err != nil {
			t.Skipf("running as root and no user nobody to run serve as: %v", err)
		}
		id, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(id), Gid: uint32(gid)}
		uid = id
	}
	// Everything serve needs must be reachable by its user.
	dir := t.TempDir()
	for d := dir; d != filepath.Dir(os.TempDir()) && d != "/"; d = filepath.Dir(d) {
		if fi, err := os.Stat(d); err == nil && fi.Mode()&0o005 != 0o005 {
			if err := os.Chmod(d, fi.Mode().Perm()|0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	bin := filepath.Join(dir, "rpcssh")
	data, err := os.ReadFile(relBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state")
	if err := os.Mkdir(state, 0o700); err != nil {
		t.Fatal(err)
	}
	if cred != nil {
		if err := os.Chown(state, uid, int(cred.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	script := filepath.Join(dir, "peek.py")
	if err := os.WriteFile(script, []byte(peekScript), 0o644); err != nil {
		t.Fatal(err)
	}
	methods := writeMethods(t, dir, fmt.Sprintf(`[[method]]
name = "peek"
argv = [%q, %q]
env = ["RPCSSH_PASSWORD"]
`, python, script))
	b := make([]byte, 8)
	rand.Read(b)
	pw := "guard-secret-" + hex.EncodeToString(b)

	srv, addr := startServeAs(t, bin, cred, nil, []string{"RPCSSH_PASSWORD=" + pw},
		"--methods", methods, "--state-dir", state)
	out := callProgram(t, addr, pw, "peek")
	t.Logf("the program found:\n%s", out)
	for _, want := range []string{"own: <unset>\n", "environ: <denied>", "mem: <denied>"} {
		if !strings.Contains(out, want) {
			t.Errorf("program output lacks %q", want)
		}
	}
	if strings.Contains(out, pw) {
		t.Errorf("a program read serve's password")
	}
	if os.Geteuid() == 0 {
		environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", srv.cmd.Process.Pid))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(environ), pw) {
			t.Errorf("/proc/%d/environ, read as root, holds the password", srv.cmd.Process.Pid)
		}
	}
}
