package install_test

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rpcssh/rpcssh/tunnel/install"
	"github.com/rpcssh/rpcssh/tunnel/tunneltest"
)

// TestInstallRealSSHD runs the whole life of an install against a real
// sshd, as a fresh non-root account whose PATH has no Go: plan, install,
// no-op re-install, a corrupted upload, a failed start, an upgrade, and
// uninstall. The steps share the account and depend on each other.
func TestInstallRealSSHD(t *testing.T) {
	t.Parallel() // its own account, sshd, ports and builds
	r := newRig(t)
	binA := buildRPCSSH(t)
	binB := variant(t, binA, "B")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c := r.dial(t)
	port := freePort(t)
	home := r.acct.Home
	empty := tunneltest.Tree(t, home)
	opts := install.Options{Self: binA, Port: port}

	var out strings.Builder
	if err := c.Run(ctx, "command -v go || echo no-go", nil, &out, nil); err != nil || strings.TrimSpace(out.String()) != "no-go" {
		t.Fatalf("the account's PATH has go (%q, %v); the test needs a host without it", out.String(), err)
	}

	t.Run("dry run changes nothing", func(t *testing.T) {
		o := opts
		o.DryRun = true
		res, err := install.Install(ctx, c, o)
		if err != nil {
			t.Fatalf("Install(DryRun) error = %v", err)
		}
		var names []string
		for _, s := range res.Plan {
			names = append(names, s.Name)
		}
		want := []string{"probe", "binary", "upload", "verify", "secret", "link", "service", "check", "record"}
		if !slices.Equal(names, want) {
			t.Errorf("plan = %v, want %v", names, want)
		}
		if got := tunneltest.Tree(t, home); !slices.Equal(got, empty) {
			t.Errorf("home after --dry-run = %v, want it untouched %v", got, empty)
		}
		if res.Mode != install.ModeDetached {
			t.Errorf("mode = %q, want detached (no systemd user manager here)", res.Mode)
		}
	})

	t.Run("errors name the step and quote the host", func(t *testing.T) {
		// A ~/.local the account may not write to, as root left it.
		local := filepath.Join(home, ".local")
		if err := os.Mkdir(local, 0o755); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(local)
		_, err := install.Install(ctx, c, opts)
		var se *install.StepError
		if !errors.As(err, &se) || se.Step != "upload" || !strings.Contains(se.Msg, "Permission denied") {
			t.Fatalf("Install(read-only ~/.local) error = %v, want an upload step error quoting the host's Permission denied", err)
		}
	})

	var first install.Result
	t.Run("first install serves", func(t *testing.T) {
		start := time.Now()
		o := opts
		o.Progress = func(s install.Step) { t.Logf("%6s %s", time.Since(start).Round(time.Millisecond), s.Name) }
		res, err := install.Install(ctx, c, o)
		if err != nil {
			t.Fatalf("Install error = %v", err)
		}
		t.Logf("first install: %s", time.Since(start))
		first = res
		if !res.Copied || !res.Restarted {
			t.Errorf("Copied, Restarted = %v, %v; want true, true", res.Copied, res.Restarted)
		}
		if dir := filepath.Base(filepath.Dir(res.Server.Executable)); dir != res.Binary.ID {
			t.Errorf("serve runs %s, want a binary in %s", res.Server.Executable, res.Binary.ID)
		}
		fi, err := os.Stat(filepath.Join(home, ".config/rpcssh/password"))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("password file: %v, mode %v; want 0600", err, fi.Mode())
		}
		if len(res.Password) != 64 {
			t.Errorf("password has %d characters, want 64 hex digits", len(res.Password))
		}
		if !slices.ContainsFunc(res.Notes, func(n string) bool { return strings.Contains(n, "not a reboot") }) {
			t.Errorf("notes = %q, want the detached serve's reboot warning", res.Notes)
		}
	})
	if t.Failed() {
		t.FailNow()
	}

	outer := t
	t.Run("serve outlives the session that started it", func(t *testing.T) {
		c.Close()
		c = r.dial(outer)
		info, err := install.QueryServer(ctx, c, port, first.Password)
		if err != nil || info.PID != first.Server.PID {
			t.Errorf("after the session closed: pid %d, %v; want pid %d answering", info.PID, err, first.Server.PID)
		}
	})

	t.Run("same version again copies nothing", func(t *testing.T) {
		start := time.Now()
		res, err := install.Install(ctx, c, opts)
		if err != nil {
			t.Fatalf("Install error = %v", err)
		}
		t.Logf("no-op re-install: %s", time.Since(start))
		if res.Copied || res.Restarted || res.Server.PID != first.Server.PID {
			t.Errorf("Copied %v, Restarted %v, pid %d; want nothing copied or restarted, pid %d", res.Copied, res.Restarted, res.Server.PID, first.Server.PID)
		}
		if res.Password != first.Password {
			t.Error("the re-install changed the password")
		}
	})

	t.Run("unit files pass systemd-analyze verify", func(t *testing.T) {
		sa, err := exec.LookPath("systemd-analyze")
		if err != nil {
			t.Skip("skipping: no systemd-analyze")
		}
		l := first.Host.Layout
		for _, u := range []struct {
			name string
			text string
			args []string
		}{
			{"user", install.UserUnit(l, port, true), []string{"--user", "verify"}},
			{"system", install.SystemUnit(l, port, true), []string{"verify"}},
		} {
			dir := t.TempDir()
			p := filepath.Join(dir, "rpcssh.service")
			if err := os.WriteFile(p, []byte(u.text), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(sa, append(u.args, p)...)
			cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+dir)
			if out, err := cmd.CombinedOutput(); err != nil || len(strings.TrimSpace(string(out))) > 0 {
				t.Errorf("systemd-analyze %v: %v\n%s\nunit:\n%s", u.args, err, out, u.text)
			}
		}
	})

	t.Run("corrupted upload is refused and the old version keeps serving", func(t *testing.T) {
		o := opts
		o.Binary = binB
		_, err := install.Install(ctx, corrupting{c}, o)
		var se *install.StepError
		if !errors.Is(err, install.ErrChecksum) || !errors.As(err, &se) || se.Step != "verify" {
			t.Fatalf("Install(corrupted) error = %v, want a verify step error matching ErrChecksum", err)
		}
		info, err := install.QueryServer(ctx, c, port, first.Password)
		if err != nil || info.PID != first.Server.PID {
			t.Errorf("after the refused upload: pid %d, %v; want the old serve (pid %d)", info.PID, err, first.Server.PID)
		}
		if got := versionDirs(t, home); !slices.Equal(got, []string{first.Binary.ID}) {
			t.Errorf("version directories = %v, want only %s", got, first.Binary.ID)
		}
	})

	local := t.TempDir()
	goodMethods := filepath.Join(local, "good.toml")
	if err := os.WriteFile(goodMethods, []byte("[[method]]\nname = \"greet\"\nargv = [\"/bin/echo\", \"hello {who}\"]\n\n[[method.param]]\nname = \"who\"\ntype = \"string\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Run("a failed start rolls back", func(t *testing.T) {
		busy, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer busy.Close()
		o := opts
		o.Binary, o.Methods = binB, goodMethods
		o.Port = busy.Addr().(*net.TCPAddr).Port
		o.StartTimeout = 5 * time.Second
		_, err = install.Install(ctx, c, o)
		var se *install.StepError
		if !errors.As(err, &se) || se.Step != "start" || !strings.Contains(err.Error(), "address already in use") || !strings.Contains(err.Error(), "put back") {
			t.Fatalf("Install(busy port) error = %v, want a start error quoting serve's log and the rollback", err)
		}
		// The serve exited at once: that is seen, not waited out.
		if !strings.Contains(err.Error(), "exited before it answered") || strings.Contains(err.Error(), "did not answer within") {
			t.Errorf("Install(busy port) error = %v, want it to say the serve exited, not that it timed out", err)
		}
		info, err := install.QueryServer(ctx, c, port, first.Password)
		if err != nil || filepath.Base(filepath.Dir(info.Executable)) != first.Binary.ID {
			t.Errorf("after the rollback: %s, %v; want the old version answering on its port", info.Executable, err)
		}
		if got := versionDirs(t, home); !slices.Equal(got, []string{first.Binary.ID}) {
			t.Errorf("version directories = %v, want only %s", got, first.Binary.ID)
		}
		if info.MethodsFile != "" {
			t.Errorf("after the rollback serve has methods file %q, want none as before", info.MethodsFile)
		}
		if _, err := os.Stat(filepath.Join(home, ".config/rpcssh/methods.toml")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("methods.toml after the rollback: %v, want none as before (install error: %v)", err, se)
		}
	})

	var upgraded install.Result
	t.Run("upgrade in place", func(t *testing.T) {
		o := opts
		o.Binary = binB
		res, err := install.Install(ctx, c, o)
		upgraded = res
		if err != nil {
			t.Fatalf("Install(B) error = %v", err)
		}
		if filepath.Base(filepath.Dir(res.Server.Executable)) != res.Binary.ID || res.Binary.ID == first.Binary.ID {
			t.Errorf("serve runs %s, want the new version %s", res.Server.Executable, res.Binary.ID)
		}
		if got := versionDirs(t, home); !slices.Equal(got, []string{res.Binary.ID}) {
			t.Errorf("version directories = %v, want only the new %s", got, res.Binary.ID)
		}
		link, err := os.Readlink(filepath.Join(home, ".local/bin/rpcssh"))
		if err != nil || filepath.Base(filepath.Dir(link)) != res.Binary.ID {
			t.Errorf("~/.local/bin/rpcssh -> %s, %v; want the new version", link, err)
		}
	})

	t.Run("a bad methods file is refused before anything changes", func(t *testing.T) {
		bad := filepath.Join(local, "bad.toml")
		if err := os.WriteFile(bad, []byte("[[method]]\nname = \"greet\"\nargv = [\"/bin/echo\"]\ncolour = \"blue\"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		o := opts
		o.Binary, o.Methods = binB, bad
		_, err := install.Install(ctx, c, o)
		var se *install.StepError
		if !errors.As(err, &se) || se.Step != "methods" || !strings.Contains(err.Error(), "bad.toml:4") {
			t.Fatalf("Install(bad methods) error = %v, want a methods step error naming bad.toml:4", err)
		}
		info, err := install.QueryServer(ctx, c, port, first.Password)
		if err != nil || info.PID != upgraded.Server.PID {
			t.Errorf("after the refused methods file: pid %d, %v; want serve untouched (pid %d)", info.PID, err, upgraded.Server.PID)
		}
		if _, err := os.Stat(filepath.Join(home, ".config/rpcssh/methods.toml")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("methods.toml on the host: %v, want none", err)
		}
	})

	t.Run("a methods file is installed and served", func(t *testing.T) {
		o := opts
		o.Binary, o.Methods = binB, goodMethods
		res, err := install.Install(ctx, c, o)
		if err != nil {
			t.Fatalf("Install(methods) error = %v", err)
		}
		want := filepath.Join(home, ".config/rpcssh/methods.toml")
		if res.Copied || !res.Restarted || res.Server.MethodsFile != want {
			t.Errorf("Copied %v, Restarted %v, methods file %q; want no copy, a restart, %q", res.Copied, res.Restarted, res.Server.MethodsFile, want)
		}
		st, err := install.GetStatus(ctx, c, first.Password)
		if err != nil || st.Err != nil || st.Server.MethodsFile != want || st.Jobs != 0 || !st.Running {
			t.Errorf("GetStatus = %+v, %v; want running, %s, 0 jobs", st, err, want)
		}
	})

	t.Run("uninstall leaves nothing behind but job state, purge removes that too", func(t *testing.T) {
		st, err := install.GetStatus(ctx, c, first.Password)
		if err != nil || !st.Running {
			t.Fatalf("GetStatus = %+v, %v; want serve running", st, err)
		}
		pid := st.Server.PID
		if _, err := install.Uninstall(ctx, c, install.UninstallOptions{}); err != nil {
			t.Fatalf("Uninstall error = %v", err)
		}
		if slices.Contains(r.acct.Pids(), pid) {
			t.Errorf("serve (pid %d) still runs after uninstall", pid)
		}
		got := tunneltest.Tree(t, home)
		if !slices.Contains(got, ".local/state/rpcssh d---------") {
			t.Errorf("home after uninstall = %v, want the job state kept", got)
		}
		if _, err := install.Uninstall(ctx, c, install.UninstallOptions{Purge: true}); err != nil {
			t.Fatalf("Uninstall(Purge) error = %v", err)
		}
		if got := tunneltest.Tree(t, home); !slices.Equal(got, empty) {
			t.Errorf("home after uninstall --purge = %v, want as before the install %v", got, empty)
		}
	})
}

// versionDirs lists ~/.local/lib/rpcssh/*/ that hold a binary or anything.
func versionDirs(t *testing.T, home string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(home, ".local/lib/rpcssh"))
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
		}
	}
	return dirs
}
