package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/rpcssh/rpcssh/rpc"
	"github.com/rpcssh/rpcssh/tunnel/fleet"
)

// fanout runs one operation on many hosts at once. It knows nothing of
// SSH or XML-RPC: do connects, calls and closes for one host.
type fanout struct {
	parallel int           // hosts in flight at most; < 1 means 1
	timeout  time.Duration // per host, from its start; 0: none
	maxFail  fleet.Limit   // stop starting hosts once reached; zero: never
	batch    fleet.Limit   // serial batches; zero: one batch
	out      *fleetOutput  // --group and --output-dir; nil: neither
	do       func(ctx context.Context, host string) (any, error)
}

// hostResult is how one host ended.
type hostResult struct {
	host    string
	value   any
	err     error
	elapsed time.Duration
	// notStarted: ctx ended before the host's turn came; err is ctx's.
	notStarted bool
	// skipped: not started because --max-fail was reached.
	skipped bool
}

type outcome int

const (
	succeeded outcome = iota
	faulted
	failed
	notStarted
	skipped
)

func (r hostResult) outcome() outcome {
	var fault *rpc.Fault
	switch {
	case r.notStarted:
		return notStarted
	case r.skipped:
		return skipped
	case r.err == nil:
		return succeeded
	case errors.As(r.err, &fault):
		return faulted
	}
	return failed
}

// run calls do for every host through fleet.Runner (at most parallel at
// once, each bounded by its own timeout, in batches and under maxFail)
// and sends each result as it arrives; every host gets exactly one
// result. When ctx ends, the calls in flight end with its error and the
// hosts not started yet come back notStarted. The channel is closed once
// every call has returned; the caller must drain it.
func (f fanout) run(ctx context.Context, hosts []string) <-chan hostResult {
	r := fleet.Runner{
		Parallel: f.parallel,
		Timeout:  f.timeout,
		MaxFail:  f.maxFail,
		Batch:    f.batch,
		Failed:   func(res fleet.Result) bool { return fromFleet(res, f.maxFail).outcome() != succeeded },
		Do:       f.do,
	}
	out := make(chan hostResult)
	go func() {
		defer close(out)
		for res := range r.Run(ctx, hosts) {
			out <- fromFleet(res, f.maxFail)
		}
	}()
	return out
}

// fleetCounts tallies outcomes for the progress bar and the summary.
type fleetCounts [skipped + 1]int

func (c fleetCounts) done() int { return c[succeeded] + c[faulted] + c[failed] }

// summary reads "198 succeeded, 1 faulted, 1 failed in 3.2s", with ", N
// not started" before " in" after an interruption.
func (c fleetCounts) summary(elapsed time.Duration) string {
	s := fmt.Sprintf("%d succeeded, %d faulted, %d failed", c[succeeded], c[faulted], c[failed])
	if c[notStarted] > 0 {
		s += fmt.Sprintf(", %d not started", c[notStarted])
	}
	if c[skipped] > 0 {
		s += fmt.Sprintf(", %d skipped", c[skipped])
	}
	return s + fmt.Sprintf(" in %.1fs", elapsed.Seconds())
}

// exitCode: 0 only if every host succeeded, 1 if any failed (or never
// started), else 2 when some faulted.
func (c fleetCounts) exitCode() int {
	switch {
	case c[failed] > 0 || c[notStarted] > 0 || c[skipped] > 0:
		return exitError
	case c[faulted] > 0:
		return exitFault
	}
	return exitOK
}

// fleetError carries the summary of a fleet that did not fully succeed,
// and the exit code it maps to.
type fleetError struct {
	msg  string
	code int
}

func (e *fleetError) Error() string { return e.msg }
func (e *fleetError) ExitCode() int { return e.code }

// runFleet runs f on hosts and prints one line per host on e.stdout as
// each finishes (mode "text" or "json"), a live progress bar on stderr
// when it is a terminal, and the summary last. It returns nil only if
// every host succeeded; otherwise a *fleetError whose message is the
// summary and whose ExitCode follows fleetCounts.exitCode.
func runFleet(ctx context.Context, e *env, hosts []string, f fanout, mode string) error {
	start := time.Now()
	var bar *progressBar
	var tick <-chan time.Time
	if e.stderrTerminal {
		bar = &progressBar{w: e.stderr, total: len(hosts), start: start}
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		tick = t.C
	}
	var counts fleetCounts
	var writeErr error
	results := f.run(ctx, hosts)
	for results != nil {
		select {
		case r, ok := <-results:
			if !ok {
				results = nil
				continue
			}
			line, err := formatHostLine(r, mode)
			if err != nil {
				r = hostResult{host: r.host, err: err, elapsed: r.elapsed}
				line, _ = formatHostLine(r, mode)
			}
			counts[r.outcome()]++
			held, err := f.out.keep(r, line)
			if err != nil && writeErr == nil {
				writeErr = err
			}
			if r.notStarted || held || writeErr != nil {
				continue
			}
			bar.clear()
			if _, err := io.WriteString(e.stdout, line); err != nil {
				writeErr = err
			}
			bar.draw(counts)
		case <-tick:
			bar.draw(counts)
		}
	}
	bar.clear()
	if err := f.out.flush(e.stdout); err != nil && writeErr == nil {
		writeErr = err
	}
	summary := counts.summary(time.Since(start))
	if writeErr != nil {
		return fmt.Errorf("write output: %w (%s)", writeErr, summary)
	}
	if ctx.Err() != nil {
		summary = "interrupted: " + summary
	}
	code := counts.exitCode()
	if code == exitOK {
		e.infof("%s", summary)
		return nil
	}
	err := error(&fleetError{msg: summary, code: code})
	if counts[failed] > 0 && mode == "text" {
		err = withHint(err, "--output json adds hints to each failed host; or call one failed host alone with --host to see them")
	}
	return err
}

