package main

import (
	"errors"
	"testing"

	"github.com/rpcssh/rpcssh/internal/testbuild"
)

// builds are the rpcssh binaries this test process built (without -race,
// or stamped as a release), each linked once for every test and script
// that needs it; TestMain removes them.
var builds testbuild.Set

// testBinary is the plain build for a test: it skips the test when there
// is no go command and fails it when the build fails.
func testBinary(t testing.TB) string {
	t.Helper()
	bin, err := builds.Binary("")
	if errors.Is(err, testbuild.ErrNoGo) {
		t.Skip("skipping: " + err.Error())
	}
	if err != nil {
		t.Fatal(err)
	}
	return bin
}
