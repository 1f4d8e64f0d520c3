//go:build unix

package program_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rpcssh/rpcssh/rpc"
)

// alive reports whether pid is a live process (a zombie waiting for a
// reaper counts as gone).
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true // no procfs: trust kill
	}
	i := bytes.LastIndexByte(stat, ')')
	return i < 0 || i+2 >= len(stat) || stat[i+2] != 'Z'
}

func TestTimeoutKillsTheProcessGroup(t *testing.T) {
	t.Parallel()
	pidfile := filepath.Join(t.TempDir(), "pid")
	s := startHost(t, `
[[method]]
name = "hang"
argv = ["sh", "-c", "sleep 60 & echo $! > \"$0\"; wait", "`+pidfile+`"]
env = ["PATH"]
timeout = "1s"
kill_grace = "500ms"

[[method]]
name = "hang_async"
async = true
argv = ["sh", "-c", "trap '' TERM; sleep 60 & echo $! > \"$0.async\"; wait; wait", "`+pidfile+`"]
env = ["PATH"]
timeout = "1s"
kill_grace = "300ms"
`, "")
	start := time.Now()
	_, err := s.call(t, "hang")
	if faultCode(err) != rpc.CodeApplication || !strings.Contains(err.Error(), "timed out after 1s") {
		t.Fatalf("error = %v, want an application fault saying it timed out", err)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("the call took %v", d)
	}
	checkGone(t, pidfile)

	// A job that ignores SIGTERM is killed after kill_grace, child and all.
	id := s.mustCall(t, "hang_async").(string)
	st := result(t, s.mustCall(t, "jobs.wait", id, 15))
	if st["state"] != "timeout" || st["exit_code"] != int64(128+9) {
		t.Errorf("status = %v, want timeout, exit_code 137 (SIGKILL)", st)
	}
	checkGone(t, pidfile+".async")
}

// gone reports whether pid has ended (and been reaped, or is a zombie),
// waiting a while.
func gone(pid int) bool {
	deadline := time.Now().Add(10 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}

// checkGone reads the pid the program wrote and waits (bounded) for it
// to be gone.
func checkGone(t *testing.T, pidfile string) {
	t.Helper()
	data, err := os.ReadFile(pidfile)
	if err != nil {
		t.Fatalf("the program did not record its child: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	if !gone(pid) {
		syscall.Kill(pid, syscall.SIGKILL)
		t.Fatalf("child %d still alive 10 s after the timeout", pid)
	}
}
