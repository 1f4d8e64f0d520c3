//go:build linux

package program_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rpcssh/rpcssh/rpc/program"
)

// A program that starts a grandchild in a session of its own (setsid),
// out of its process group, which writes its pid to $0 and sleeps.
const setsidMethods = `
[[method]]
name = "daemon"
async = true
argv = ["sh", "-c", "setsid sh -c 'echo $$ > \"$0\"; exec sleep 300' \"$0\" & sleep 0.2; [ $1 = wait ] && sleep 300; exit 0", "{pidfile}", "{mode}"]
env = ["PATH"]
kill_grace = "200ms"
timeout = "{timeout}"
[[method.param]]
name = "pidfile"
type = "string"
[[method.param]]
name = "mode"
type = "string"
`

// grandchild waits for the pid the grandchild wrote.
func grandchild(t *testing.T, pidfile string) int {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		data, err := os.ReadFile(pidfile)
		if pid, perr := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && perr == nil {
			return pid
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no pid in %s", pidfile)
	return 0
}

func TestSetsidGrandchildIsKilled(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, mode, timeout string
		end                 func(t *testing.T, s *testServer, id string)
		state               string
	}{
		{"cancel", "wait", "0s", func(t *testing.T, s *testServer, id string) { s.mustCall(t, "jobs.cancel", id) }, program.StateCancelled},
		{"exit", "exit", "0s", func(t *testing.T, s *testServer, id string) { s.mustCall(t, "jobs.wait", id, 15) }, program.StateExited},
		{"timeout", "wait", "1s", func(t *testing.T, s *testServer, id string) { s.mustCall(t, "jobs.wait", id, 15) }, program.StateTimeout},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := startHost(t, strings.Replace(setsidMethods, "{timeout}", tt.timeout, 1), "")
			pidfile := filepath.Join(t.TempDir(), "pid")
			id := s.mustCall(t, "daemon", pidfile, tt.mode).(string)
			pid := grandchild(t, pidfile)
			t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
			tt.end(t, s, id)
			if st := result(t, s.mustCall(t, "jobs.wait", id, 15)); st["state"] != tt.state {
				t.Errorf("status = %v, want %s", st, tt.state)
			}
			if !gone(pid) {
				t.Errorf("the setsid grandchild (pid %d) outlived the job's %s", pid, tt.name)
			}
		})
	}
}

// A sync method's program runs under serve, not a runner: on its timeout
// a setsid grandchild it still waits for is found below it and killed.
func TestSyncTimeoutKillsSetsidGrandchild(t *testing.T) {
	t.Parallel()
	pidfile := filepath.Join(t.TempDir(), "pid")
	s := startHost(t, `
[[method]]
name = "daemon"
argv = ["sh", "-c", "setsid sh -c 'echo $$ > \"$0\"; exec sleep 300' \"$0\" & wait", "`+pidfile+`"]
env = ["PATH"]
timeout = "1s"
kill_grace = "200ms"
`, "")
	if _, err := s.call(t, "daemon"); err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("error = %v, want a timeout fault", err)
	}
	pid := grandchild(t, pidfile)
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	if !gone(pid) {
		t.Errorf("the setsid grandchild (pid %d) outlived the sync method's timeout", pid)
	}
}

// A job's program is a child of its runner, whose environment is empty:
// nothing of serve's (a password, say) is in /proc/$PPID/environ.
func TestRunnerEnvironmentIsEmpty(t *testing.T) {
	t.Setenv("RPCSSH_TEST_SECRET", "hunter2")
	s := startHost(t, `
[[method]]
name = "parent_env"
async = true
argv = ["sh", "-c", "tr '\\0' '\\n' < /proc/$PPID/environ; echo end"]
env = ["PATH"]
`, "")
	id := s.mustCall(t, "parent_env").(string)
	if st := result(t, s.mustCall(t, "jobs.wait", id, 15)); st["state"] != program.StateExited {
		t.Fatalf("status = %v", st)
	}
	if got := follow(t, s, id, 0); got != "end\n" {
		t.Errorf("the runner's environment = %q, want empty", got)
	}
}

// The pipe on which the runner answers serve (its descriptor 3, open
// while the program runs) is not inherited by the program.
func TestProgramDoesNotGetTheReadyPipe(t *testing.T) {
	t.Parallel()
	s := startHost(t, `
[[method]]
name = "fds"
async = true
argv = ["sh", "-c", "ready=$(readlink /proc/$PPID/fd/3) || exit 2; for f in /proc/$$/fd/*; do [ \"$(readlink $f)\" = \"$ready\" ] && echo \"$f is $ready\"; done; echo checked"]
env = ["PATH"]
`, "")
	id := s.mustCall(t, "fds").(string)
	if st := result(t, s.mustCall(t, "jobs.wait", id, 15)); st["state"] != program.StateExited || st["exit_code"] != int64(0) {
		t.Fatalf("status = %v, want exited 0", st)
	}
	if got := follow(t, s, id, 0); got != "checked\n" {
		t.Errorf("output = %q, want %q (no descriptor of the program is the runner's ready pipe)", got, "checked\n")
	}
}
