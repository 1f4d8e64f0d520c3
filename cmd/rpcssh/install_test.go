package main

import (
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rpcssh/rpcssh/tunnel/tunneltest"
)

// TestInstallThenCall is the promise end to end with the real
// binary: a real sshd, a fresh non-root account with an empty home and
// no Go; `rpcssh install` then `rpcssh call` prints HI with no password
// in the laptop's environment; status, a no-op re-install, uninstall.
func TestInstallThenCall(t *testing.T) {
	t.Parallel()
	acct := tunneltest.AddAccount(t)
	sshd := tunneltest.StartSSHD(t, tunneltest.SSHDConfig{Extra: acct.SSHDLines()})
	if err := acct.Authorize(sshd.ClientKey); err != nil {
		t.Fatal(err)
	}
	bin := testBinary(t)
	laptop := t.TempDir()
	known := filepath.Join(laptop, "known_hosts")
	if err := sshd.WriteKnownHosts(known, false); err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(freeTCPPort(t))
	dest := acct.Name + "@" + sshd.Addr()
	ssh := []string{"--key", sshd.ClientKeyPath, "--known-hosts", known}
	var extraEnv []string
	run := func(args ...string) (string, string, error) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		// The laptop: no RPCSSH_PASSWORD, no agent.
		cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + laptop, "XDG_CONFIG_HOME=" + filepath.Join(laptop, ".config")}, extraEnv...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		return out.String(), errb.String(), err
	}
	home := acct.Home
	empty := tunneltest.Tree(t, home)

	plan, stderr, err := run(append(append([]string{"install", "--dry-run", "--port", port}, ssh...), dest)...)
	if err != nil {
		t.Fatalf("install --dry-run: %v\n%s", err, stderr)
	}
	for _, want := range []string{"probe:", "upload: copying", "cat > ", "sha256sum", "secret:", "/dev/urandom", "service: starting serve detached", "setsid", "check:"} {
		if !strings.Contains(plan, want) {
			t.Errorf("install --dry-run plan lacks %q:\n%s", want, plan)
		}
	}
	if got := tunneltest.Tree(t, home); !slices.Equal(got, empty) {
		t.Errorf("home after --dry-run = %v, want untouched", got)
	}

	start := time.Now()
	_, stderr, err = run(append(append([]string{"install", "--port", port}, ssh...), dest)...)
	if err != nil {
		t.Fatalf("install: %v\n%s", err, stderr)
	}
	t.Logf("first install (rpcssh install, process wall time): %s\n%s", time.Since(start), stderr)
	for _, want := range []string{"rpcssh: upload: copying", "rpcssh: verify:", "rpcssh: warning: serve runs detached", "rpcssh: installed rpcssh"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("install stderr lacks %q:\n%s", want, stderr)
		}
	}
	creds, err := os.ReadDir(filepath.Join(laptop, ".config/rpcssh/credentials"))
	if err != nil || len(creds) != 1 {
		t.Fatalf("stored credentials = %v, %v; want one file", creds, err)
	}
	if fi, _ := creds[0].Info(); fi.Mode().Perm() != 0o600 {
		t.Errorf("credential file mode %v, want 0600", fi.Mode())
	}

	out, stderr, err := run(append(append([]string{"call", "--host", dest, "--port", port}, ssh...), "echo", "hi")...)
	if err != nil || out != "HI\n" {
		t.Fatalf("call echo hi after install = %q, %v\n%s; want HI", out, err, stderr)
	}

	// The stored password comes last: RPCSSH_PASSWORD overrides it.
	extraEnv = []string{"RPCSSH_PASSWORD=wrong"}
	_, stderr, err = run(append(append([]string{"call", "--host", dest, "--port", port}, ssh...), "echo", "hi")...)
	extraEnv = nil
	if err == nil || !strings.Contains(stderr, "401") {
		t.Errorf("call with RPCSSH_PASSWORD=wrong after install: %v\n%s; want 401: the environment wins over the stored password", err, stderr)
	}

	out, stderr, err = run(append(append([]string{"status"}, ssh...), dest)...)
	if err != nil {
		t.Fatalf("status: %v\n%s", err, stderr)
	}
	for _, want := range []string{"client:  rpcssh", "runs:    detached (active", "server:  rpcssh", "methods: none", "jobs:    0 running"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}

	start = time.Now()
	_, stderr, err = run(append(append([]string{"install", "--port", port}, ssh...), dest)...)
	if err != nil {
		t.Fatalf("install again: %v\n%s", err, stderr)
	}
	t.Logf("no-op re-install (rpcssh install, process wall time): %s\n%s", time.Since(start), stderr)
	for _, want := range []string{"already on the host: copying nothing", "nothing to restart", "nothing copied"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("re-install stderr lacks %q:\n%s", want, stderr)
		}
	}

	// As after a reboot: the detached serve is gone. status says so, and
	// install again starts it without copying anything.
	pidText, err := os.ReadFile(filepath.Join(home, ".local/lib/rpcssh/serve.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(pidText)))
	if p, err := os.FindProcess(pid); err != nil || pid == 0 || p.Kill() != nil {
		t.Fatalf("kill serve (pid file %q): %v", pidText, err)
	}
	for i := 0; slices.Contains(acct.Pids(), pid) && i < 100; i++ {
		time.Sleep(100 * time.Millisecond)
	}
	out, stderr, err = run(append(append([]string{"status"}, ssh...), dest)...)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitError || !strings.Contains(out, "inactive") || !strings.Contains(stderr, "serve is not running: 'rpcssh install") {
		t.Errorf("status with serve killed: %v\n%s%s; want exit 1, inactive, and the hint to install again", err, out, stderr)
	}
	_, stderr, err = run(append(append([]string{"install", "--port", port}, ssh...), dest)...)
	if err != nil || !strings.Contains(stderr, "copying nothing") || !strings.Contains(stderr, "service: starting serve detached") {
		t.Fatalf("install after serve died: %v\n%s; want serve started again, nothing copied", err, stderr)
	}
	out, stderr, err = run(append(append([]string{"call", "--host", dest, "--port", port}, ssh...), "echo", "hi")...)
	if err != nil || out != "HI\n" {
		t.Fatalf("call after the restart = %q, %v\n%s; want HI", out, err, stderr)
	}

	before := tunneltest.Tree(t, home)
	plan, stderr, err = run(append(append([]string{"install", "--uninstall", "--dry-run"}, ssh...), dest)...)
	if err != nil || !strings.Contains(plan, "stop: stopping serve") || !strings.Contains(plan, "remove: removing") || !strings.Contains(plan, "keeping the job state") {
		t.Errorf("install --uninstall --dry-run: %v\n%s%s; want the stop and remove steps", err, plan, stderr)
	}
	if got := tunneltest.Tree(t, home); !slices.Equal(got, before) {
		t.Errorf("home after --uninstall --dry-run changed: %v, want %v", got, before)
	}

	_, stderr, err = run(append(append([]string{"install", "--uninstall"}, ssh...), dest)...)
	if err != nil {
		t.Fatalf("install --uninstall: %v\n%s", err, stderr)
	}
	if got := tunneltest.Tree(t, home); !slices.Equal(got, empty) {
		t.Errorf("home after uninstall = %v, want as before %v", got, empty)
	}
	if creds, _ := os.ReadDir(filepath.Join(laptop, ".config/rpcssh/credentials")); len(creds) != 0 {
		t.Errorf("stored credentials after uninstall = %v, want none", creds)
	}
	_, _, err = run(append(append([]string{"call", "--host", dest, "--port", port}, ssh...), "echo", "hi")...)
	if !errors.As(err, &exit) || exit.ExitCode() != exitError {
		t.Errorf("call after uninstall: %v, want exit %d", err, exitError)
	}
}

func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
