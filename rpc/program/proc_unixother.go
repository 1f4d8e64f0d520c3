//go:build unix && !linux

package program

import (
	"errors"
	"syscall"
)

// Without /proc there is no start time to tell a runner from a later
// process that got its pid, and no subreaper: a runner counts as alive
// while its pid exists, and descendants that left the program's process
// group are not found.

func becomeSubreaper() error { return nil }

func identify(pid int) (runnerID, error) {
	if pid <= 0 {
		return runnerID{}, errors.New("no such process")
	}
	return runnerID{PID: pid, Start: 1, Boot: "unknown"}, nil
}

func (r runnerID) alive() bool {
	return r.PID > 0 && syscall.Kill(r.PID, 0) == nil
}

func killDescendants() {}

func terminateTree(pid int) { terminate(pid) }

func killTree(pid int) { killGroup(pid) }