// formatHostLine is one host's line, newline included.
//
// text: "host: RESULT" (a string raw, or JSON-quoted if it spans lines;
// base64 and dateTime as in single-host text mode; anything else compact
// JSON), "host: fault CODE: MESSAGE" or "host: error: MESSAGE".
//
// json: {"host":…,"ok":true,"result":…,"duration_ms":…}, or with "ok":false
// a "fault":{"code":…,"message":…} or an "error":"…" (and "hints":[…]);
// a program method that exited non-zero has "error", "exit_code" and its
// whole "result".
func formatHostLine(r hostResult, mode string) (string, error) {
	var fault *rpc.Fault
	isFault := r.err != nil && errors.As(r.err, &fault)
	if mode == "json" {
		l := jsonLine{Host: r.host, OK: r.err == nil, DurationMS: r.elapsed.Milliseconds()}
		switch {
		case isFault:
			l.Fault = &jsonFault{Code: fault.Code, Message: fault.Message}
		case r.err != nil:
			l.Error = oneLine(r.err.Error())
			l.Hints = hints(r.err)
			var prog *programExitError
			if errors.As(r.err, &prog) {
				l.ExitCode = &prog.code
				b, err := marshalJSON(jsonValue(r.value), false)
				if err != nil {
					return "", fmt.Errorf("print result: %w", err)
				}
				l.Result = b
			}
		default:
			b, err := marshalJSON(jsonValue(r.value), false)
			if err != nil {
				return "", fmt.Errorf("print result: %w", err)
			}
			l.Result = b
		}
		b, err := marshalJSON(l, false)
		if err != nil {
			return "", fmt.Errorf("print result: %w", err)
		}
		return string(b) + "\n", nil
	}
	switch {
	case isFault:
		return fmt.Sprintf("%s: fault %d: %s\n", r.host, fault.Code, oneLine(fault.Message)), nil
	case r.err != nil:
		return fmt.Sprintf("%s: error: %s\n", r.host, oneLine(r.err.Error())), nil
	}
	s, err := oneLineValue(r.value)
	if err != nil {
		return "", err
	}
	return r.host + ": " + s + "\n", nil
}

type jsonLine struct {
	Host       string          `json:"host"`
	OK         bool            `json:"ok"`
	Result     json.RawMessage `json:"result,omitempty"` // "null" for a nil result, so never omitted when ok
	Fault      *jsonFault      `json:"fault,omitempty"`
	Error      string          `json:"error,omitempty"`
	ExitCode   *int            `json:"exit_code,omitempty"` // a program method's non-zero exit; its result is kept
	Hints      []string        `json:"hints,omitempty"`
	DurationMS int64           `json:"duration_ms"`
}

type jsonFault struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// oneLineValue prints a result as single-host text mode does, on one
// line: a string raw unless it holds a line break (then JSON-quoted),
// base64 and dateTime as text, anything else as compact JSON.
func oneLineValue(v any) (string, error) {
	switch t := v.(type) {
	case string:
		if !strings.ContainsAny(t, "\r\n") {
			return t, nil
		}
	case []byte, time.Time:
		return jsonValue(t).(string), nil
	}
	b, err := marshalJSON(jsonValue(v), false)
	if err != nil {
		return "", fmt.Errorf("print result: %w", err)
	}
	return string(b), nil
}

// progressEvery is how often the bar's clock advances with no result.
const progressEvery = 200 * time.Millisecond

// progressBar draws one line on a terminal, rewritten in place after
// every result line and every progressEvery:
// "[=====>      ] 120/200  ok 118  fault 1  fail 1  3.2s". A nil bar
// draws nothing, so callers need not check for a terminal.
type progressBar struct {
	w     io.Writer
	total int
	start time.Time
	shown bool
}

const barWidth = 24

func (p *progressBar) draw(c fleetCounts) {
	if p == nil {
		return
	}
	now := time.Now()
	p.shown = true
	filled := 0
	if p.total > 0 {
		filled = c.done() * barWidth / p.total
	}
	bar := strings.Repeat("=", filled)
	if filled < barWidth {
		bar += ">" + strings.Repeat(" ", barWidth-filled-1)
	}
	fmt.Fprintf(p.w, "\r\x1b[K[%s] %d/%d  ok %d  fault %d  fail %d  %.1fs",
		bar, c.done(), p.total, c[succeeded], c[faulted], c[failed], now.Sub(p.start).Seconds())
}

// clear erases the bar so that the next line starts on a clean row.
func (p *progressBar) clear() {
	if p == nil || !p.shown {
		return
	}
	fmt.Fprint(p.w, "\r\x1b[K")
	p.shown = false
}
