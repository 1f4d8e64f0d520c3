package main

import (
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
	copyBinary(ts, "-X="+install.ReleaseVersionSymbol+"="+args[1], args[0])
}
