package program_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/rpcssh/rpcssh/rpc/program"
)

// TestCheckPrograms: a relative argv[0] is taken from the methods file's
// directory (not from dir), and a program that is missing, not a file or
// not executable is an error naming the argv line.
func TestCheckPrograms(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no executable bits")
	}
	base := t.TempDir()
	for _, d := range []string{"bin", "work", "work/bin", "adir"} {
		if err := os.MkdirAll(filepath.Join(base, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(base, "bin", "run"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "work", "bin", "only-here"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "bin", "plain"), []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, argv0, want string
	}{
		{"relative, from the file's directory", "./bin/run", ""},
		{"relative without ./", "bin/run", ""},
		{"absolute", "/bin/sh", ""},
		{"in PATH", "sh", ""},
		{"relative to dir is not used", "./bin/only-here", "m.toml:3: method \"a\": program " + filepath.Join(base, "bin", "only-here") + " does not exist"},
		{"missing", "./nope", "m.toml:3: method \"a\": program " + filepath.Join(base, "nope") + " does not exist"},
		{"not executable", "./bin/plain", "is not executable (mode 0644): chmod +x " + filepath.Join(base, "bin", "plain")},
		{"a directory", "./adir", "is not a regular file"},
		{"not in PATH", "no-such-program-rpcssh", `program "no-such-program-rpcssh" not found in serve's PATH`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			toml := "[[method]]\nname = \"a\"\nargv = [\"" + tt.argv0 + "\"]\ndir = \"work\"\n"
			f, err := program.Parse("m.toml", base, []byte(toml))
			if err != nil {
				t.Fatal(err)
			}
			f.Path = "m.toml"
			err = f.CheckPrograms()
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("CheckPrograms() = %v, want %q", err, tt.want)
			}
		})
	}
}
