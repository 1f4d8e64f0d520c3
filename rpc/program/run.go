package program

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// capBuffer keeps the first max bytes written to it and discards the
// rest, so the program never blocks on a full pipe.
type capBuffer struct {
	buf       bytes.Buffer
	max       int64
	truncated bool
}

func (c *capBuffer) Write(p []byte) (int, error) {
	room := c.max - int64(c.buf.Len())
	if int64(len(p)) > room {
		c.truncated = true
		if room > 0 {
			c.buf.Write(p[:room])
		}
		return len(p), nil
	}
	return c.buf.Write(p)
}

// bytes returns what was kept; when cut, not ending inside a character.
func (c *capBuffer) bytes() []byte {
	if c.truncated {
		return cutRune(c.buf.Bytes())
	}
	return c.buf.Bytes()
}

// capFile writes to a file up to max bytes and discards the rest.
type capFile struct {
	mu        sync.Mutex
	f         *os.File
	n, max    int64
	truncated bool
	err       error
}

func (c *capFile) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return len(p), nil // a full disk must not block the program either
	}
	q := p
	if room := c.max - c.n; int64(len(q)) > room {
		c.truncated = true
		q = q[:max(room, 0)]
	}
	if len(q) > 0 {
		n, err := c.f.Write(q)
		c.n += int64(n)
		c.err = err
	}
	return len(p), nil
}

func (c *capFile) state() (n int64, truncated bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n, c.truncated, c.err
}

// process is a started program and the goroutines copying its output.
type process struct {
	cmd     *exec.Cmd
	pid     int
	started time.Time
	readers []*os.File
	copied  chan struct{}

	// afterExit, when set, runs once the program has ended and its group
	// was killed, before its output is drained (a job's runner kills every
	// descendant there, so one holding the pipe open cannot delay it).
	afterExit func()
}

// outcome is how a program ended.
type outcome struct {
	exitCode int
	duration time.Duration
	timedOut bool
	stopped  error // the ctx's cause when ctx ended it
}

// start runs argv in m.Dir with exactly env, in a process group of its
// own, its output copied to stdout and stderr (one pipe when they are the
// same writer, so the streams interleave as the program wrote them).
func start(m *Method, argv, env []string, stdout, stderr io.Writer) (*process, error) {
	path, err := resolveProgram(m, argv[0])
	if err != nil {
		return nil, err
	}
	return startPath(m, path, argv, env, stdout, stderr)
}

// resolveProgram finds argv[0] through serve's PATH when it has no slash,
// and checks that it exists.
func resolveProgram(m *Method, path string) (string, error) {
	if !strings.ContainsRune(path, '/') && !strings.ContainsRune(path, filepath.Separator) {
		p, err := exec.LookPath(path)
		if err != nil {
			return "", faultf(codeApplication, "%s: program %q not found in serve's PATH", m.Name, path)
		}
		path = p
	} else if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return "", faultf(codeApplication, "%s: program %q not found", m.Name, path)
	} else if err != nil {
		return "", faultf(codeApplication, "%s: program %q: %v", m.Name, path, errors.Unwrap(err))
	}
	return path, nil
}

// startPath is start with the program's path resolved.
func startPath(m *Method, path string, argv, env []string, stdout, stderr io.Writer) (*process, error) {
	if env == nil {
		env = []string{} // nil would inherit serve's environment
	}
	cmd := &exec.Cmd{Path: path, Args: argv, Dir: m.Dir, Env: env}
	newGroup(cmd)

	p := &process{cmd: cmd, copied: make(chan struct{})}
	var writers []*os.File
	var sinks []io.Writer
	pipe := func(w io.Writer) (*os.File, error) {
		r, wf, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		p.readers = append(p.readers, r)
		writers = append(writers, wf)
		sinks = append(sinks, w)
		return wf, nil
	}
	closeAll := func() {
		for _, f := range writers {
			f.Close()
		}
		for _, f := range p.readers {
			f.Close()
		}
	}
	var err error
	if cmd.Stdout, err = pipe(stdout); err != nil {
		closeAll()
		return nil, err
	}
	if stderr == stdout {
		cmd.Stderr = cmd.Stdout
	} else if cmd.Stderr, err = pipe(stderr); err != nil {
		closeAll()
		return nil, err
	}
	err = cmd.Start()
	for _, f := range writers {
		f.Close() // the child has its copies
	}
	if err != nil {
		for _, f := range p.readers {
			f.Close()
		}
		if errors.Is(err, fs.ErrNotExist) {
			if _, serr := os.Stat(m.Dir); serr != nil {
				return nil, faultf(codeApplication, "%s: working directory %s does not exist", m.Name, m.Dir)
			}
			return nil, faultf(codeApplication, "%s: program %q not found", m.Name, path)
		}
		return nil, faultf(codeApplication, "%s: start %s: %v", m.Name, path, err)
	}
	p.pid, p.started = cmd.Process.Pid, time.Now()
	var wg sync.WaitGroup
	for i, r := range p.readers {
		wg.Go(func() { _, _ = io.Copy(sinks[i], r) })
	}
	go func() { wg.Wait(); close(p.copied) }()
	return p, nil
}

// drainBound is how long output is still read after the program ended
// and its group was killed, for a descendant that left the group (setsid)
// but keeps the pipe open.
const drainBound = 2 * time.Second

// wait waits for the program to end. A timeout (0: none) or the end of
// ctx sends SIGTERM to its process group, and on Linux to every process
// below it (setsid ones too, while their chain of parents lives), and
// SIGKILL grace later. When the program has ended, whatever it left in
// its group is killed.
func (p *process) wait(ctx context.Context, timeout, grace time.Duration) outcome {
	waited := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(waited) }()
	var deadline <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout - time.Since(p.started))
		defer t.Stop()
		deadline = t.C
	}
	var o outcome
	var kill <-chan time.Time
	done := ctx.Done()
loop:
	for {
		select {
		case <-waited:
			break loop
		case <-deadline:
			o.timedOut, deadline, done = true, nil, nil
			terminateTree(p.pid)
			kill = time.After(grace)
		case <-done:
			o.stopped, deadline, done = context.Cause(ctx), nil, nil
			terminateTree(p.pid)
			kill = time.After(grace)
		case <-kill:
			killTree(p.pid)
			kill = nil
		}
	}
	o.duration = time.Since(p.started)
	killGroup(p.pid)
	if p.afterExit != nil {
		p.afterExit()
	}
	select {
	case <-p.copied:
	case <-time.After(drainBound):
		for _, r := range p.readers {
			r.Close()
		}
		<-p.copied
	}
	for _, r := range p.readers {
		r.Close()
	}
	o.exitCode = exitCode(p.cmd.ProcessState)
	return o
}
