//go:build linux

package program

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const prSetChildSubreaper = 36 // linux/prctl.h

// becomeSubreaper makes the calling process (a job's runner) adopt every
// orphaned descendant, so one that left the program's process group or
// session (setsid) is still found by killDescendants.
func becomeSubreaper() error {
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
		return fmt.Errorf("prctl PR_SET_CHILD_SUBREAPER: %w", errno)
	}
	return nil
}

// procStat is what this package reads of /proc/PID/stat.
type procStat struct {
	state byte
	ppid  int
	start uint64 // clock ticks after boot
}

func readProcStat(pid int) (procStat, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	// pid (comm) state ppid ... ; comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return procStat{}, errors.New("malformed stat")
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 20 {
		return procStat{}, errors.New("malformed stat")
	}
	ppid, err1 := strconv.Atoi(f[1])
	start, err2 := strconv.ParseUint(f[19], 10, 64) // field 22 of the whole line
	if err1 != nil || err2 != nil || len(f[0]) != 1 {
		return procStat{}, errors.New("malformed stat")
	}
	return procStat{state: f[0][0], ppid: ppid, start: start}, nil
}

// bootID tells one boot of the host from the next.
func bootID() string {
	data, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}

// identify returns the identity of a live process: its pid, start time
// and the boot it runs in.
func identify(pid int) (runnerID, error) {
	st, err := readProcStat(pid)
	if err != nil {
		return runnerID{}, err
	}
	return runnerID{PID: pid, Start: st.start, Boot: bootID()}, nil
}

// alive reports whether the process r identifies still runs: same pid,
// same start time, same boot, not a zombie. A pid alone is never enough.
func (r runnerID) alive() bool {
	if r.PID <= 0 || r.Start == 0 || r.Boot == "" || r.Boot != bootID() {
		return false
	}
	st, err := readProcStat(r.PID)
	return err == nil && st.start == r.Start && st.state != 'Z' && st.state != 'X'
}

// killDescendants kills (SIGKILL) every process below the caller and
// reaps them, repeating while any is left (one may fork while it is
// swept). The caller is a subreaper, so orphans are still below it.
func killDescendants() {
	self := os.Getpid()
	for range 50 {
		left := 0
		for _, pid := range descendants(self) {
			if st, err := readProcStat(pid); err == nil && st.state != 'Z' {
				left++
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		reapChildren()
		if left == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// reapChildren collects every child that has ended, without blocking.
func reapChildren() {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}

// descendants lists the processes below pid, from /proc.
func descendants(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, err := readProcStat(p); err == nil {
			children[st.ppid] = append(children[st.ppid], p)
		}
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

// terminateTree sends SIGTERM to the program's process group and to every
// process below the program, including those that left its group.
func terminateTree(pid int) { signalTree(pid, syscall.SIGTERM) }

// killTree sends SIGKILL as terminateTree sends SIGTERM.
func killTree(pid int) { signalTree(pid, syscall.SIGKILL) }

func signalTree(pid int, sig syscall.Signal) {
	below := descendants(pid)
	_ = syscall.Kill(-pid, sig)
	for _, d := range below {
		_ = syscall.Kill(d, sig)
	}
}
