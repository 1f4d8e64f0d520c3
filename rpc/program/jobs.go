package program

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/rpcssh/rpcssh/rpc"
)

const (
	reasonCancelled    = "cancelled by jobs.cancel"
	reasonServeStopped = "serve stopped"
)

// Bounds of jobs.output chunks.
const (
	DefaultChunk = 1 << 20
	MaxChunk     = 16 << 20
)

// Pages of jobs.list.
const (
	DefaultListPage = 100
	MaxListPage     = 1000
)

const (
	// watchInterval is how often serve looks at its running jobs'
	// directories for an end their runners recorded. It also looks at
	// once when a runner it started closes its ready pipe or exits; the
	// interval is for the jobs it adopted and what else the events miss.
	watchInterval = 200 * time.Millisecond
	// runnerAnswerBound is how long a runner may take to start the program.
	runnerAnswerBound = 30 * time.Second
	// pruneInterval is how often finished jobs past retention are removed
	// while serve runs (also at every start).
	pruneInterval = time.Hour
)

type job struct {
	dir    string
	method string        // fixed: readable without mu
	key    string        // idempotency key, fixed
	done   chan struct{} // closed when the job has ended

	mu           sync.Mutex
	meta         jobMeta
	argv         []string // while queued
	cancelReason string   // set by jobs.cancel before the runner is known
}

// id is the job's id: its directory's name.
func (j *job) id() string { return filepath.Base(j.dir) }

func (j *job) snapshot() jobMeta {
	j.mu.Lock()
	defer j.mu.Unlock()
	m := j.meta
	if m.State == StateRunning {
		m.OutputBytes = outputSize(j.dir)
	}
	return m
}

type jobStore struct {
	dir string
	log *slog.Logger

	runner  []string
	limits  JobLimits
	methods map[string]*Method
	env     func(*Method) []string

	mu      sync.Mutex
	jobs    map[string]*job
	running map[string]int    // per method
	queues  map[string][]*job // per method, in order
	keys    map[string]*job   // by idempotency key
	closed  bool

	stop     chan struct{}
	watcher  sync.WaitGroup
	interval time.Duration     // of the watcher's polls
	kicks    chan struct{}     // a runner's end: the watcher looks now
	pipes    map[*os.File]bool // ready pipes of the runners serve started; s.mu
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
	return &jobStore{dir: dir, log: log, jobs: jobs, running: map[string]int{},
		interval: watchInterval, kicks: make(chan struct{}, 1), pipes: map[*os.File]bool{}}, nil
}

// begin makes a store opened by openStore run: it counts the jobs a
// previous serve left running (adopted), queues those it left queued,
// removes what retention says, and starts watching.
func (s *jobStore) begin(runner []string, limits JobLimits, methods []Method, env func(*Method) []string) {
	s.runner, s.limits, s.env = runner, limits.withDefaults(), env
	s.methods = map[string]*Method{}
	for i := range methods {
		if methods[i].Async {
			s.methods[methods[i].Name] = &methods[i]
		}
	}
	s.queues, s.keys, s.stop = map[string][]*job{}, map[string]*job{}, make(chan struct{})
	var queued []*job
	for _, j := range s.jobs {
		if j.key != "" {
			s.keys[j.key] = j
		}
		switch j.meta.State {
		case StateRunning:
			s.running[j.method]++
		case StateQueued:
			queued = append(queued, j)
		}
	}
	slices.SortFunc(queued, func(a, b *job) int { return byCreation(a.meta, b.meta) })
	for _, j := range queued {
		if s.methods[j.method] == nil {
			s.end(j, false, func(m *jobMeta) {
				m.State, m.Error = StateFailed, fmt.Sprintf("method %s is no longer an async method of the methods file", j.method)
			})
			continue
		}
		s.queues[j.method] = append(s.queues[j.method], j)
	}
	s.mu.Lock()
	s.expire(time.Now())
	s.mu.Unlock()
	for name := range s.methods {
		s.dispatch(name)
	}
	s.watcher.Add(1)
	go s.watch()
}

