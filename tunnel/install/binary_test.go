package install

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestGoPlatform(t *testing.T) {
	tests := []struct{ os, arch, goos, goarch string }{
		{"Linux", "x86_64", "linux", "amd64"},
		{"Linux", "aarch64", "linux", "arm64"},
		{"Darwin", "arm64", "darwin", "arm64"},
		{"Linux", "armv7l", "linux", "arm"},
		{"FreeBSD", "amd64", "freebsd", "amd64"},
		{"SunOS", "i86pc", "", ""},
	}
	for _, tt := range tests {
		goos, goarch := goPlatform(tt.os, tt.arch)
		if goos != tt.goos || goarch != tt.goarch {
			t.Errorf("goPlatform(%q, %q) = %q, %q; want %q, %q", tt.os, tt.arch, goos, goarch, tt.goos, tt.goarch)
		}
	}
}

func TestCheckBinary(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	text := filepath.Join(t.TempDir(), "script")
	if err := os.WriteFile(text, []byte("#!/bin/sh\necho hi\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	other := "arm64"
	if runtime.GOARCH == "arm64" {
		other = "amd64"
	}
	tests := []struct {
		name         string
		path         string
		goos, goarch string
		wrong        bool   // want ErrWrongPlatform
		msg          string // in the error
	}{
		{"this test binary", self, runtime.GOOS, runtime.GOARCH, false, ""},
		{"another arch", self, runtime.GOOS, other, true, "the host needs " + runtime.GOOS + "/" + other},
		{"another OS", self, "darwin", runtime.GOARCH, true, "the host needs darwin/"},
		{"a shell script", text, runtime.GOOS, runtime.GOARCH, true, "neither ELF nor Mach-O"},
		{"no such file", filepath.Join(t.TempDir(), "absent"), runtime.GOOS, runtime.GOARCH, false, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
				t.Skip("the test binary is neither ELF nor Mach-O here")
			}
			b, err := CheckBinary(tt.path, tt.goos, tt.goarch)
			if errors.Is(err, ErrWrongPlatform) != tt.wrong {
				t.Fatalf("CheckBinary error = %v, want ErrWrongPlatform: %v", err, tt.wrong)
			}
			if tt.msg != "" {
				if err == nil || !strings.Contains(err.Error(), tt.msg) {
					t.Errorf("CheckBinary error = %v, want it to say %q", err, tt.msg)
				}
				return
			}
			if err != nil {
				t.Fatalf("CheckBinary error = %v", err)
			}
			if len(b.SHA256) != 64 || !strings.HasSuffix(b.ID, "-"+b.SHA256[:12]) || b.Size == 0 {
				t.Errorf("CheckBinary = %+v, want size, checksum and an ID ending in its first 12 digits", b)
			}
		})
	}
}

func TestChooseBinaryNeedsABuild(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	other := "arm64"
	if runtime.GOARCH == "arm64" {
		other = "amd64"
	}
	_, err = chooseBinary(Host{OS: "Linux", Arch: "x", GOOS: "linux", GOARCH: other}, Options{Self: self})
	var need *NeedBinaryError
	if !errors.As(err, &need) {
		t.Fatalf("chooseBinary error = %v, want *NeedBinaryError", err)
	}
	want := "GOOS=linux GOARCH=" + other + " CGO_ENABLED=0 go build -trimpath -o rpcssh-linux-" + other + " ./cmd/rpcssh"
	if need.Command() != want || !strings.Contains(err.Error(), want) {
		t.Errorf("error = %v, command %q; want the line %q", err, need.Command(), want)
	}

	_, err = chooseBinary(Host{OS: "Plan9", Arch: "mips"}, Options{Self: self})
	if !errors.As(err, &need) || !strings.Contains(err.Error(), "Plan9 mips") {
		t.Errorf("chooseBinary(unknown uname) error = %v, want *NeedBinaryError naming Plan9 mips", err)
	}
}

// TestQuote runs each quoted word through sh and gets it back unchanged.
func TestQuote(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("skipping: no sh")
	}
	for _, s := range []string{"plain", "with space", "it's", `"$HOME" $(id) ` + "`id`", "new\nline", "", `back\slash`, "'''"} {
		out, err := exec.Command(sh, "-c", "printf %s "+quote(s)).Output()
		if err != nil || string(out) != s {
			t.Errorf("sh printf %s = %q, %v; want %q", quote(s), out, err, s)
		}
	}
}

