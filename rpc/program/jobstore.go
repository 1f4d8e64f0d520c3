package program

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"time"
)

// Job states.
const (
	StateQueued    = "queued"    // waiting for a free slot (max_concurrent)
	StateRunning   = "running"   // its runner and program run
	StateExited    = "exited"    // ended on its own; see exit_code
	StateTimeout   = "timeout"   // killed after the method's timeout
	StateCancelled = "cancelled" // jobs.cancel, or serve stopped with cancel-on-close
	StateFailed    = "failed"    // a queued job whose program could not be started
	StateLost      = "lost"      // its runner vanished without recording an end
)

// ended reports whether a state is final.
func ended(state string) bool { return state != StateQueued && state != StateRunning }

// runnerID identifies a job's runner process beyond its pid, which the
// system may give to another process once it has ended.
type runnerID struct {
	PID   int    `json:"pid"`
	Start uint64 `json:"start_ticks"` // /proc/PID/stat start time
	Boot  string `json:"boot_id"`
}

// jobMeta is a job's meta.json, written by serve.
type jobMeta struct {
	ID          string    `json:"id"`
	Method      string    `json:"method"`
	State       string    `json:"state"`
	ExitCode    *int      `json:"exit_code,omitempty"`
	PID         int       `json:"pid"`
	Created     time.Time `json:"created,omitzero"`
	Started     time.Time `json:"started,omitzero"`
	Ended       time.Time `json:"ended,omitzero"`
	OutputBytes int64     `json:"output_bytes"`
	Truncated   bool      `json:"truncated"`
	Error       string    `json:"error,omitempty"`
	Key         string    `json:"idempotency_key,omitempty"`
	Runner      *runnerID `json:"runner,omitempty"`
}

// jobSpec is a job's spec.json: what to run, kept while it is queued.
type jobSpec struct {
	Argv []string `json:"argv"`
}

// runnerRecord is a job's runner.json, written by its runner once the
// program runs.
type runnerRecord struct {
	Runner     runnerID  `json:"runner"`
	ProgramPID int       `json:"program_pid"`
	Started    time.Time `json:"started"`
}

// exitRecord is a job's exit.json, written by its runner when the
// program has ended.
type exitRecord struct {
	State       string    `json:"state"`
	ExitCode    int       `json:"exit_code"`
	Ended       time.Time `json:"ended"`
	OutputBytes int64     `json:"output_bytes"`
	Truncated   bool      `json:"truncated"`
	Error       string    `json:"error,omitempty"`
}

// Files of a job's directory.
const (
	metaFile   = "meta.json"
	specFile   = "spec.json"
	runnerFile = "runner.json"
	exitFile   = "exit.json"
	cancelFile = "cancel"
	outputFile = "output"
)

