package tunneltest

import "flag"

// TB is the part of testing.TB that NewServer and StartSSHD use; *testing.T
// and *testing.B satisfy it. The package does not import testing itself,
// so that a program (rpcssh demo) can run the in-process server without
// linking the test framework.
type TB interface {
	Helper()
	Cleanup(func())
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
	Skip(args ...any)
	Skipf(format string, args ...any)
	TempDir() string
	Failed() bool
}

// testingShort reports go test's -short flag, read through the flag
// package for the same reason.
func testingShort() bool {
	f := flag.Lookup("test.short")
	return f != nil && f.Value.String() == "true"
}