// start accepts a job: it runs at once when its method has a free slot,
// else it is queued. A key already used returns that job's id.
func (s *jobStore) start(m *Method, argv []string, key string) (string, error) {
	now := time.Now()
	id := newJobID(now)
	dir := filepath.Join(s.dir, id)
	meta := jobMeta{ID: id, Method: m.Name, State: StateQueued, Created: now, Key: key}
	j := &job{dir: dir, method: m.Name, key: key, done: make(chan struct{}), meta: meta, argv: argv}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", faultf(codeApplication, "%s: job %s: %v", m.Name, id, err)
	}
	drop := func(err error) (string, error) {
		os.RemoveAll(dir)
		return "", err
	}
	if err := writeJSON(dir, specFile, jobSpec{Argv: argv}); err != nil {
		return drop(faultf(codeApplication, "%s: job %s: %v", m.Name, id, err))
	}
	if err := writeMeta(dir, meta); err != nil {
		return drop(faultf(codeApplication, "%s: job %s: %v", m.Name, id, err))
	}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return drop(faultf(codeApplication, "%s: serve is stopping", m.Name))
	}
	if key != "" {
		if first, ok := s.keys[key]; ok {
			s.mu.Unlock()
			if first.method != m.Name {
				return drop(faultf(codeInvalidParams, "%s: idempotency key %s was used for a %s job (%s)", m.Name, quoteShort(key), first.method, first.id()))
			}
			return drop(nil) // the first job's id, below
		}
	}
	if err := s.makeRoom(m); err != nil {
		s.mu.Unlock()
		return drop(err)
	}
	q := s.queues[m.Name]
	runNow := s.running[m.Name] < m.MaxConcurrent && len(q) == 0
	if !runNow && len(q) >= m.MaxQueued {
		s.mu.Unlock()
		return drop(faultf(codeApplication, "%s: busy: %d jobs running (max_concurrent = %d) and %d queued (max_queued = %d); try later or cancel one (jobs.list)",
			m.Name, s.running[m.Name], m.MaxConcurrent, len(q), m.MaxQueued))
	}
	s.jobs[id] = j
	if key != "" {
		s.keys[key] = j
	}
	if runNow {
		s.running[m.Name]++
	} else {
		s.queues[m.Name] = append(q, j)
	}
	s.mu.Unlock()
	if !runNow {
		s.log.Info("job queued", "id", id, "method", m.Name)
		return id, nil
	}
	if err := s.launch(j, m); err != nil {
		s.mu.Lock()
		delete(s.jobs, id)
		if key != "" {
			delete(s.keys, key)
		}
		s.running[m.Name]--
		s.mu.Unlock()
		os.RemoveAll(dir)
		s.dispatch(m.Name)
		return "", err
	}
	return id, nil
}

