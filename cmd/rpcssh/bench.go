package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rpcssh/rpcssh/rpc"
)

// maxBenchConcurrency bounds -c: the SSH link's HTTP transport keeps at
// most 256 idle connections, so more would reconnect on every call.
const maxBenchConcurrency = 256

// warmupMax bounds the warm-up whatever --warmup says.
const warmupMax = time.Second

type benchCmd struct {
	sshFlags
	remoteFlags
	passwordFlags
	responseFlags
	URL         string        `placeholder:"URL" help:"Benchmark a server directly, without SSH: http://host:port/RPC2 or unix:///path/to.sock."`
	Calls       int           `short:"n" name:"calls" default:"1000" placeholder:"N" help:"Number of calls to measure."`
	Duration    time.Duration `placeholder:"D" help:"Measure for this long instead of -n calls (e.g. 10s)."`
	Concurrency int           `short:"c" name:"concurrency" default:"1" placeholder:"C" help:"Calls in flight at once, each on its own HTTP connection through the one SSH connection (1-256)."`
	Warmup      int           `default:"10" placeholder:"N" help:"Calls made first and not counted (at most 1 s of them); they open the connections."`
	Timeout     time.Duration `default:"30s" help:"Bound on each call (0: none)."`
	Output      string        `enum:"text,json" default:"text" help:"text: a summary for people; json: one JSON object on standard output."`

	Method string   `arg:"" help:"The remote method, e.g. echo."`
	Args   []string `arg:"" optional:"" help:"Its arguments, as for 'rpcssh call'. Put -- before arguments that start with a dash."`
}

func (c *benchCmd) Help() string {
	return `Makes the same call many times over ONE SSH connection and reports calls/s,
latency percentiles (p50, p90, p99, max, of the calls that succeeded) and
errors. A progress line is shown on a terminal. A fault or any other failed
call counts as an error; if every call fails the command exits 1.

Examples:
  rpcssh bench --host ec2-ip --key ~/.ssh/id echo hi
  rpcssh bench --host lab -n 10000 -c 8 echo hi
  rpcssh bench --host lab --duration 30s -c 4 --output json sim.step 1
  rpcssh bench --url http://127.0.0.1:8000/RPC2 -c 8 echo hi

` + argsHelp + `

Exit codes: 0 measured, 1 error or every call failed, 80 usage, 130
interrupted by Ctrl-C before the report.`
}

func (c *benchCmd) validate() error {
	switch {
	case !validMethodName(c.Method):
		return usageErrorf("method name %q: use only letters, digits and _ . : /", c.Method)
	case c.Calls < 1:
		return usageErrorf("-n/--calls must be at least 1, got %d", c.Calls)
	case c.Concurrency < 1 || c.Concurrency > maxBenchConcurrency:
		return usageErrorf("-c/--concurrency must be 1-%d, got %d", maxBenchConcurrency, c.Concurrency)
	case c.Duration < 0:
		return usageErrorf("--duration must not be negative")
	case c.Warmup < 0:
		return usageErrorf("--warmup must not be negative")
	case c.Timeout < 0:
		return usageErrorf("--timeout must not be negative")
	case c.URL != "" && len(c.Host) > 0:
		return usageErrorf("give --host (through SSH) or --url (direct), not both")
	}
	if err := c.responseFlags.check(); err != nil {
		return err
	}
	return checkTarget(c.URL, c.sshFlags)
}

func (c *benchCmd) Run(ctx context.Context, e *env) error {
	if err := c.takeDestination(&c.Method, &c.Args, c.URL != ""); err != nil {
		return err
	}
	if err := c.validate(); err != nil {
		return err
	}
	params, err := parseArgs(c.Args, readArgFile)
	if err != nil {
		return err
	}
	if w := dateWarning(params); w != "" {
		e.warnf("%s", w)
	}
	user, password, err := c.clientCredentials(e, c.URL)
	if err != nil {
		return err
	}

	url, hc := c.URL, (*http.Client)(nil)
	if c.URL == "" {
		link, err := dialSSH(ctx, e, c.sshFlags, c.remoteFlags, &password)
		if err != nil {
			return err
		}
		defer link.Close()
		url, hc = link.url, link.http
	} else if strings.HasPrefix(url, "http") {
		// rpc's own transport keeps 64 idle connections per host; -c may
		// go higher.
		hc = &http.Client{Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			MaxIdleConns:        maxBenchConcurrency,
			MaxIdleConnsPerHost: maxBenchConcurrency,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		}}
	}
	client, err := newRPCClient(url, hc, user, password, c.limits())
	if err != nil {
		return err
	}
	call := func(ctx context.Context) error {
		if c.Timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, c.Timeout)
			defer cancel()
		}
		return client.Call(ctx, c.Method, params, nil)
	}

	if c.Warmup > 0 {
		w := runLoad(ctx, loadSpec{calls: int64(c.Warmup), duration: warmupMax, concurrency: c.Concurrency}, call)
		if w.calls > 0 && w.errors == w.calls && !isFault(w.firstErr) {
			// The server never answered: measuring would only repeat it.
			return direct(c.URL, fmt.Errorf("warm-up: all %d calls failed: %w", w.calls, w.firstErr))
		}
		c.Warmup = int(w.calls)
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	spec := loadSpec{calls: int64(c.Calls), concurrency: c.Concurrency}
	if c.Duration > 0 {
		spec = loadSpec{duration: c.Duration, concurrency: c.Concurrency}
	}
	if e.stderrTerminal {
		spec.tick = func(done, errs int64, elapsed time.Duration) {
			fmt.Fprintf(e.stderr, "\r\033[Krpcssh: bench: %d calls, %.0f calls/s, %d errors", done, perSecond(done, elapsed), errs)
		}
	}
	res := runLoad(ctx, spec, call)
	if spec.tick != nil {
		fmt.Fprint(e.stderr, "\r\033[K")
	}
	if err := c.print(e.stdout, newBenchReport(c.Method, c.Concurrency, c.Warmup, res)); err != nil {
		return err
	}
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("interrupted after %d calls: %w", res.calls, ctx.Err())
	case res.calls > 0 && res.errors == res.calls:
		return &allFailedError{calls: res.calls, err: res.firstErr}
	}
	return nil
}

