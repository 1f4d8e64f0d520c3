package main

import (
	"debug/elf"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// TestNoScriptsOutsideTestdata: a testscript file outside testdata/script
// is never run, so it only misleads.
func TestNoScriptsOutsideTestdata(t *testing.T) {
	stray, err := filepath.Glob("*.txtar")
	if err != nil {
		t.Fatal(err)
	}
	if len(stray) > 0 {
		t.Errorf("testscript files outside testdata/script are never run: %q", stray)
	}
}

// TestReadmeStaticBuild: where the README claims a static binary, every
// `go install`/`go build` line it gives sets CGO_ENABLED=0, and the binary
// that line builds is static: no ELF interpreter, no shared library.
func TestReadmeStaticBuild(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?i)\bstatic\b`).Match(readme) {
		t.Skip("the README claims no static binary")
	}
	builds := regexp.MustCompile(`(?m)^.*\bgo (install|build) .*cmd/rpcssh.*$`).FindAll(readme, -1)
	if len(builds) == 0 {
		t.Fatal("the README claims a static binary but gives no go install/build line")
	}
	for _, line := range builds {
		if !strings.Contains(string(line), "CGO_ENABLED=0") {
			t.Errorf("README build line without CGO_ENABLED=0, which may link libc: %s", line)
		}
	}
	if runtime.GOOS != "linux" {
		t.Skip("ELF check on Linux only")
	}
	if testing.Short() {
		t.Skip("builds rpcssh")
	}
	bin := testBinary(t) // built as the README says: CGO_ENABLED=0 go build
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("the CGO_ENABLED=0 binary has a %v program header: not static", p.Type)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the CGO_ENABLED=0 binary needs shared libraries %q", libs)
	}
}
