package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/rogpeppe/go-internal/testscript"
)

var builtRPCSSH struct {
	once sync.Once
	path string
	err  error
}

// cmdBuildRPCSSH builds rpcssh from this module (with other -ldflags: another
// binary than the test's own) to the path given, once per test run, for
// the scripts that upgrade serve under running jobs.
func cmdBuildRPCSSH(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: buildbin PATH")
	}
	b := &builtRPCSSH
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "rpcssh-build-")
		if err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(dir, "rpcssh")
		cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-ldflags=-X=main.upgradeTestBuild=1", "-o", b.path, ".")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = &buildError{err: err, out: string(out)}
		}
	})
	ts.Check(b.err)
	data, err := os.ReadFile(b.path)
	ts.Check(err)
	dst := ts.MkAbs(args[0])
	ts.Check(os.MkdirAll(filepath.Dir(dst), 0o755))
	ts.Check(os.WriteFile(dst, data, 0o755))
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return "go build: " + e.err.Error() + "\n" + e.out }
