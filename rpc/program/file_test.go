package program_test

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/rpcssh/rpcssh/rpc/program"
)

func TestConfigErrorsNameTheLine(t *testing.T) {
	tests := []struct {
		name, toml string
		line       int
		want       string
	}{
		{"syntax", "[[method]]\nname = \"a\"\nargv = [\"x\"\n", 3, "expected a comma"},
		{"wrong toml type", "[[method]]\nname = \"a\"\nargv = \"x\"\n", 3, "argv"},
		{"unknown key", "[[method]]\nname = \"a\"\nargv = [\"x\"]\ntimout = \"1s\"\n", 4, `unknown key "method.timout"`},
		{"no methods", "# nothing\n", 0, "no [[method]]"},
		{"bad name", "[[method]]\nname = \"a b\"\nargv = [\"x\"]\n", 2, `name "a b"`},
		{"reserved", "[[method]]\nname = \"jobs.x\"\nargv = [\"x\"]\n", 2, "reserved"},
		{"no argv", "[[method]]\nname = \"a\"\n", 1, "argv is missing"},
		{"unknown placeholder", "[[method]]\nname = \"a\"\nhelp = \"h\"\nargv = [\"x\", \"{n}\"]\n", 4, `no param named "n"`},
		{"two placeholders", "[[method]]\nname = \"a\"\nargv = [\"x\", \"{n}{n}\"]\n[[method.param]]\nname = \"n\"\ntype = \"int\"\n", 3, "more than one"},
		{"program placeholder", "[[method]]\nname = \"a\"\nargv = [\"{n}\"]\n[[method.param]]\nname = \"n\"\ntype = \"string\"\n", 3, "argv[0]"},
		{"unused param", "[[method]]\nname = \"a\"\nargv = [\"x\"]\n\n[[method.param]]\nname = \"n\"\ntype = \"int\"\n", 5, `param "n" is not used`},
		{"bad type", "[[method]]\nname = \"a\"\nargv = [\"x\", \"{n}\"]\n[[method.param]]\nname = \"n\"\ntype = \"integer\"\n", 6, `type "integer"`},
		{"min on string", "[[method]]\nname = \"a\"\nargv = [\"x\", \"{n}\"]\n[[method.param]]\nname = \"n\"\ntype = \"string\"\nmin = 1\n", 7, "min applies to"},
		{"min > max", "[[method]]\nname = \"a\"\nargv = [\"x\", \"{n}\"]\n[[method.param]]\nname = \"n\"\ntype = \"int\"\nmin = 5\nmax = 1\n", 8, "greater than max"},
		{"default outside enum", "[[method]]\nname = \"a\"\nargv = [\"x\", \"{n}\"]\n[[method.param]]\nname = \"n\"\ntype = \"string\"\nenum = [\"a\"]\ndefault = \"b\"\n", 8, `"b" is not one of a`},
		{"second method's param", "[[method]]\nname = \"a\"\nargv = [\"x\"]\n[[method]]\nname = \"b\"\nargv = [\"x\", \"{n}\"]\n[[method.param]]\nname = \"n\"\ntype = \"int\"\ndefault = 1.5\n", 10, "want int, got double"},
		{"bad timeout", "[[method]]\nname = \"a\"\nargv = [\"x\"]\ntimeout = \"soon\"\n", 4, `timeout "soon"`},
		{"bad output_cap", "[[method]]\nname = \"a\"\nargv = [\"x\"]\noutput_cap = \"lots\"\n", 4, "output_cap"},
		{"duplicate", "[[method]]\nname = \"a\"\nargv = [\"x\"]\n[[method]]\nname = \"a\"\nargv = [\"x\"]\n", 4, "declared twice (first on line 1)"},
		{"env name", "[[method]]\nname = \"a\"\nargv = [\"x\"]\nenv = [\"A=B\"]\n", 4, "env name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := program.Parse("m.toml", t.TempDir(), []byte(tt.toml))
			var ce *program.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error = %v, want a *ConfigError", err)
			}
			if ce.Line != tt.line || !strings.Contains(ce.Msg, tt.want) {
				t.Errorf("error = %v (line %d), want line %d and %q", err, ce.Line, tt.line, tt.want)
			}
		})
	}
}

func TestParseResolvesPaths(t *testing.T) {
	base := t.TempDir()
	f, err := program.Parse("m.toml", base, []byte("[[method]]\nname = \"a\"\nargv = [\"./bin/run\"]\ndir = \"work\"\n[[method]]\nname = \"b\"\nasync = true\nargv = [\"run\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	a, b := f.Methods[0], f.Methods[1]
	if a.Dir != filepath.Join(base, "work") || a.Timeout != program.DefaultTimeout || a.OutputCap != program.DefaultOutputCap {
		t.Errorf("a = %+v", a)
	}
	if b.Dir != base || b.Timeout != 0 || b.OutputCap != program.DefaultAsyncOutputCap || !b.Async {
		t.Errorf("b = %+v", b)
	}
}

func TestLoadRefusesFilesOthersCanChange(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no mode bits")
	}
	const ok = "[[method]]\nname = \"a\"\nargv = [\"x\"]\n"
	tests := []struct {
		name              string
		fileMode, dirMode os.FileMode
		want              string
	}{
		{"private", 0o600, 0o700, ""},
		{"readable by all", 0o644, 0o755, ""},
		{"world-writable file", 0o646, 0o700, "m.toml is world-writable (mode 0646): other users could change it; fix with: chmod o-w "},
		{"group-writable file", 0o664, 0o755, "m.toml is group-writable (mode 0664): other users could change it; fix with: chmod g-w "},
		{"group-writable dir", 0o644, 0o775, "/d is group-writable (mode 0775): other users could change it; fix with: chmod g-w "},
		{"world-writable dir", 0o644, 0o777, "/d is group- and world-writable (mode 0777): other users could change it; fix with: chmod go-w "},
		{"sticky dir", 0o644, 0o777 | os.ModeSticky, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "d")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "m.toml")
			if err := os.WriteFile(path, []byte(ok), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.fileMode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dir, tt.dirMode); err != nil {
				t.Fatal(err)
			}
			_, err := program.Load(path)
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("Load = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestLoadRefusesFilesOfOtherUsers: a methods file, or a directory above
// it, owned by a user other than this one or root is refused (root can
// give files away, so this runs as root only).
func TestLoadRefusesFilesOfOtherUsers(t *testing.T) {
	if runtime.GOOS == "windows" || os.Geteuid() != 0 {
		t.Skip("needs root to chown to another user")
	}
	const ok = "[[method]]\nname = \"a\"\nargv = [\"x\"]\n"
	for _, which := range []string{"file", "dir"} {
		t.Run(which, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "d")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "m.toml")
			if err := os.WriteFile(path, []byte(ok), 0o644); err != nil {
				t.Fatal(err)
			}
			owned := path
			if which == "dir" {
				owned = dir
			}
			if err := os.Chown(owned, 65534, 65534); err != nil {
				t.Fatal(err)
			}
			_, err := program.Load(path)
			want := owned + " is owned by uid 65534, not by this user (uid 0) nor root"
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Load = %v, want %q", err, want)
			}
			if which == "dir" {
				// A state directory not created yet is judged by its parents.
				if err := program.CheckPath(filepath.Join(dir, "state")); err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("CheckPath(%s/state) = %v, want %q", dir, err, want)
				}
			}
		})
	}
}
