package main

import (
	"github.com/rogpeppe/go-internal/testscript"
)

// cmdBuildVersion builds rpcssh from this module to PATH as a release of
// VERSION (-X main.releaseVersion=VERSION), for the scripts that put two
// releases in front of each other: buildversion PATH VERSION.
func cmdBuildVersion(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: buildversion PATH VERSION")
	}
	bin, err := builds.Release(args[1])
	ts.Check(err)
	copyBinary(ts, bin, args[0])
}
