//go:build !unix

package program

import (
	"errors"
	"os"
	"os/exec"
)

// Without process groups only the program itself is stopped: children
// it started may outlive it.
func newGroup(cmd *exec.Cmd) {}

// detach is a no-op: there are no sessions.
func detach(cmd *exec.Cmd) {}

// noInherit is a no-op: handles are not inherited unless marked so.
func noInherit(fd int) {}

func terminate(pid int) { killGroup(pid) }

func killGroup(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
}

func signalRunner(r runnerID) error {
	if !r.alive() {
		return errors.New("runner is gone")
	}
	p, err := os.FindProcess(r.PID)
	if err != nil {
		return err
	}
	return p.Kill()
}

func exitCode(ps *os.ProcessState) int { return ps.ExitCode() }

func becomeSubreaper() error { return nil }

func identify(pid int) (runnerID, error) {
	return runnerID{PID: pid, Start: 1, Boot: "unknown"}, nil
}

// alive cannot tell on this system; a runner counts as alive until its
// exit record appears.
func (r runnerID) alive() bool { return r.PID > 0 }

func killDescendants() {}

func terminateTree(pid int) { terminate(pid) }

func killTree(pid int) { killGroup(pid) }
