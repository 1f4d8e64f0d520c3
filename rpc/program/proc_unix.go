//go:build unix

package program

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
)

// newGroup makes the program the leader of a process group of its own,
// so a timeout or cancel reaches everything it started.
func newGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

// detach starts a job's runner in a session of its own: no terminal, no
// signal sent to serve's process group, reaches it.
func detach(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} }

// noInherit marks a descriptor the process inherited close-on-exec, so
// the programs it starts do not get it.
func noInherit(fd int) { syscall.CloseOnExec(fd) }

// terminate asks the program's process group to stop (SIGTERM).
func terminate(pid int) { _ = syscall.Kill(-pid, syscall.SIGTERM) }

// killGroup kills what is left of the program's process group (SIGKILL).
// The group's id stays reserved while any member lives, so this cannot
// reach an unrelated process.
func killGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }

// signalRunner asks a job's runner to stop its job (SIGTERM), after
// checking it is still the same process.
func signalRunner(r runnerID) error {
	if !r.alive() {
		return errors.New("runner is gone")
	}
	return syscall.Kill(r.PID, syscall.SIGTERM)
}

// exitCode is the exit status, or 128+signal for a killed program as a
// shell reports it.
func exitCode(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}
