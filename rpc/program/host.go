package program

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/rpcssh/rpcssh/rpc"
)

// Config configures a Host.
type Config struct {
	// StateDir holds the jobs (see the package doc). Required when a method
	// is async; when set, the jobs.* methods are registered.
	StateDir string

	// LookupEnv reads serve's environment for the names a method passes
	// through; nil: os.LookupEnv.
	LookupEnv func(name string) (string, bool)

	// Logger gets one line per job start and end (method, id, pid, state);
	// never params or output. nil: nothing is logged.
	Logger *slog.Logger

	// RunnerCommand starts a job's runner: the program and arguments that
	// reach RunRunner, to which the job's directory is appended (the rpcssh
	// CLI passes its own executable and "__job-runner"). Required when a
	// method is async. The runner gets an empty environment and runs in a
	// session of its own, so jobs outlive the Host and its process.
	RunnerCommand []string

	// CancelJobsOnClose makes Close cancel the queued jobs and stop the
	// running ones, recorded as cancelled with the error "serve stopped".
	// false (the default): Close leaves them for the next Host on the same
	// StateDir, which adopts them.
	CancelJobsOnClose bool

	// Jobs overrides, field by field, the job store's bounds set in the
	// methods file's [jobs] table (zero fields: the file's, or defaults).
	Jobs JobLimits
}

// Host runs the methods of a File for an rpc.Server.
type Host struct {
	file *File
	cfg  Config
	log  *slog.Logger
	sems map[string]chan struct{}
	jobs *jobStore
}

// New prepares the methods of f. With cfg.StateDir it opens (creating,
// mode 0700) the state directory, adopts the jobs a previous Host left
// running (their runners still run; those whose runner vanished are
// marked lost), queues again those it left queued, and removes finished
// jobs past retention. Close it when done.
func New(f *File, cfg Config) (*Host, error) {
	h := &Host{file: f, cfg: cfg, log: cfg.Logger, sems: map[string]chan struct{}{}}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.cfg.LookupEnv == nil {
		h.cfg.LookupEnv = os.LookupEnv
	}
	for _, m := range f.Methods {
		if m.Async && cfg.StateDir == "" {
			return nil, fmt.Errorf("program: method %q is async: a state directory is needed", m.Name)
		}
		if m.Async && len(cfg.RunnerCommand) == 0 {
			return nil, fmt.Errorf("program: method %q is async: Config.RunnerCommand is needed to start job runners", m.Name)
		}
		h.sems[m.Name] = make(chan struct{}, m.MaxConcurrent)
	}
	if cfg.StateDir != "" {
		js, err := openStore(cfg.StateDir, h.log)
		if err != nil {
			return nil, err
		}
		h.jobs = js
		js.begin(cfg.RunnerCommand, f.Jobs.over(cfg.Jobs), f.Methods, h.env)
	}
	return h, nil
}

// Close stops watching the jobs. They go on running under their runners,
// and queued ones stay queued, for the next Host on the same state
// directory to adopt; with Config.CancelJobsOnClose, Close instead
// cancels the queued ones and stops the running ones (SIGTERM to their
// process groups, SIGKILL after their kill_grace), records them as
// cancelled with the error "serve stopped", and waits for them.
func (h *Host) Close() error {
	if h.jobs != nil {
		h.jobs.close(h.cfg.CancelJobsOnClose)
	}
	return nil
}

// Methods returns the declared methods and, with a state directory, the
// jobs.* methods, ready for rpc.Server.RegisterMethod.
func (h *Host) Methods() []rpc.Method {
	var out []rpc.Method
	for i := range h.file.Methods {
		m := &h.file.Methods[i]
		out = append(out, rpc.Method{
			Name:       m.Name,
			Help:       m.helpText(),
			Signatures: m.signatures(),
			Raw: func(ctx context.Context, params []any) (any, error) {
				if m.Async {
					return h.callAsync(ctx, m, params)
				}
				return h.callSync(ctx, m, params)
			},
		})
	}
	if h.jobs != nil {
		out = append(out, h.jobs.methodList()...)
	}
	return out
}

// Register registers Methods on srv.
func (h *Host) Register(srv *rpc.Server) error {
	for _, m := range h.Methods() {
		if err := srv.RegisterMethod(m); err != nil {
			return fmt.Errorf("program: %w", err)
		}
	}
	return nil
}

// env is exactly the allowed variables from serve's environment and the
// fixed values; nothing else is inherited.
func (h *Host) env(m *Method) []string {
	env := []string{}
	for _, n := range m.Env {
		if _, fixed := m.SetEnv[n]; fixed {
			continue
		}
		if v, ok := h.cfg.LookupEnv(n); ok {
			env = append(env, n+"="+v)
		}
	}
	keys := make([]string, 0, len(m.SetEnv))
	for k := range m.SetEnv {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		env = append(env, k+"="+m.SetEnv[k])
	}
	return env
}

