// Package racetest lets a test that starts its own binary again (a serve,
// a job runner, a connection master, the CLI under testscript) do so
// without paying the race detector's exit delay in every child.
//
// A program built with -race sleeps atexit_sleep_ms (1000 by default)
// before it exits with status 0, so that goroutines still running get a
// last chance to report a race. A CLI test that runs a few hundred such
// commands spends minutes in that sleep and proves nothing more for it:
// a race is still reported while the program runs, and the test binary
// itself keeps the default.
package racetest

import (
	"os"
	"strings"
)

// NoExitSleep sets atexit_sleep_ms=0 in GORACE for the processes this one
// starts from now on, keeping any other GORACE option, and leaves GORACE
// alone when it already names atexit_sleep_ms. Call it first in TestMain.
func NoExitSleep() error {
	v := os.Getenv("GORACE")
	if strings.Contains(v, "atexit_sleep_ms=") {
		return nil
	}
	return os.Setenv("GORACE", strings.TrimSpace(v+" atexit_sleep_ms=0"))
}
