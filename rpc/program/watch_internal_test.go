package program

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// A job's end is seen when its runner records it (it closes its ready
// pipe) or vanishes (serve reaps it), not at the watcher's next poll:
// with polls an hour apart, jobs.wait and jobs.cancel still return as
// soon as the job has ended, and a killed runner's job is found lost.
func TestRunnerEndsAreSeenWithoutPolling(t *testing.T) {
	t.Parallel()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	trueProg, err := exec.LookPath("true")
	if err != nil {
		t.Skip("true not found")
	}
	sleepProg, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("sleep not found")
	}
	f, err := Parse("methods.toml", t.TempDir(), []byte(`
[[method]]
name = "quick"
async = true
argv = ["`+trueProg+`"]

[[method]]
name = "hang"
async = true
argv = ["`+sleepProg+`", "60"]
max_concurrent = 2
kill_grace = "200ms"
`))
	if err != nil {
		t.Fatal(err)
	}
	s, err := openStore(t.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	s.interval = time.Hour
	s.begin([]string{exe, RunnerArg}, JobLimits{}, f.Methods, func(*Method) []string { return nil })
	t.Cleanup(func() { s.close(true) })
	method := func(name string) *Method {
		for i := range f.Methods {
			if f.Methods[i].Name == name {
				return &f.Methods[i]
			}
		}
		t.Fatalf("no method %s", name)
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()

	id, err := s.start(method("quick"), []string{trueProg}, "")
	if err != nil {
		t.Fatal(err)
	}
	if st, err := s.wait(ctx, id, 30); err != nil || st["state"] != StateExited {
		t.Errorf("jobs.wait: %v, %v; want exited", st, err)
	}

	id, err = s.start(method("hang"), []string{sleepProg, "60"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if st, err := s.cancelJob(ctx, id); err != nil || st["state"] != StateCancelled {
		t.Errorf("jobs.cancel: %v, %v; want cancelled", st, err)
	}

	id, err = s.start(method("hang"), []string{sleepProg, "60"}, "")
	if err != nil {
		t.Fatal(err)
	}
	m, err := readMeta(filepath.Join(s.dir, id))
	if err != nil || m.Runner == nil {
		t.Fatalf("meta.json: %+v, %v", m, err)
	}
	t.Cleanup(func() { syscall.Kill(-m.PID, syscall.SIGKILL) })
	if err := syscall.Kill(m.Runner.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if st, err := s.wait(ctx, id, 30); err != nil || st["state"] != StateLost {
		t.Errorf("jobs.wait after its runner was killed: %v, %v; want lost", st, err)
	}
}