// callSync runs the program for one call and returns its result struct.
// Calls beyond max_concurrent wait for a slot as long as the caller does.
func (h *Host) callSync(ctx context.Context, m *Method, params []any) (any, error) {
	vals, err := m.bind(params)
	if err != nil {
		return nil, err
	}
	argv, err := m.argv(vals)
	if err != nil {
		return nil, err
	}
	sem := h.sems[m.Name]
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return nil, faultf(codeApplication, "%s: gave up waiting for a free slot (max_concurrent = %d): %v", m.Name, m.MaxConcurrent, context.Cause(ctx))
	}
	defer func() { <-sem }()
	stdout := &capBuffer{max: m.OutputCap}
	stderr := &capBuffer{max: m.OutputCap}
	p, err := start(m, argv, h.env(m), stdout, stderr)
	if err != nil {
		return nil, err
	}
	o := p.wait(ctx, m.Timeout, m.KillGrace)
	if o.timedOut {
		return nil, faultf(codeApplication, "%s: timed out after %s; its process group was killed", m.Name, m.Timeout)
	}
	if o.stopped != nil {
		return nil, fmt.Errorf("%s: stopped: %w", m.Name, o.stopped)
	}
	return map[string]any{
		"exit_code":  o.exitCode,
		"stdout":     outputValue(stdout.bytes()),
		"stderr":     outputValue(stderr.bytes()),
		"truncated":  stdout.truncated || stderr.truncated,
		"duration_s": o.duration.Seconds(),
	}, nil
}

// callAsync starts (or queues) a job and returns its id. A call with an
// Idempotency-Key header already seen returns the first job's id.
func (h *Host) callAsync(ctx context.Context, m *Method, params []any) (any, error) {
	key, err := idempotencyKey(ctx)
	if err != nil {
		return nil, faultf(codeInvalidParams, "%s: %v", m.Name, err)
	}
	vals, err := m.bind(params)
	if err != nil {
		return nil, err
	}
	argv, err := m.argv(vals)
	if err != nil {
		return nil, err
	}
	if key != "" {
		return h.jobs.startKeyed(m, argv, key)
	}
	return h.jobs.start(m, argv, "")
}

// signatures lists the positional forms (required params, then each
// optional one added) and the named form (one struct).
func (m *Method) signatures() [][]string {
	result := "struct"
	if m.Async {
		result = "string"
	}
	required := 0
	for i, p := range m.Params {
		if p.Default == nil {
			required = i + 1
		}
	}
	var sigs [][]string
	for n := required; n <= len(m.Params); n++ {
		sig := []string{result}
		for _, p := range m.Params[:n] {
			sig = append(sig, p.Type)
		}
		sigs = append(sigs, sig)
	}
	named := []string{result, "struct"}
	if !slices.ContainsFunc(sigs, func(s []string) bool { return slices.Equal(s, named) }) {
		sigs = append(sigs, named)
	}
	return sigs
}

func (m *Method) helpText() string {
	var b strings.Builder
	b.WriteString(m.Help)
	if b.Len() > 0 {
		b.WriteString("\n\n")
	}
	fmt.Fprintf(&b, "Params (positional, or one struct by name): ")
	if len(m.Params) == 0 {
		b.WriteString("none\n")
	} else {
		b.WriteString("\n")
	}
	for _, p := range m.Params {
		fmt.Fprintf(&b, "  %s %s", p.Name, p.Type)
		var notes []string
		if len(p.Enum) > 0 {
			var vs []string
			for _, e := range p.Enum {
				s, _ := render(e)
				vs = append(vs, s)
			}
			notes = append(notes, "one of "+strings.Join(vs, ", "))
		}
		if p.Min != nil {
			notes = append(notes, "min "+formatBound(*p.Min))
		}
		if p.Max != nil {
			notes = append(notes, "max "+formatBound(*p.Max))
		}
		if p.Default != nil {
			notes = append(notes, "default "+defaultText(&p))
		}
		if len(notes) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(notes, "; "))
		}
		if p.Help != "" {
			fmt.Fprintf(&b, ": %s", p.Help)
		}
		b.WriteString("\n")
	}
	if m.Async {
		b.WriteString("Returns a job id at once; follow it with jobs.output(id, offset), jobs.wait, jobs.status, jobs.cancel.")
	} else {
		b.WriteString("Returns {exit_code, stdout, stderr, truncated, duration_s}; a non-zero exit is a result, not a fault.")
	}
	return b.String()
}
