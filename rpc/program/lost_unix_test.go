//go:build unix

package program_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rpcssh/rpcssh/rpc/program"
)

func TestRestartMarksLostJobs(t *testing.T) {
	t.Parallel()
	needTools(t)
	state := t.TempDir()
	path := writeMethods(t, jobMethods)
	id := startDyingServe(t, path, state, 30)
	// The runner vanishes too (an OOM kill, say): nobody records the end.
	var meta struct {
		PID    int `json:"pid"`
		Runner struct {
			PID int `json:"pid"`
		} `json:"runner"`
	}
	data, err := os.ReadFile(filepath.Join(state, "jobs", id, "meta.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &meta); err != nil || meta.Runner.PID == 0 {
		t.Fatalf("meta.json = %s: %v", data, err)
	}
	syscall.Kill(meta.Runner.PID, syscall.SIGKILL)
	t.Cleanup(func() { syscall.Kill(-meta.PID, syscall.SIGKILL) })
	deadline := time.Now().Add(10 * time.Second)
	for syscall.Kill(meta.Runner.PID, 0) == nil && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond) // until init has reaped it
	}

	f := mustLoad(t, path)
	s := startHostFile(t, f, state)
	st := result(t, s.mustCall(t, "jobs.status", id))
	if st["state"] != program.StateLost || !strings.Contains(fmt.Sprint(st["error"]), "runner") {
		t.Errorf("status = %v, want lost (its runner vanished)", st)
	}
	if r := result(t, s.mustCall(t, "jobs.output", id, 0)); r["done"] != true {
		t.Errorf("output of a lost job: %v, want done", r)
	}
	data, err = os.ReadFile(filepath.Join(state, "jobs", id, "meta.json"))
	if err != nil || !bytes.Contains(data, []byte(`"state": "lost"`)) {
		t.Errorf("meta.json = %s, %v; want state lost on disk", data, err)
	}
}