var reJobID = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}-[0-9a-f]{8}$`)

// newJobID is sortable by start time and unguessable enough to not collide.
func newJobID(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format("20060102T150405") + "-" + hex.EncodeToString(b[:])
}

// writeJSON replaces dir/name atomically with v as JSON.
func writeJSON(dir, name string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(dir, name, append(data, '\n'))
}

// writeAtomic replaces dir/name atomically (temp file, fsync, rename): a
// reader sees the old contents or the new, never half of them, and a
// symlink planted at the name is replaced, not followed.
func writeAtomic(dir, name string, data []byte) error {
	tmp, err := os.CreateTemp(dir, "."+name+"-*.tmp")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, name))
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

func writeMeta(dir string, m jobMeta) error { return writeJSON(dir, metaFile, m) }

// maxRecord bounds what is read of a record file.
const maxRecord = 1 << 20

// readJSON reads dir/name into v through openJobFile (no symlinks, a
// regular file of serve's user). A missing file is fs.ErrNotExist.
func readJSON(dir, name string, v any) error {
	path := filepath.Join(dir, name)
	f, err := openJobFile(path, os.O_RDONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxRecord))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func readMeta(dir string) (jobMeta, error) {
	var m jobMeta
	err := readJSON(dir, metaFile, &m)
	if err == nil && m.Created.IsZero() {
		m.Created = m.Started // a record from before the queue
	}
	return m, err
}

// outputSize is the size of a job's output file so far.
func outputSize(dir string) int64 {
	if fi, err := os.Lstat(filepath.Join(dir, outputFile)); err == nil && fi.Mode().IsRegular() {
		return fi.Size()
	}
	return 0
}

// applyExit folds a runner's exit record into the job's record.
func applyExit(m *jobMeta, x exitRecord) {
	m.State, m.Ended, m.OutputBytes, m.Truncated, m.Error = x.State, x.Ended, x.OutputBytes, x.Truncated, x.Error
	code := x.ExitCode
	m.ExitCode = &code
}

// settle brings a job that was queued or running when its record was
// written up to date with its directory: an exit recorded by its
// runner, a runner that still runs (adopted), or one that vanished
// (lost). It reports whether m changed.
func settle(dir string, m *jobMeta) (bool, error) {
	if ended(m.State) {
		return false, nil
	}
	changed := false
	var rr runnerRecord
	switch err := readJSON(dir, runnerFile, &rr); {
	case err == nil:
		if m.Runner == nil { // serve stopped before it recorded the start
			m.State, m.PID, m.Started, m.Runner = StateRunning, rr.ProgramPID, rr.Started, &rr.Runner
			changed = true
		}
	case errors.Is(err, fs.ErrNotExist):
		if m.State == StateQueued {
			if _, err := os.Lstat(filepath.Join(dir, outputFile)); err == nil {
				// Its runner had begun (it creates the output first) when serve
				// stopped: starting it again could run the program twice.
				m.State, m.OutputBytes = StateLost, outputSize(dir)
				m.Error = "serve stopped while the job's runner was starting it; it may have started, unwatched"
				return true, nil
			}
			return false, nil
		}
	default:
		return false, err
	}
	var x exitRecord
	switch err := readJSON(dir, exitFile, &x); {
	case err == nil:
		applyExit(m, x)
		return true, nil
	case !errors.Is(err, fs.ErrNotExist):
		return false, err
	}
	if m.Runner != nil && m.Runner.alive() {
		return changed, nil
	}
	// The runner may have written its record just before it ended.
	if err := readJSON(dir, exitFile, &x); err == nil {
		applyExit(m, x)
		return true, nil
	}
	m.State = StateLost
	m.OutputBytes = outputSize(dir)
	if m.Runner == nil {
		m.Error = fmt.Sprintf("serve stopped while the job ran (pid %d); it may still be running, unwatched", m.PID)
	} else {
		m.Error = fmt.Sprintf("its runner (pid %d) ended without recording how the program ended; the program (pid %d) may still be running, unwatched", m.Runner.PID, m.PID)
	}
	return true, nil
}

// loadJobs reads the jobs of a previous serve: finished ones as they
// are, running ones adopted while their runner lives (else lost), queued
// ones queued again in their order.
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
		changed, err := settle(jdir, &m)
		if err != nil {
			log.Warn("skipping unreadable job", "dir", jdir, "err", err)
			continue
		}
		if changed {
			if err := writeMeta(jdir, m); err != nil {
				return nil, fmt.Errorf("record job %s: %w", m.ID, err)
			}
			if m.State == StateLost {
				log.Info("job lost", "id", m.ID, "method", m.Method, "pid", m.PID)
			}
		}
		j := &job{dir: jdir, method: m.Method, key: m.Key, meta: m, done: make(chan struct{})}
		switch m.State {
		case StateQueued:
			var spec jobSpec
			if err := readJSON(jdir, specFile, &spec); err != nil {
				j.meta.State, j.meta.Error = StateFailed, fmt.Sprintf("its spec cannot be read: %v", err)
				_ = writeMeta(jdir, j.meta)
				close(j.done)
			} else {
				j.argv = spec.Argv
			}
		case StateRunning:
			log.Info("job adopted", "id", m.ID, "method", m.Method, "pid", m.PID)
		default:
			close(j.done)
		}
		jobs[m.ID] = j
	}
	return jobs, nil
}

// byCreation orders jobs as they were accepted.
func byCreation(a, b jobMeta) int {
	if c := a.Created.Compare(b.Created); c != 0 {
		return c
	}
	return compareStrings(a.ID, b.ID)
}

func sortMetas(ms []jobMeta) { slices.SortFunc(ms, byCreation) }