func TestUnitText(t *testing.T) {
	l := Layout{Home: "/home/ubuntu", User: "ubuntu"}
	sys := SystemUnit(l, 8001, true)
	for _, want := range []string{
		"User=ubuntu",
		"ExecStart=/home/ubuntu/.local/bin/rpcssh serve --port 8001 --password-file /home/ubuntu/.config/rpcssh/password --methods /home/ubuntu/.config/rpcssh/methods.toml --state-dir /home/ubuntu/.local/state/rpcssh",
		"ProtectSystem=full", "KillMode=process", "NoNewPrivileges=yes", "WantedBy=multi-user.target",
	} {
		if !strings.Contains(sys, want) {
			t.Errorf("SystemUnit lacks %q:\n%s", want, sys)
		}
	}
	if strings.Contains(sys, "\nProtectSystem=strict") {
		t.Errorf("SystemUnit has ProtectSystem=strict, which makes job state read-only:\n%s", sys)
	}
	user := UserUnit(l, 8000, false)
	for _, want := range []string{"ExecStart=/home/ubuntu/.local/bin/rpcssh serve --port 8000 --password-file /home/ubuntu/.config/rpcssh/password\n", "WantedBy=default.target"} {
		if !strings.Contains(user, want) {
			t.Errorf("UserUnit lacks %q:\n%s", want, user)
		}
	}
	if strings.Contains(user, "User=") || strings.Contains(user, "--methods") {
		t.Errorf("UserUnit has User= or --methods:\n%s", user)
	}
}

// TestStartScripts checks the commands each mode runs (what --dry-run
// shows): the systemd paths cannot run on a machine without systemd.
func TestStartScripts(t *testing.T) {
	l := Layout{Home: "/home/ubuntu", User: "ubuntu"}
	tests := []struct {
		mode   Mode
		linger bool
		want   []string
		not    []string
	}{
		{ModeUser, false, []string{
			"cat > '/home/ubuntu/.config/systemd/user/rpcssh.service.tmp' <<'RPCSSH_UNIT_EOF'\n# Written by rpcssh install",
			"systemctl --user daemon-reload\n", "systemctl --user enable rpcssh.service", "systemctl --user restart rpcssh.service\n",
			"loginctl enable-linger 2>/dev/null || echo", "sudo loginctl enable-linger ubuntu",
		}, []string{"sudo -n", "setsid"}},
		{ModeUser, true, []string{"systemctl --user restart rpcssh.service\n"}, []string{"enable-linger"}},
		{ModeSystem, false, []string{
			"sudo -n tee '/etc/systemd/system/rpcssh-ubuntu.service' >/dev/null <<'RPCSSH_UNIT_EOF'\n# Written by rpcssh install",
			"User=ubuntu\n", "sudo -n systemctl daemon-reload\n", "sudo -n systemctl enable rpcssh-ubuntu.service", "sudo -n systemctl restart rpcssh-ubuntu.service\n",
		}, []string{"--user", "setsid"}},
		{ModeDetached, false, []string{
			"stop_detached\n", "setsid", "'/home/ubuntu/.local/bin/rpcssh' 'serve' '--port' '8000' '--password-file' '/home/ubuntu/.config/rpcssh/password' </dev/null >>\"$log\" 2>&1 &\n",
			"echo $! > '/home/ubuntu/.local/lib/rpcssh/serve.pid'",
		}, []string{"systemctl"}},
	}
	for _, tt := range tests {
		s := startScript(l, tt.mode, 8000, false, tt.linger)
		for _, w := range tt.want {
			if !strings.Contains(s, w) {
				t.Errorf("startScript(%s, linger %v) lacks %q:\n%s", tt.mode, tt.linger, w, s)
			}
		}
		for _, n := range tt.not {
			if strings.Contains(s, n) {
				t.Errorf("startScript(%s, linger %v) has %q:\n%s", tt.mode, tt.linger, n, s)
			}
		}
	}
}

// TestScriptsParse has sh parse (-n) every script an install can run.
func TestScriptsParse(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("skipping: no sh")
	}
	l := Layout{Home: "/home/o'brien", User: "obrien"}
	scripts := map[string]string{
		"probe":    probeScript,
		"checksum": checksumScript(l.Binary("v1-abc")),
		"verify":   verifyScript(l.VersionDir("v1-abc")+"/.tmp", l.Binary("v1-abc"), strings.Repeat("a", 64)),
		"secret":   secretScript(l),
		"link":     linkScript(l, "v1-abc"),
		"record":   recordScript(l, Record{ID: "v1-abc", Version: "v1", Mode: ModeDetached, Port: 8000}),
		"stopAll":  stopAllScript(l, true),
		"remove":   removeScript(l, true),
		"exited":   exitedScript(l),
	}
	for _, m := range []Mode{ModeUser, ModeSystem, ModeDetached} {
		scripts["start "+string(m)] = startScript(l, m, 8000, true, false)
		scripts["stop "+string(m)] = stopScript(l, m)
		scripts["log "+string(m)] = logScript(l, m)
	}
	for name, s := range scripts {
		cmd := exec.Command(sh, "-n")
		cmd.Stdin = strings.NewReader(s)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("sh -n %s: %v: %s\n%s", name, err, out, s)
		}
	}
}
