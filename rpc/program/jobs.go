package program

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/rpcssh/rpcssh/rpc"
)

var (
	errCancelled    = errors.New("cancelled by jobs.cancel")
	errServeStopped = errors.New("serve stopped")
)

// Bounds of jobs.output chunks.
const (
	DefaultChunk = 1 << 20
	MaxChunk     = 16 << 20
)

type job struct {
	dir    string
	done   chan struct{} // closed when the job has ended
	cancel context.CancelCauseFunc
	out    *capFile // while running

	mu   sync.Mutex
	meta jobMeta
}

func (j *job) snapshot() jobMeta {
	j.mu.Lock()
	defer j.mu.Unlock()
	m := j.meta
	if j.out != nil && m.State == StateRunning {
		m.OutputBytes, m.Truncated, _ = j.out.state()
	}
	return m
}

type jobStore struct {
	dir string
	log *slog.Logger
	wg  sync.WaitGroup

	mu      sync.Mutex
	jobs    map[string]*job
	running map[string]int // per method
	closed  bool
}

func openStore(stateDir string, log *slog.Logger) (*jobStore, error) {
	dir := filepath.Join(stateDir, "jobs")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("program: state directory: %w", err)
	}
	for _, d := range []string{stateDir, dir} {
		fi, err := os.Stat(d)
		if err != nil {
			return nil, fmt.Errorf("program: state directory: %w", err)
		}
		if fi.Mode().Perm()&0o002 != 0 {
			return nil, fmt.Errorf("program: state directory %s is world-writable (mode %04o): anyone could change job records; chmod 700 it", d, fi.Mode().Perm())
		}
	}
	jobs, err := loadJobs(dir, log)
	if err != nil {
		return nil, fmt.Errorf("program: state directory: %w", err)
	}
	return &jobStore{dir: dir, log: log, jobs: jobs, running: map[string]int{}}, nil
}

// start launches a job: its ctx is the store's (serve's) lifetime, not
// the request's, so it outlives the caller and the SSH link.
func (s *jobStore) start(m *Method, argv, env []string) (string, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return "", faultf(codeApplication, "%s: serve is stopping", m.Name)
	}
	if s.running[m.Name] >= m.MaxConcurrent {
		n := s.running[m.Name]
		s.mu.Unlock()
		return "", faultf(codeApplication, "%s: busy: %d jobs running (max_concurrent = %d); try later or cancel one (jobs.list)", m.Name, n, m.MaxConcurrent)
	}
	s.running[m.Name]++
	s.wg.Add(1)
	s.mu.Unlock()
	release := func() {
		s.mu.Lock()
		s.running[m.Name]--
		s.mu.Unlock()
		s.wg.Done()
	}

	now := time.Now()
	id := newJobID(now)
	dir := filepath.Join(s.dir, id)
	fail := func(err error) (string, error) {
		os.RemoveAll(dir)
		release()
		var f *rpc.Fault
		if errors.As(err, &f) {
			return "", err
		}
		return "", faultf(codeApplication, "%s: job %s: %v", m.Name, id, err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return fail(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "output"), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fail(err)
	}
	out := &capFile{f: f, max: m.OutputCap}
	p, err := start(m, argv, env, out, out)
	if err != nil {
		f.Close()
		return fail(err)
	}
	meta := jobMeta{ID: id, Method: m.Name, State: StateRunning, PID: p.pid, Started: p.started}
	ctx, cancel := context.WithCancelCause(context.Background())
	if err := writeMeta(dir, meta); err != nil {
		cancel(err)
		p.wait(ctx, 0, 0)
		f.Close()
		return fail(err)
	}
	j := &job{dir: dir, done: make(chan struct{}), cancel: cancel, out: out, meta: meta}
	s.mu.Lock()
	s.jobs[id] = j
	s.mu.Unlock()
	s.log.Info("job started", "id", id, "method", m.Name, "pid", p.pid)

	go func() {
		defer release()
		o := p.wait(ctx, m.Timeout, m.KillGrace)
		cancel(nil)
		n, truncated, werr := out.state()
		f.Close()
		j.mu.Lock()
		j.meta.Ended = p.started.Add(o.duration)
		j.meta.OutputBytes, j.meta.Truncated = n, truncated
		switch {
		case o.timedOut:
			j.meta.State, j.meta.Error = StateTimeout, fmt.Sprintf("timed out after %s; its process group was killed", m.Timeout)
		case o.stopped != nil:
			j.meta.State, j.meta.Error = StateCancelled, o.stopped.Error()
		default:
			j.meta.State = StateExited
		}
		code := o.exitCode
		j.meta.ExitCode = &code
		if werr != nil {
			j.meta.Error = "writing output: " + werr.Error()
		}
		meta := j.meta
		j.out = nil
		j.mu.Unlock()
		if err := writeMeta(dir, meta); err != nil {
			s.log.Error("job record", "id", id, "err", err)
		}
		close(j.done)
		s.log.Info("job ended", "id", id, "method", m.Name, "state", meta.State, "exit_code", code)
	}()
	return id, nil
}

