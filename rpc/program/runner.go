package program

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rpcssh/rpcssh/rpc"
)

// RunnerArg is the argument a program passes in Config.RunnerCommand to
// reach its entry point for RunRunner (the rpcssh CLI's is the hidden
// command "rpcssh __job-runner DIR").
const RunnerArg = "__job-runner"

// runSpec is what serve sends a job's runner on its standard input. It
// carries the environment, which is never written to disk.
type runSpec struct {
	Method    string        `json:"method"`
	Path      string        `json:"path"` // argv[0] resolved by serve
	Argv      []string      `json:"argv"`
	Env       []string      `json:"env"`
	Dir       string        `json:"dir"`
	Timeout   time.Duration `json:"timeout"`
	KillGrace time.Duration `json:"kill_grace"`
	OutputCap int64         `json:"output_cap"`
}

// readyMsg is the runner's one line on its ready pipe: the program runs,
// or why it could not be started.
type readyMsg struct {
	Runner  runnerID  `json:"runner"`
	PID     int       `json:"pid,omitempty"`
	Started time.Time `json:"started,omitzero"`
	Error   string    `json:"error,omitempty"`
}

// readyFD is the descriptor on which a runner answers serve. The runner
// keeps it open while the program runs and closes it once the program's
// end is recorded (or when it dies): serve, reading it to its end, then
// looks at the job at once instead of at its next poll.
const readyFD = 3

// RunRunner is the body of a job's runner process, the small supervisor
// that Config.RunnerCommand starts for every async job, in a session of
// its own. It reads what to run from standard input, answers on file
// descriptor 3 once the program has started, waits for the program,
// and records its end in dir (the job's directory, the command's last
// argument) atomically, then closes descriptor 3 (which the program
// does not inherit), telling serve to look. It outlives serve: a later serve reads what it
// recorded. ctx ending (the runner got SIGTERM from jobs.cancel, or
// SIGINT) cancels the job: SIGTERM to the program's process group,
// SIGKILL after the method's kill_grace. On Linux the runner is a child
// subreaper, and when the program ends, for any reason, every process it
// left behind (including those that left its process group or session)
// is killed.
//
// A program embedding this package calls it from main when its
// arguments are those of its Config.RunnerCommand:
//
//	if len(os.Args) == 3 && os.Args[1] == program.RunnerArg {
//		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
//		err := program.RunRunner(ctx, os.Args[2])
//		stop()
//		if err != nil {
//			os.Exit(1)
//		}
//		os.Exit(0)
//	}
func RunRunner(ctx context.Context, dir string) error {
	ready := os.NewFile(readyFD, "ready")
	if fi, err := ready.Stat(); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		return errors.New("program: job runner: no ready pipe on descriptor 3: runners are started by serve, not by hand")
	}
	defer ready.Close()
	noInherit(readyFD) // the program must not hold serve's pipe open
	return supervise(ctx, dir, os.Stdin, ready)
}

// supervise runs the job described on spec in dir and answers on ready,
// which it closes once the job's end is recorded (or it failed).
func supervise(ctx context.Context, dir string, specIn io.Reader, ready io.Writer) error {
	closeReady := func() {
		if c, ok := ready.(io.Closer); ok {
			c.Close()
		}
	}
	answer := func(msg readyMsg) {
		data, _ := json.Marshal(msg)
		_, _ = ready.Write(append(data, '\n')) // serve may be gone: nothing to tell then
	}
	fail := func(err error) error {
		msg := err.Error()
		var f *rpc.Fault
		if errors.As(err, &f) {
			msg = f.Message
		}
		answer(readyMsg{Error: msg})
		closeReady()
		return fmt.Errorf("program: job runner: %w", err)
	}
	if !filepath.IsAbs(dir) || !reJobID.MatchString(filepath.Base(dir)) {
		return fail(fmt.Errorf("%q is not a job directory", dir))
	}
	var spec runSpec
	data, err := io.ReadAll(io.LimitReader(specIn, 64<<20))
	if err != nil {
		return fail(fmt.Errorf("read spec: %w", err))
	}
	if err := json.Unmarshal(data, &spec); err != nil || len(spec.Argv) == 0 || spec.Path == "" {
		return fail(fmt.Errorf("bad spec: %v", err))
	}
	self, err := identify(os.Getpid())
	if err != nil {
		return fail(fmt.Errorf("identify itself: %w", err))
	}
	_ = becomeSubreaper() // without it, only the process group is reached
	f, err := openJobFile(filepath.Join(dir, outputFile), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fail(err)
	}
	defer f.Close()
	out := &capFile{f: f, max: spec.OutputCap}
	m := &Method{Name: spec.Method, Dir: spec.Dir}
	p, err := startPath(m, spec.Path, spec.Argv, spec.Env, out, out)
	if err != nil {
		return fail(err)
	}
	p.afterExit = killDescendants
	rec := runnerRecord{Runner: self, ProgramPID: p.pid, Started: p.started}
	if err := writeJSON(dir, runnerFile, rec); err != nil {
		stop, cancel := context.WithCancel(ctx)
		cancel()
		p.wait(stop, 0, 0)
		return fail(err)
	}
	answer(readyMsg{Runner: self, PID: p.pid, Started: p.started})

	o := p.wait(ctx, spec.Timeout, spec.KillGrace)
	killDescendants()
	n, truncated, werr := out.state()
	x := exitRecord{ExitCode: o.exitCode, Ended: p.started.Add(o.duration), OutputBytes: n, Truncated: truncated}
	switch {
	case o.timedOut:
		x.State, x.Error = StateTimeout, fmt.Sprintf("timed out after %s; its process group was killed", spec.Timeout)
	case o.stopped != nil:
		x.State, x.Error = StateCancelled, cancelReason(dir)
	default:
		x.State = StateExited
	}
	if werr != nil {
		x.Error = "writing output: " + werr.Error()
	}
	err = writeJSON(dir, exitFile, x)
	closeReady() // serve looks now: the end is on disk (or never will be)
	if err != nil {
		return fmt.Errorf("program: job runner: record the end: %w", err)
	}
	return nil
}

// cancelReason is what serve wrote in the job's cancel file before it
// signalled the runner.
func cancelReason(dir string) string {
	f, err := openJobFile(filepath.Join(dir, cancelFile), os.O_RDONLY, 0)
	if err != nil {
		return "its runner was told to stop (a signal)"
	}
	defer f.Close()
	b, _ := io.ReadAll(io.LimitReader(f, 512))
	if s := strings.TrimSpace(string(b)); s != "" {
		return s
	}
	return "its runner was told to stop (a signal)"
}
