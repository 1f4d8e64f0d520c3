package program_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rpcssh/rpcssh/rpc"
	"github.com/rpcssh/rpcssh/rpc/program"
)

func TestMaxJobsRemovesOldestFinished(t *testing.T) {
	t.Parallel()
	s := startHost(t, `
[jobs]
max_jobs = 3

[[method]]
name = "quick"
async = true
argv = ["echo", "{n}"]
env = ["PATH"]
[[method.param]]
name = "n"
type = "int"

[[method]]
name = "hang"
async = true
argv = ["sleep", "30"]
env = ["PATH"]
kill_grace = "100ms"
`, "")
	var ids []string
	for i := range 5 {
		id := s.mustCall(t, "quick", i).(string)
		if st := result(t, s.mustCall(t, "jobs.wait", id, 15)); st["state"] != program.StateExited {
			t.Fatalf("job %d: %v", i, st)
		}
		ids = append(ids, id)
	}
	list := s.mustCall(t, "jobs.list").([]any)
	var got []string
	for _, x := range list {
		got = append(got, result(t, x)["id"].(string))
	}
	if strings.Join(got, " ") != strings.Join(ids[2:], " ") {
		t.Errorf("jobs kept = %v, want the 3 newest %v", got, ids[2:])
	}
	for _, id := range ids[:2] {
		if _, err := os.Stat(filepath.Join(s.state, "jobs", id)); !os.IsNotExist(err) {
			t.Errorf("directory of removed job %s: %v, want gone", id, err)
		}
		if _, err := s.call(t, "jobs.status", id); faultCode(err) != rpc.CodeInvalidParams {
			t.Errorf("status of removed job: %v, want no such job", err)
		}
	}
	// Three jobs that do not end fill the store: the next start is refused.
	var hung []string
	for range 3 {
		hung = append(hung, s.mustCall(t, "hang").(string))
	}
	if _, err := s.call(t, "quick", 9); faultCode(err) != rpc.CodeApplication || !strings.Contains(err.Error(), "max_jobs = 3") {
		t.Errorf("start with the store full of running jobs: error = %v, want a fault naming max_jobs", err)
	}
	for _, id := range hung {
		s.mustCall(t, "jobs.cancel", id)
	}
}

func TestOutputQuotaRefusesAStart(t *testing.T) {
	t.Parallel()
	s := startHost(t, `
[jobs]
max_output = "2500B"

[[method]]
name = "write"
async = true
argv = ["sh", "-c", "head -c 1000 /dev/zero | tr '\\0' x; sleep $0", "{s}"]
env = ["PATH"]
output_cap = "1KiB"
kill_grace = "100ms"
[[method.param]]
name = "s"
type = "double"
`, "")
	// Two finished jobs hold 2000 bytes; a running one may write 1 KiB:
	// 2000 + 1024 is over 2500, so the oldest finished one is removed.
	var ids []string
	for range 2 {
		id := s.mustCall(t, "write", 0).(string)
		s.mustCall(t, "jobs.wait", id, 15)
		ids = append(ids, id)
	}
	running := s.mustCall(t, "write", 30).(string)
	if _, err := s.call(t, "jobs.status", ids[0]); faultCode(err) != rpc.CodeInvalidParams {
		t.Errorf("oldest finished job: %v, want removed to make room", err)
	}
	if _, err := s.call(t, "jobs.status", ids[1]); err != nil {
		t.Errorf("newer finished job: %v, want kept", err)
	}
	// Running ones are never removed: with two running (2 KiB) the other
	// finished one goes too, and a third is refused.
	running2 := s.mustCall(t, "write", 30).(string)
	if _, err := s.call(t, "jobs.status", ids[1]); faultCode(err) != rpc.CodeInvalidParams {
		t.Errorf("finished job: %v, want removed to make room", err)
	}
	if _, err := s.call(t, "write", 30); faultCode(err) != rpc.CodeApplication || !strings.Contains(err.Error(), "output quota") {
		t.Errorf("start over the output quota: error = %v, want an output quota fault", err)
	}
	s.mustCall(t, "jobs.cancel", running)
	s.mustCall(t, "jobs.cancel", running2)
}

func TestRetentionRemovesOldFinishedJobs(t *testing.T) {
	t.Parallel()
	s := startHost(t, `
[jobs]
retention = "1s"

[[method]]
name = "quick"
async = true
argv = ["true"]
env = ["PATH"]
`, "")
	old := s.mustCall(t, "quick").(string)
	s.mustCall(t, "jobs.wait", old, 15)
	time.Sleep(1500 * time.Millisecond)
	fresh := s.mustCall(t, "quick").(string)
	if _, err := s.call(t, "jobs.status", old); faultCode(err) != rpc.CodeInvalidParams {
		t.Errorf("job finished longer than retention ago: %v, want removed", err)
	}
	if _, err := s.call(t, "jobs.status", fresh); err != nil {
		t.Errorf("new job: %v", err)
	}
}

func TestJobsListIsPaged(t *testing.T) {
	t.Parallel()
	s := startHost(t, `
[[method]]
name = "quick"
async = true
argv = ["true"]
env = ["PATH"]
max_concurrent = 1
`, "")
	var ids []string
	for range 5 {
		ids = append(ids, s.mustCall(t, "quick").(string))
	}
	var got []string
	for offset := int64(0); ; offset += 2 {
		page := s.mustCall(t, "jobs.list", offset, 2).([]any)
		for _, x := range page {
			got = append(got, result(t, x)["id"].(string))
		}
		if len(page) < 2 {
			break
		}
	}
	if strings.Join(got, " ") != strings.Join(ids, " ") {
		t.Errorf("pages = %v, want %v", got, ids)
	}
	if _, err := s.call(t, "jobs.list", 0, 100000); faultCode(err) != rpc.CodeInvalidParams {
		t.Errorf("limit 100000: error = %v, want invalid params", err)
	}
}

func TestJobsFileBounds(t *testing.T) {
	for _, tt := range []struct{ toml, want string }{
		{"[jobs]\nmax_jobs = 0\n", "max_jobs 0"},
		{"[jobs]\nretention = \"soon\"\n", "retention \"soon\""},
		{"[jobs]\nmax_output = \"lots\"\n", "max_output"},
		{"[jobs]\nkeep = 3\n", "unknown key"},
	} {
		_, err := program.Parse("m.toml", "/", []byte(tt.toml+"[[method]]\nname = \"a\"\nargv = [\"true\"]\nasync = true\n"))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error = %v, want %q", tt.toml, err, tt.want)
		}
	}
	_, err := program.Parse("m.toml", "/", []byte("[[method]]\nname = \"a\"\nargv = [\"true\"]\nmax_queued = 3\n"))
	if err == nil || !strings.Contains(err.Error(), "async") {
		t.Errorf("max_queued on a sync method: error = %v, want refused", err)
	}
}