// startKeyed is start, returning the first job's id for a key in use.
func (s *jobStore) startKeyed(m *Method, argv []string, key string) (string, error) {
	id, err := s.start(m, argv, key)
	if err != nil || id != "" {
		return id, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if first, ok := s.keys[key]; ok {
		return first.id(), nil
	}
	return "", faultf(codeApplication, "%s: the job of idempotency key %s is gone", m.Name, quoteShort(key))
}

// launch starts a job's runner and records the job as running.
func (s *jobStore) launch(j *job, m *Method) error {
	j.mu.Lock()
	argv := j.argv
	j.mu.Unlock()
	path, err := resolveProgram(m, argv[0])
	if err != nil {
		return err
	}
	spec := runSpec{Method: m.Name, Path: path, Argv: argv, Env: s.env(m), Dir: m.Dir, Timeout: m.Timeout, KillGrace: m.KillGrace, OutputCap: m.OutputCap}
	msg, err := s.spawn(j.dir, spec)
	if err != nil {
		var f *rpc.Fault
		if errors.As(err, &f) {
			return err
		}
		return faultf(codeApplication, "%s: job %s: %v", m.Name, filepath.Base(j.dir), err)
	}
	j.mu.Lock()
	j.meta.State, j.meta.PID, j.meta.Started, j.meta.Runner = StateRunning, msg.PID, msg.Started, &msg.Runner
	j.argv = nil
	meta, reason := j.meta, j.cancelReason
	j.mu.Unlock()
	if err := writeMeta(j.dir, meta); err != nil {
		s.log.Error("job record", "id", meta.ID, "err", err)
	}
	os.Remove(filepath.Join(j.dir, specFile))
	s.log.Info("job started", "id", meta.ID, "method", m.Name, "pid", msg.PID, "runner", msg.Runner.PID)
	if reason != "" {
		s.signal(j, meta, reason)
	}
	return nil
}

// spawn starts a runner for the job in dir, in a session of its own and
// with nothing of serve's environment, and waits for its answer.
func (s *jobStore) spawn(dir string, spec runSpec) (readyMsg, error) {
	var msg readyMsg
	if len(s.runner) == 0 {
		return msg, errors.New("no RunnerCommand configured")
	}
	data, err := json.Marshal(spec)
	if err != nil {
		return msg, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return msg, err
	}
	handedOver := false
	defer func() {
		if !handedOver {
			r.Close()
		}
	}()
	cmd := exec.Command(s.runner[0], append(slices.Clone(s.runner[1:]), dir)...)
	cmd.Env = []string{}
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(data)
	cmd.ExtraFiles = []*os.File{w} // descriptor 3 (readyFD)
	detach(cmd)
	err = cmd.Start()
	w.Close()
	if err != nil {
		return msg, fmt.Errorf("start job runner %s: %w", s.runner[0], err)
	}
	go func() { // reaps it; how the job ends is read from its directory
		_ = cmd.Wait()
		s.kick() // gone without recording an end: lost, found now
	}()
	_ = r.SetReadDeadline(time.Now().Add(runnerAnswerBound))
	line, err := bufio.NewReader(io.LimitReader(r, 1<<16)).ReadBytes('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		return msg, fmt.Errorf("job runner %s gave no answer (%v): check RunnerCommand", s.runner[0], err)
	}
	if err := json.Unmarshal(line, &msg); err != nil {
		_ = cmd.Process.Kill()
		return msg, fmt.Errorf("job runner %s: bad answer: %w", s.runner[0], err)
	}
	if msg.Error != "" {
		return msg, &rpc.Fault{Code: codeApplication, Message: msg.Error}
	}
	// The runner closes the pipe once it has recorded the end (or dies):
	// that is when to look, not at the next poll nor when it exits.
	s.mu.Lock()
	if !s.closed {
		_ = r.SetReadDeadline(time.Time{})
		s.pipes[r], handedOver = true, true
		go func() {
			_, _ = io.Copy(io.Discard, r)
			s.kick()
			s.mu.Lock()
			delete(s.pipes, r)
			s.mu.Unlock()
			r.Close()
		}()
	}
	s.mu.Unlock()
	return msg, nil
}

// kick makes the watcher look at the running jobs now.
func (s *jobStore) kick() {
	select {
	case s.kicks <- struct{}{}:
	default: // it will look anyway
	}
}

// dispatch starts the queued jobs of a method while it has free slots.
func (s *jobStore) dispatch(name string) {
	for {
		s.mu.Lock()
		m, q := s.methods[name], s.queues[name]
		if s.closed || m == nil || len(q) == 0 || s.running[name] >= m.MaxConcurrent {
			s.mu.Unlock()
			return
		}
		j := q[0]
		s.queues[name] = q[1:]
		s.running[name]++
		s.mu.Unlock()
		if err := s.launch(j, m); err != nil {
			s.end(j, true, func(meta *jobMeta) {
				meta.State, meta.Error, meta.Ended = StateFailed, err.Error(), time.Now()
			})
		}
	}
}

// end records a job's end (update changes its record), wakes those
// waiting for it and frees its slot if it held one.
func (s *jobStore) end(j *job, heldSlot bool, update func(*jobMeta)) {
	j.mu.Lock()
	update(&j.meta)
	j.argv = nil
	meta := j.meta
	j.mu.Unlock()
	if err := writeMeta(j.dir, meta); err != nil {
		s.log.Error("job record", "id", meta.ID, "err", err)
	}
	close(j.done)
	if heldSlot {
		s.mu.Lock()
		s.running[j.method]--
		s.mu.Unlock()
	}
	code := -1
	if meta.ExitCode != nil {
		code = *meta.ExitCode
	}
	s.log.Info("job ended", "id", meta.ID, "method", meta.Method, "state", meta.State, "exit_code", code)
}

// watch notices the ends the runners record, and runners that vanished.
func (s *jobStore) watch() {
	defer s.watcher.Done()
	t := time.NewTicker(s.interval)
	defer t.Stop()
	lastPrune := time.Now()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		case <-s.kicks:
		}
		s.mu.Lock()
		var running []*job
		for _, j := range s.jobs {
			j.mu.Lock()
			if j.meta.State == StateRunning {
				running = append(running, j)
			}
			j.mu.Unlock()
		}
		s.mu.Unlock()
		for _, j := range running {
			m := j.snapshot()
			changed, err := settle(j.dir, &m)
			if err != nil {
				s.log.Warn("job record", "id", m.ID, "err", err)
				continue
			}
			if changed && ended(m.State) {
				s.end(j, true, func(meta *jobMeta) { *meta = m })
				s.dispatch(j.method)
			}
		}
		if time.Since(lastPrune) > pruneInterval {
			lastPrune = time.Now()
			s.mu.Lock()
			s.expire(lastPrune)
			s.mu.Unlock()
		}
	}
}

