package program_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rpcssh/rpcssh/rpc"
	"github.com/rpcssh/rpcssh/rpc/program"
)

const jobMethods = `
[[method]]
name = "count"
async = true
argv = ["sh", "-c", "i=1; while [ $i -le $0 ]; do echo line $i; i=$((i+1)); sleep 0.05; done; echo done >&2; exit 7", "{n}"]
max_concurrent = 1
[[method.param]]
name = "n"
type = "int"

[[method]]
name = "sleep"
async = true
argv = ["sleep", "{s}"]
env = ["PATH"]
kill_grace = "200ms"
output_cap = 10
[[method.param]]
name = "s"
type = "double"
`

// follow reads a job's output to the end through jobs.output, as a
// client following it would, bounded in time.
func follow(t *testing.T, s *testServer, id string, offset int64) string {
	t.Helper()
	var out bytes.Buffer
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		r := result(t, s.mustCall(t, "jobs.output", id, offset))
		switch d := r["data"].(type) {
		case string:
			out.WriteString(d)
		case []byte:
			out.Write(d)
		default:
			t.Fatalf("data is %T", d)
		}
		offset = r["next_offset"].(int64)
		if r["done"] == true {
			return out.String()
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("job %s not done after 20 s; output so far %q", id, out.String())
	return ""
}

func TestAsyncJobOutlivesTheCaller(t *testing.T) {
	t.Parallel()
	s := startHost(t, jobMethods, "")
	// The caller starts the job and goes away at once: its context ends
	// and its connections are closed.
	ctx, cancel := context.WithCancel(context.Background())
	var id string
	if err := s.client.Call(ctx, "count", []any{map[string]any{"n": 20}}, &id); err != nil {
		t.Fatal(err)
	}
	cancel()
	second := s.mustCall(t, "count", 1).(string)
	if st := result(t, s.mustCall(t, "jobs.status", second)); st["state"] != program.StateQueued || st["queue_position"] != int64(1) {
		t.Errorf("second job beyond max_concurrent: status = %v, want queued at position 1", st)
	}

	// Another client follows the output from the start, then from the middle.
	got := follow(t, s, id, 0)
	var want strings.Builder
	for i := 1; i <= 20; i++ {
		fmt.Fprintf(&want, "line %d\n", i)
	}
	want.WriteString("done\n")
	if got != want.String() {
		t.Errorf("output = %q, want %q", got, want.String())
	}
	if tail := follow(t, s, id, int64(len("line 1\n"))); tail != want.String()[len("line 1\n"):] {
		t.Errorf("output from offset 7 = %q", tail)
	}
	st := result(t, s.mustCall(t, "jobs.status", id))
	if st["state"] != program.StateExited || st["exit_code"] != int64(7) || st["output_bytes"] != int64(want.Len()) {
		t.Errorf("status = %v, want exited with exit_code 7 and %d bytes", st, want.Len())
	}
	if _, err := s.call(t, "jobs.output", id, 10000); faultCode(err) != rpc.CodeInvalidParams {
		t.Errorf("offset past the end: error = %v, want invalid params", err)
	}
	if _, err := s.call(t, "jobs.status", "../../etc"); faultCode(err) != rpc.CodeInvalidParams {
		t.Errorf("unknown id: error = %v, want invalid params", err)
	}
}

func TestJobWaitAndCancel(t *testing.T) {
	t.Parallel()
	s := startHost(t, jobMethods, "")
	id := s.mustCall(t, "sleep", 30).(string)
	st := result(t, s.mustCall(t, "jobs.wait", id, 0.1))
	if st["state"] != program.StateRunning {
		t.Errorf("after a short wait: state = %v, want running", st["state"])
	}
	st = result(t, s.mustCall(t, "jobs.cancel", id))
	if st["state"] != program.StateCancelled || !strings.Contains(fmt.Sprint(st["error"]), "jobs.cancel") {
		t.Errorf("after cancel: %v, want cancelled by jobs.cancel", st)
	}
}

func TestJobOutputCap(t *testing.T) {
	t.Parallel()
	s := startHost(t, `
[[method]]
name = "noisy"
async = true
argv = ["sh", "-c", "i=0; while [ $i -lt 2000 ]; do echo 0123456789; i=$((i+1)); done"]
output_cap = 1000
`, "")
	id := s.mustCall(t, "noisy").(string)
	st := result(t, s.mustCall(t, "jobs.wait", id, 15))
	if st["state"] != program.StateExited || st["exit_code"] != int64(0) || st["truncated"] != true || st["output_bytes"] != int64(1000) {
		t.Errorf("status = %v, want exited 0 (the rest drained), truncated, 1000 bytes", st)
	}
	if got := follow(t, s, id, 0); len(got) != 1000 {
		t.Errorf("output is %d bytes, want 1000", len(got))
	}
}

func TestRestartKeepsFinishedJobs(t *testing.T) {
	t.Parallel()
	needTools(t)
	state := t.TempDir()
	path := writeMethods(t, jobMethods)
	f := mustLoad(t, path)
	s1 := startHostFile(t, f, state)
	done := s1.mustCall(t, "count", 2).(string)
	if st := result(t, s1.mustCall(t, "jobs.wait", done, 15)); st["state"] != program.StateExited {
		t.Fatalf("status = %v", st)
	}
	running := s1.mustCall(t, "sleep", 30).(string)
	s1.host.Close() // serve stops: the running job goes on under its runner

	s2 := startHostFile(t, f, state)
	st := result(t, s2.mustCall(t, "jobs.status", done))
	if st["state"] != program.StateExited || st["exit_code"] != int64(7) {
		t.Errorf("finished job after restart: %v, want exited 7", st)
	}
	if got := follow(t, s2, done, 0); got != "line 1\nline 2\ndone\n" {
		t.Errorf("output after restart = %q", got)
	}
	st = result(t, s2.mustCall(t, "jobs.status", running))
	if st["state"] != program.StateRunning {
		t.Errorf("job running when serve stopped: %v, want still running (adopted)", st)
	}
	list := s2.mustCall(t, "jobs.list").([]any)
	if len(list) != 2 || result(t, list[0])["id"] != done {
		t.Errorf("jobs.list = %v, want the 2 jobs, oldest first", list)
	}
	st = result(t, s2.mustCall(t, "jobs.cancel", running))
	if st["state"] != program.StateCancelled || st["error"] != "cancelled by jobs.cancel" || st["exit_code"] != int64(128+15) {
		t.Errorf("adopted job after jobs.cancel: %v, want cancelled by jobs.cancel, exit_code 143", st)
	}
}

func TestCancelJobsOnClose(t *testing.T) {
	t.Parallel()
	needTools(t)
	state := t.TempDir()
	f := mustLoad(t, writeMethods(t, jobMethods))
	cfg := hostConfig(t, state)
	cfg.CancelJobsOnClose = true
	h, err := program.New(f, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range h.Methods() {
		if m.Name == "count" { // max_concurrent 1: the second is queued
			for range 2 {
				id, err := m.Raw(context.Background(), []any{int64(1000)})
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, id.(string))
			}
		}
	}
	h.Close()
	s := startHostFile(t, f, state)
	for i, id := range ids {
		st := result(t, s.mustCall(t, "jobs.status", id))
		if st["state"] != program.StateCancelled || st["error"] != "serve stopped" {
			t.Errorf("job %d after Close with CancelJobsOnClose: %v, want cancelled, serve stopped", i, st)
		}
	}
}

// helperServe is a serve that starts a job and waits to be killed.
func helperServe() int {
	f, err := program.Load(os.Getenv("PROGRAM_TEST_METHODS"))
	if err != nil {
		fmt.Println(err)
		return 1
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Println(err)
		return 1
	}
	h, err := program.New(f, program.Config{StateDir: os.Getenv("PROGRAM_TEST_STATE"), RunnerCommand: []string{exe, program.RunnerArg}})
	if err != nil {
		fmt.Println(err)
		return 1
	}
	for _, m := range h.Methods() {
		if m.Name == "sleep" {
			secs, _ := strconv.ParseFloat(os.Getenv("PROGRAM_TEST_SECS"), 64)
			id, err := m.Raw(context.Background(), []any{secs})
			fmt.Println(id, err)
		}
	}
	time.Sleep(time.Minute)
	return 0
}

// startDyingServe runs helperServe, which starts a sleep job of secs
// seconds, prints its id and waits; it returns the id once the serve was
// killed with SIGKILL.
func startDyingServe(t *testing.T, path, state string, secs float64) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), "PROGRAM_TEST_HELPER=serve", "PROGRAM_TEST_METHODS="+path, "PROGRAM_TEST_STATE="+state, fmt.Sprintf("PROGRAM_TEST_SECS=%v", secs))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("helper: %v", err)
	}
	id, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
	if rest != "<nil>" {
		t.Fatalf("helper: %s", line)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	return id
}

func TestKilledServeJobIsAdopted(t *testing.T) {
	t.Parallel()
	needTools(t)
	state := t.TempDir()
	path := writeMethods(t, jobMethods)
	id := startDyingServe(t, path, state, 1.5)

	f := mustLoad(t, path)
	s := startHostFile(t, f, state)
	st := result(t, s.mustCall(t, "jobs.status", id))
	if st["state"] != program.StateRunning {
		t.Errorf("status after serve was killed = %v, want running (adopted)", st)
	}
	st = result(t, s.mustCall(t, "jobs.wait", id, 15))
	if st["state"] != program.StateExited || st["exit_code"] != int64(0) {
		t.Errorf("status at the end = %v, want exited 0", st)
	}
	data, err := os.ReadFile(filepath.Join(state, "jobs", id, "meta.json"))
	if err != nil || !bytes.Contains(data, []byte(`"state": "exited"`)) || !bytes.Contains(data, []byte(`"exit_code": 0`)) {
		t.Errorf("meta.json = %s, %v; want exited 0 on disk", data, err)
	}
}