func isFault(err error) bool {
	var f *rpc.Fault
	return errors.As(err, &f)
}

// allFailedError is a run in which no call succeeded: exit 1 even when the
// calls failed with faults (which alone would exit 2).
type allFailedError struct {
	calls int64
	err   error
}

func (e *allFailedError) Error() string {
	return fmt.Sprintf("all %d calls failed: %v", e.calls, e.err)
}
func (e *allFailedError) Unwrap() error { return e.err }
func (e *allFailedError) ExitCode() int { return exitError }

// benchReport is the result of a run, as printed; its JSON form is the
// documented --output json object.
type benchReport struct {
	Method      string        `json:"method"`
	Concurrency int           `json:"concurrency"`
	Warmup      int           `json:"warmup_calls"`
	Calls       int64         `json:"calls"`
	Errors      int64         `json:"errors"`
	FirstError  string        `json:"first_error,omitempty"`
	Seconds     float64       `json:"seconds"`
	CallsPerSec float64       `json:"calls_per_second"`
	LatencyMS   latencyReport `json:"latency_ms"`
}

// latencyReport holds milliseconds, over the calls that succeeded.
type latencyReport struct {
	Min  float64 `json:"min"`
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func perSecond(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

func newBenchReport(method string, concurrency, warmup int, res loadResult) benchReport {
	r := benchReport{
		Method:      method,
		Concurrency: concurrency,
		Warmup:      warmup,
		Calls:       res.calls,
		Errors:      res.errors,
		Seconds:     res.elapsed.Seconds(),
		CallsPerSec: perSecond(res.calls, res.elapsed),
	}
	if res.firstErr != nil {
		r.FirstError = oneLine(res.firstErr.Error())
	}
	h := &res.hist
	r.LatencyMS = latencyReport{
		Min: ms(h.min), Mean: ms(h.mean()), Max: ms(h.max),
		P50: ms(h.quantile(0.50)), P90: ms(h.quantile(0.90)), P99: ms(h.quantile(0.99)),
	}
	return r
}

func (c *benchCmd) print(w io.Writer, r benchReport) error {
	if c.Output == "json" {
		b, err := marshalJSON(r, false)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	l := r.LatencyMS
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d calls in %.3fs at concurrency %d (%d warm-up calls not counted)\n",
		r.Method, r.Calls, r.Seconds, r.Concurrency, r.Warmup)
	fmt.Fprintf(&b, "  calls/s   %.1f\n", r.CallsPerSec)
	fmt.Fprintf(&b, "  latency   min %.3fms  p50 %.3fms  p90 %.3fms  p99 %.3fms  max %.3fms\n", l.Min, l.P50, l.P90, l.P99, l.Max)
	if r.Errors == 0 {
		fmt.Fprintf(&b, "  errors    0\n")
	} else {
		fmt.Fprintf(&b, "  errors    %d (first: %s)\n", r.Errors, r.FirstError)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// loadSpec says how long runLoad goes on. With both calls and duration
// set, whichever comes first ends it.
type loadSpec struct {
	calls       int64         // calls to make; 0: no limit
	duration    time.Duration // time to run; 0: no limit
	concurrency int           // workers, each making one call at a time
	// tick, when set, is called about 4 times a second with the calls
	// finished and failed so far.
	tick func(done, errs int64, elapsed time.Duration)
}

// loadResult is what runLoad measured. Latencies are of the calls that
// succeeded; calls counts every call that finished, errors included.
type loadResult struct {
	calls, errors int64
	firstErr      error
	elapsed       time.Duration
	hist          latencyHist
}

// runLoad makes calls with spec.concurrency workers until spec's limit is
// reached or ctx is done. Calls cut short by ctx are not counted.
func runLoad(ctx context.Context, spec loadSpec, call func(context.Context) error) loadResult {
	var (
		claimed, done, errs atomic.Int64
		mu                  sync.Mutex
		firstErr            error
		wg                  sync.WaitGroup
	)
	workers := max(spec.concurrency, 1)
	hists := make([]latencyHist, workers)
	start := time.Now()
	var deadline time.Time
	if spec.duration > 0 {
		deadline = start.Add(spec.duration)
	}
	more := func() bool {
		if ctx.Err() != nil || (!deadline.IsZero() && !time.Now().Before(deadline)) {
			return false
		}
		return spec.calls <= 0 || claimed.Add(1) <= spec.calls
	}
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := &hists[i]
			for more() {
				t0 := time.Now()
				err := call(ctx)
				d := time.Since(t0)
				if err != nil && ctx.Err() != nil {
					return // interrupted, not a failure of the server
				}
				done.Add(1)
				if err != nil {
					errs.Add(1)
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					continue
				}
				h.add(d)
			}
		}()
	}
	stop := make(chan struct{})
	ticked := make(chan struct{})
	go func() {
		defer close(ticked)
		if spec.tick == nil {
			return
		}
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				spec.tick(done.Load(), errs.Load(), time.Since(start))
			}
		}
	}()
	wg.Wait()
	elapsed := time.Since(start)
	close(stop)
	<-ticked
	res := loadResult{calls: done.Load(), errors: errs.Load(), firstErr: firstErr, elapsed: elapsed}
	for i := range hists {
		res.hist.merge(&hists[i])
	}
	return res
}