// close stops watching. Running jobs go on under their runners and queued
// ones stay queued, for the next serve, unless cancelJobs: then queued
// jobs are cancelled and running ones stopped and waited for.
func (s *jobStore) close(cancelJobs bool) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	var all []*job
	for _, j := range s.jobs {
		all = append(all, j)
	}
	s.mu.Unlock()
	if cancelJobs {
		var grace time.Duration
		for _, m := range s.methods {
			grace = max(grace, m.KillGrace)
		}
		ctx, cancel := context.WithTimeout(context.Background(), grace+30*time.Second)
		for _, j := range all {
			s.cancel(ctx, j, reasonServeStopped)
		}
		cancel()
	}
	close(s.stop)
	s.watcher.Wait()
	s.mu.Lock()
	for r := range s.pipes {
		r.Close() // ends its reader; the runner goes on
	}
	s.mu.Unlock()
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

// position is a queued job's place in its method's queue (1: next), 0
// for any other job. s.mu is held.
func (s *jobStore) position(j *job) int {
	return slices.Index(s.queues[j.method], j) + 1
}

// status is the XML-RPC form of a job's state.
func status(m jobMeta, position int) map[string]any {
	st := map[string]any{
		"id":           m.ID,
		"method":       m.Method,
		"state":        m.State,
		"pid":          m.PID,
		"output_bytes": m.OutputBytes,
		"truncated":    m.Truncated,
	}
	if !m.Created.IsZero() {
		st["created"] = m.Created
	}
	if !m.Started.IsZero() {
		st["started"] = m.Started
	}
	if position > 0 {
		st["queue_position"] = position
	}
	end := time.Now()
	if !m.Ended.IsZero() {
		st["ended"] = m.Ended
		end = m.Ended
	}
	if !m.Started.IsZero() && (m.State != StateLost || !m.Ended.IsZero()) {
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

func (s *jobStore) statusOf(j *job) map[string]any {
	m := j.snapshot()
	s.mu.Lock()
	pos := s.position(j)
	s.mu.Unlock()
	return status(m, pos)
}

func (s *jobStore) status(id string) (map[string]any, error) {
	j, err := s.get(id)
	if err != nil {
		return nil, err
	}
	return s.statusOf(j), nil
}

// list returns a page of the jobs' statuses, oldest first.
func (s *jobStore) list(offset, limit int64) ([]map[string]any, error) {
	if offset < 0 {
		return nil, faultf(codeInvalidParams, "jobs.list: offset %d: want 0 or more", offset)
	}
	if limit < 1 || limit > MaxListPage {
		return nil, faultf(codeInvalidParams, "jobs.list: limit %d: want 1 to %d", limit, MaxListPage)
	}
	type entry struct {
		meta jobMeta
		pos  int
	}
	s.mu.Lock()
	all := make([]entry, 0, len(s.jobs))
	for _, j := range s.jobs {
		all = append(all, entry{j.snapshot(), s.position(j)})
	}
	s.mu.Unlock()
	slices.SortFunc(all, func(a, b entry) int { return byCreation(a.meta, b.meta) })
	out := []map[string]any{}
	for i := offset; i < int64(len(all)) && i < offset+limit; i++ {
		out = append(out, status(all[i].meta, all[i].pos))
	}
	return out, nil
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
	return s.statusOf(j), nil
}

// cancelJob stops a job (see cancel) and returns its status once it has
// ended; a finished job is left as it is.
func (s *jobStore) cancelJob(ctx context.Context, id string) (map[string]any, error) {
	j, err := s.get(id)
	if err != nil {
		return nil, err
	}
	if err := s.cancel(ctx, j, reasonCancelled); err != nil {
		return nil, err
	}
	return s.statusOf(j), nil
}

// cancel ends a queued job at once and stops a running one (its runner
// sends SIGTERM to the program's process group, SIGKILL after its
// kill_grace, and kills what is left), waiting for its end.
func (s *jobStore) cancel(ctx context.Context, j *job, reason string) error {
	s.mu.Lock()
	if q := s.queues[j.method]; slices.Contains(q, j) {
		s.queues[j.method] = slices.DeleteFunc(slices.Clone(q), func(x *job) bool { return x == j })
		s.mu.Unlock()
		s.end(j, false, func(m *jobMeta) { m.State, m.Error, m.Ended = StateCancelled, reason, time.Now() })
		return nil
	}
	s.mu.Unlock()
	j.mu.Lock()
	meta := j.meta
	if meta.State == StateRunning || meta.State == StateQueued {
		j.cancelReason = reason // a job being launched: launch signals it
	}
	j.mu.Unlock()
	if meta.State == StateRunning && meta.Runner != nil {
		s.signal(j, meta, reason)
	}
	select {
	case <-j.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// signal records why a job is stopped and tells its runner.
func (s *jobStore) signal(j *job, meta jobMeta, reason string) {
	if err := writeAtomic(j.dir, cancelFile, []byte(reason+"\n")); err != nil {
		s.log.Error("job cancel", "id", meta.ID, "err", err)
	}
	if err := signalRunner(*meta.Runner); err != nil {
		s.log.Warn("job cancel", "id", meta.ID, "err", err) // the watcher finds it lost
	}
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
	done := ended(before.State)
	f, err := openJobFile(filepath.Join(j.dir, outputFile), os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) && (before.State == StateQueued || before.State == StateFailed || before.State == StateCancelled || before.State == StateLost) {
		if offset != 0 {
			return nil, faultf(codeInvalidParams, "jobs.output: offset %d is outside the output (0 to 0 bytes)", offset)
		}
		return map[string]any{"data": "", "next_offset": int64(0), "done": done, "state": before.State, "truncated": false}, nil
	}
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
	if !done || offset+int64(n) < size {
		buf = cutRune(buf)
	}
	next := offset + int64(len(buf))
	return map[string]any{
		"data":        outputValue(buf),
		"next_offset": next,
		"done":        done && next >= size,
		"state":       before.State,
		"truncated":   before.Truncated,
	}, nil
}

func (s *jobStore) methodList() []rpc.Method {
	return []rpc.Method{
		{
			Name: "jobs.status",
			Help: "jobs.status(id) returns the job's {id, method, state, pid, created, started, ended, duration_s, exit_code, output_bytes, truncated, queue_position, error}. " +
				"States: queued (see queue_position, 1 is next), running, exited (see exit_code), timeout, cancelled, failed (a queued job that could not start), lost (its runner vanished).",
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
			Help:       "jobs.cancel(id) stops a job: a queued one at once; a running one gets SIGTERM to its process group, SIGKILL after the method's kill_grace, and whatever it left behind is killed. Returns its status once it has ended. A finished job is left as it is.",
			Signatures: [][]string{{"struct", "string"}},
			Func:       s.cancelJob,
		},
		{
			Name: "jobs.list",
			Help: fmt.Sprintf("jobs.list([offset[, limit]]) returns the statuses of the stored jobs, oldest first: at most limit (default %d, at most %d) from offset (default 0). "+
				"A page shorter than limit is the last.", DefaultListPage, MaxListPage),
			Signatures: [][]string{{"array"}, {"array", "int"}, {"array", "int", "int"}},
			Raw: func(_ context.Context, params []any) (any, error) {
				args := []int64{0, DefaultListPage}
				if len(params) > 2 {
					return nil, faultf(codeInvalidParams, "jobs.list: want ([offset[, limit]]), got %d params", len(params))
				}
				for i, p := range params {
					n, ok := p.(int64)
					if !ok {
						return nil, faultf(codeInvalidParams, "jobs.list: %s: want int, got %s", []string{"offset", "limit"}[i], typeName(p))
					}
					args[i] = n
				}
				return s.list(args[0], args[1])
			},
		},
	}
}