func (s *jobStore) close() {
	s.mu.Lock()
	s.closed = true
	for _, j := range s.jobs {
		if j.cancel != nil {
			j.cancel(errServeStopped)
		}
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *jobStore) get(id string) (*job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[id]
	if !ok {
		return nil, faultf(codeInvalidParams, "no job %s (see jobs.list)", quoteShort(id))
	}
	return j, nil
}

// status is the XML-RPC form of a job's state.
func status(m jobMeta) map[string]any {
	st := map[string]any{
		"id":           m.ID,
		"method":       m.Method,
		"state":        m.State,
		"pid":          m.PID,
		"started":      m.Started,
		"output_bytes": m.OutputBytes,
		"truncated":    m.Truncated,
	}
	end := time.Now()
	if !m.Ended.IsZero() {
		st["ended"] = m.Ended
		end = m.Ended
	}
	if m.State != StateLost || !m.Ended.IsZero() {
		st["duration_s"] = end.Sub(m.Started).Seconds()
	}
	if m.ExitCode != nil {
		st["exit_code"] = *m.ExitCode
	}
	if m.Error != "" {
		st["error"] = m.Error
	}
	return st
}

func (s *jobStore) status(id string) (map[string]any, error) {
	j, err := s.get(id)
	if err != nil {
		return nil, err
	}
	return status(j.snapshot()), nil
}

func (s *jobStore) list() []map[string]any {
	s.mu.Lock()
	metas := make([]jobMeta, 0, len(s.jobs))
	for _, j := range s.jobs {
		metas = append(metas, j.snapshot())
	}
	s.mu.Unlock()
	slices.SortFunc(metas, func(a, b jobMeta) int {
		if c := a.Started.Compare(b.Started); c != 0 {
			return c
		}
		return compareStrings(a.ID, b.ID)
	})
	out := make([]map[string]any, len(metas))
	for i, m := range metas {
		out[i] = status(m)
	}
	return out
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// wait waits up to timeout (and as long as the caller does) for the job
// to end, and returns its status either way.
func (s *jobStore) wait(ctx context.Context, id string, timeout float64) (map[string]any, error) {
	j, err := s.get(id)
	if err != nil {
		return nil, err
	}
	if timeout < 0 || timeout > 1e9 {
		return nil, faultf(codeInvalidParams, "jobs.wait: timeout_s %v: want 0 or more seconds", timeout)
	}
	t := time.NewTimer(time.Duration(timeout * float64(time.Second)))
	defer t.Stop()
	select {
	case <-j.done:
	case <-t.C:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return status(j.snapshot()), nil
}

// cancel stops a running job (SIGTERM, SIGKILL after its kill_grace) and
// returns its status once it has ended; a finished job is left as it is.
func (s *jobStore) cancelJob(ctx context.Context, id string) (map[string]any, error) {
	j, err := s.get(id)
	if err != nil {
		return nil, err
	}
	if j.cancel != nil {
		j.cancel(errCancelled)
	}
	select {
	case <-j.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return status(j.snapshot()), nil
}

// output returns the job's combined output from offset: at most max
// bytes, not ending inside a character while more may follow.
func (s *jobStore) output(id string, offset, max int64) (map[string]any, error) {
	j, err := s.get(id)
	if err != nil {
		return nil, err
	}
	if max <= 0 || max > MaxChunk {
		return nil, faultf(codeInvalidParams, "jobs.output: max_bytes %d: want 1 to %d", max, MaxChunk)
	}
	before := j.snapshot()
	f, err := os.Open(filepath.Join(j.dir, "output"))
	if err != nil {
		return nil, faultf(codeApplication, "jobs.output: job %s: %v", id, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, faultf(codeApplication, "jobs.output: job %s: %v", id, err)
	}
	size := fi.Size()
	if offset < 0 || offset > size {
		return nil, faultf(codeInvalidParams, "jobs.output: offset %d is outside the output (0 to %d bytes)", offset, size)
	}
	buf := make([]byte, min(size-offset, max))
	n, err := f.ReadAt(buf, offset)
	if err != nil && err != io.EOF {
		return nil, faultf(codeApplication, "jobs.output: job %s: %v", id, err)
	}
	buf = buf[:n]
	ended := before.State != StateRunning
	if !ended || offset+int64(n) < size {
		buf = cutRune(buf)
	}
	next := offset + int64(len(buf))
	return map[string]any{
		"data":        outputValue(buf),
		"next_offset": next,
		"done":        ended && next >= size,
		"state":       before.State,
		"truncated":   before.Truncated,
	}, nil
}

func (s *jobStore) methods() []rpc.Method {
	return []rpc.Method{
		{
			Name:       "jobs.status",
			Help:       "jobs.status(id) returns the job's {id, method, state, pid, started, ended, duration_s, exit_code, output_bytes, truncated, error}. States: running, exited (see exit_code), timeout, cancelled, lost (serve died while it ran).",
			Signatures: [][]string{{"struct", "string"}},
			Func:       s.status,
		},
		{
			Name: "jobs.output",
			Help: "jobs.output(id, offset[, max_bytes]) returns {data, next_offset, done, state, truncated}: the job's stdout and stderr, interleaved as written, from byte offset " +
				"(at most max_bytes, default 1 MiB). data is a string, or base64 when the bytes are not XML text. Call again with next_offset until done is true.",
			Signatures: [][]string{{"struct", "string", "int"}, {"struct", "string", "int", "int"}},
			Raw: func(_ context.Context, params []any) (any, error) {
				if len(params) < 2 || len(params) > 3 {
					return nil, faultf(codeInvalidParams, "jobs.output: want (id, offset[, max_bytes]), got %d params", len(params))
				}
				id, ok := params[0].(string)
				if !ok {
					return nil, faultf(codeInvalidParams, "jobs.output: id: want string, got %s", typeName(params[0]))
				}
				offset, ok := params[1].(int64)
				if !ok {
					return nil, faultf(codeInvalidParams, "jobs.output: offset: want int, got %s", typeName(params[1]))
				}
				max := int64(DefaultChunk)
				if len(params) == 3 {
					if max, ok = params[2].(int64); !ok {
						return nil, faultf(codeInvalidParams, "jobs.output: max_bytes: want int, got %s", typeName(params[2]))
					}
				}
				return s.output(id, offset, max)
			},
		},
		{
			Name:       "jobs.wait",
			Help:       "jobs.wait(id, timeout_s) waits until the job ends or timeout_s seconds pass, and returns its status (check state).",
			Signatures: [][]string{{"struct", "string", "double"}},
			Func:       s.wait,
		},
		{
			Name:       "jobs.cancel",
			Help:       "jobs.cancel(id) stops a running job (SIGTERM to its process group, SIGKILL after the method's kill_grace) and returns its status once it has ended. A finished job is left as it is.",
			Signatures: [][]string{{"struct", "string"}},
			Func:       s.cancelJob,
		},
		{
			Name:       "jobs.list",
			Help:       "jobs.list() returns the status of every job in the state directory, oldest first.",
			Signatures: [][]string{{"array"}},
			Func:       s.list,
		},
	}
}
