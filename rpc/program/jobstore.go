package program

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"time"
)

// Job states.
const (
	StateRunning   = "running"
	StateExited    = "exited"    // ended on its own; see exit_code
	StateTimeout   = "timeout"   // killed after the method's timeout
	StateCancelled = "cancelled" // jobs.cancel, or serve stopped
	StateLost      = "lost"      // serve died while it ran; its fate is unknown
)

// jobMeta is a job's meta.json.
type jobMeta struct {
	ID          string    `json:"id"`
	Method      string    `json:"method"`
	State       string    `json:"state"`
	ExitCode    *int      `json:"exit_code,omitempty"`
	PID         int       `json:"pid"`
	Started     time.Time `json:"started"`
	Ended       time.Time `json:"ended,omitzero"`
	OutputBytes int64     `json:"output_bytes"`
	Truncated   bool      `json:"truncated"`
	Error       string    `json:"error,omitempty"`
}

var reJobID = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}-[0-9a-f]{8}$`)

// newJobID is sortable by start time and unguessable enough to not collide.
func newJobID(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format("20060102T150405") + "-" + hex.EncodeToString(b[:])
}

// writeMeta replaces dir/meta.json atomically (temp file, fsync, rename).
func writeMeta(dir string, m jobMeta) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".meta-*.tmp")
	if err != nil {
		return err
	}
	_, err = tmp.Write(append(data, '\n'))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, "meta.json"))
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

func readMeta(dir string) (jobMeta, error) {
	var m jobMeta
	data, err := os.ReadFile(filepath.Join(dir, "meta.json"))
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("%s: %w", filepath.Join(dir, "meta.json"), err)
	}
	return m, nil
}

// loadJobs reads the jobs of a previous serve; those it left running are
// marked lost on disk.
func loadJobs(dir string, log *slog.Logger) (map[string]*job, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	jobs := map[string]*job{}
	for _, e := range entries {
		if !e.IsDir() || !reJobID.MatchString(e.Name()) {
			continue
		}
		jdir := filepath.Join(dir, e.Name())
		m, err := readMeta(jdir)
		if err != nil || m.ID != e.Name() {
			log.Warn("skipping unreadable job", "dir", jdir, "err", err)
			continue
		}
		if m.State == StateRunning {
			m.State = StateLost
			m.Error = fmt.Sprintf("serve stopped while the job ran (pid %d); it may still be running, unwatched", m.PID)
			if fi, err := os.Stat(filepath.Join(jdir, "output")); err == nil {
				m.OutputBytes = fi.Size()
			}
			if err := writeMeta(jdir, m); err != nil {
				return nil, fmt.Errorf("mark job %s lost: %w", m.ID, err)
			}
			log.Info("job lost", "id", m.ID, "method", m.Method, "pid", m.PID)
		}
		done := make(chan struct{})
		close(done)
		jobs[m.ID] = &job{dir: jdir, meta: m, done: done}
	}
	return jobs, nil
}
