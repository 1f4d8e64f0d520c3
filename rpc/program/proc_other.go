//go:build !unix

package program

import (
	"os"
	"os/exec"
)

// Without process groups only the program itself is stopped: children
// it started may outlive it.
func newGroup(cmd *exec.Cmd) {}

func terminate(pid int) { killGroup(pid) }

func killGroup(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
}

func exitCode(ps *os.ProcessState) int { return ps.ExitCode() }
