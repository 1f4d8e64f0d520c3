package program_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rpcssh/rpcssh/rpc"
	"github.com/rpcssh/rpcssh/rpc/program"
)

// queueMethods' step runs until its gate file exists (at most 30 s), so
// a test decides when the job running ends, however slow the machine.
const queueMethods = `
[[method]]
name = "step"
async = true
argv = ["sh", "-c", 'echo start $0; i=0; while [ ! -e "$1" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done; echo end $0', "{n}", "{gate}"]
max_concurrent = 1
max_queued = 4
[[method.param]]
name = "n"
type = "int"
[[method.param]]
name = "gate"
type = "string"

[[method]]
name = "other"
async = true
argv = ["true"]
env = ["PATH"]
`

func TestQueueRunsInOrderAcrossRestart(t *testing.T) {
	t.Parallel()
	needTools(t)
	state := t.TempDir()
	f := mustLoad(t, writeMethods(t, queueMethods))
	s1 := startHostFile(t, f, state)
	gate, openGate := newGate(t)
	var ids []string
	for i := range 5 {
		ids = append(ids, s1.mustCall(t, "step", i, gate).(string))
	}
	if _, err := s1.call(t, "step", 5, gate); faultCode(err) != rpc.CodeApplication || !strings.Contains(err.Error(), "max_queued = 4") {
		t.Errorf("a sixth start: error = %v, want a busy fault naming max_queued", err)
	}
	for i, id := range ids {
		st := result(t, s1.mustCall(t, "jobs.status", id))
		wantState, wantPos := program.StateQueued, i
		if i == 0 {
			wantState = program.StateRunning
		}
		if st["state"] != wantState || (i > 0 && st["queue_position"] != int64(wantPos)) {
			t.Errorf("job %d: status = %v, want %s at queue position %d", i, st, wantState, wantPos)
		}
	}
	s1.host.Close() // serve restarts with four jobs queued: none is lost

	s2 := startHostFile(t, f, state)
	openGate()
	var prevEnd time.Time
	for i, id := range ids {
		st := result(t, s2.mustCall(t, "jobs.wait", id, 30))
		if st["state"] != program.StateExited || st["exit_code"] != int64(0) {
			t.Fatalf("job %d: status = %v, want exited 0", i, st)
		}
		if got, want := follow(t, s2, id, 0), "start "+string(rune('0'+i))+"\nend "+string(rune('0'+i))+"\n"; got != want {
			t.Errorf("job %d: output = %q, want %q", i, got, want)
		}
		started, ended := st["started"].(time.Time), st["ended"].(time.Time)
		if started.Before(prevEnd) {
			t.Errorf("job %d started at %v, before job %d ended at %v: want one at a time, in order", i, started, i-1, prevEnd)
		}
		prevEnd = ended
	}
}

func TestQueuedJobCancel(t *testing.T) {
	t.Parallel()
	s := startHost(t, queueMethods, "")
	gate, openGate := newGate(t)
	first := s.mustCall(t, "step", 1, gate).(string)
	queued := s.mustCall(t, "step", 2, gate).(string)
	last := s.mustCall(t, "step", 3, gate).(string)
	st := result(t, s.mustCall(t, "jobs.cancel", queued))
	if st["state"] != program.StateCancelled || st["error"] != "cancelled by jobs.cancel" {
		t.Errorf("queued job after jobs.cancel: %v, want cancelled", st)
	}
	if st := result(t, s.mustCall(t, "jobs.status", last)); st["queue_position"] != int64(1) {
		t.Errorf("the job behind it: %v, want queue position 1", st)
	}
	openGate()
	for _, id := range []string{first, last} {
		if st := result(t, s.mustCall(t, "jobs.wait", id, 30)); st["state"] != program.StateExited {
			t.Errorf("job %s: %v, want exited", id, st)
		}
	}
}

// newGate returns the path of a step job's gate and a func that opens it,
// which also runs when the test ends.
func newGate(t *testing.T) (string, func()) {
	t.Helper()
	gate := filepath.Join(t.TempDir(), "gate")
	open := func() {
		if err := os.WriteFile(gate, nil, 0o600); err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(open) // before TempDir's removal: cleanups run last first
	return gate, open
}

// callKeyed starts method with an Idempotency-Key header.
func callKeyed(t *testing.T, s *testServer, key, method string, args ...any) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ctx = rpc.WithHeader(ctx, http.Header{program.IdempotencyHeader: {key}})
	var id string
	err := s.client.Call(ctx, method, args, &id)
	return id, err
}

func TestIdempotencyKeyStartsOneJob(t *testing.T) {
	t.Parallel()
	s := startHost(t, queueMethods, "")
	gate, openGate := newGate(t)
	openGate()
	a, err := callKeyed(t, s, "run-42", "step", 1, gate)
	if err != nil {
		t.Fatal(err)
	}
	b, err := callKeyed(t, s, "run-42", "step", 1, gate)
	if err != nil || b != a {
		t.Errorf("second start with the same key = %q, %v; want the first job %q", b, err, a)
	}
	if list := s.mustCall(t, "jobs.list").([]any); len(list) != 1 {
		t.Errorf("jobs.list has %d jobs, want 1", len(list))
	}
	c, err := callKeyed(t, s, "run-43", "step", 1, gate)
	if err != nil || c == a {
		t.Errorf("another key = %q, %v; want a new job", c, err)
	}
	if _, err := callKeyed(t, s, "run-42", "other"); faultCode(err) != rpc.CodeInvalidParams {
		t.Errorf("the key for another method: error = %v, want invalid params", err)
	}
	if _, err := callKeyed(t, s, "bad key", "step", 1, gate); faultCode(err) != rpc.CodeInvalidParams {
		t.Errorf("a key with a space: error = %v, want invalid params", err)
	}
	// After a restart the key still names the job.
	s.host.Close()
	s2 := startHostFile(t, mustLoad(t, filepath.Join(s.dir, "methods.toml")), s.state)
	if d, err := callKeyed(t, s2, "run-42", "step", 1, gate); err != nil || d != a {
		t.Errorf("the key after a restart = %q, %v; want %q", d, err, a)
	}
	waitEnded(t, s2, a, c)
}

// waitEnded waits for the jobs to end, so that no runner still writes in
// the state directory when the test removes it.
func waitEnded(t *testing.T, s *testServer, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if id == "" {
			continue
		}
		if st := result(t, s.mustCall(t, "jobs.wait", id, 30)); st["state"] == program.StateRunning {
			t.Errorf("job %s still runs after 30 s: %v", id, st)
		}
	}
}

// A queued job whose runner had begun (its output exists) when serve
// stopped is not started a second time.
func TestQueuedJobWithStartedRunnerIsNotStartedAgain(t *testing.T) {
	t.Parallel()
	needTools(t)
	state := t.TempDir()
	f := mustLoad(t, writeMethods(t, queueMethods))
	s1 := startHostFile(t, f, state)
	gate, openGate := newGate(t)
	first := s1.mustCall(t, "step", 1, gate).(string)
	queued := s1.mustCall(t, "step", 2, gate).(string)
	s1.host.Close()
	if err := os.WriteFile(filepath.Join(state, "jobs", queued, "output"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s2 := startHostFile(t, f, state)
	st := result(t, s2.mustCall(t, "jobs.status", queued))
	if st["state"] != program.StateLost {
		t.Errorf("status = %v, want lost (never started twice)", st)
	}
	if r := result(t, s2.mustCall(t, "jobs.output", queued, 0)); r["done"] != true {
		t.Errorf("output = %v, want done", r)
	}
	openGate()
	waitEnded(t, s2, first)
}
