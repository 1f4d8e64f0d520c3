package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/rpcssh/rpcssh/tunnel/install"
)

// cmdBuildVersion builds rpcssh from this module to PATH as a release of
// VERSION (-X main.releaseVersion=VERSION), for the scripts that put two
// releases in front of each other: buildversion PATH VERSION.
func cmdBuildVersion(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: buildversion PATH VERSION")
	}
	dst := ts.MkAbs(args[0])
	ts.Check(os.MkdirAll(filepath.Dir(dst), 0o755))
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-ldflags=-X="+install.ReleaseVersionSymbol+"="+args[1], "-o", dst, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		ts.Check(&buildError{err: err, out: string(out)})
	}
}
