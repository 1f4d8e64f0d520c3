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
