package fleet

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Runner runs one operation on many hosts: at most Parallel at once, each
// under its own Timeout, in serial batches if Batch is set, and stopping
// (finishing what is in flight, starting nothing new) once MaxFail hosts
// have failed. It knows nothing of SSH: Do does the work for one host.
type Runner struct {
	// Parallel bounds the hosts in flight; < 1 means 1.
	Parallel int
	// Timeout bounds each host's Do, from its start; 0 means none.
	Timeout time.Duration
	// MaxFail stops the run once this many hosts (or this percentage of
	// the hosts done) have failed; the zero Limit never stops.
	MaxFail Limit
	// Batch runs the hosts in serial batches of this many (or this
	// percentage of all hosts, rounded up), each batch finishing before
	// the next starts, as Ansible's serial; MaxFail is then also checked
	// between batches. The zero Limit runs all hosts as one batch.
	Batch Limit
	// Failed says whether a result counts toward MaxFail; nil counts
	// every result with an error.
	Failed func(Result) bool
	// Do runs the operation on one host. It must return when ctx ends.
	Do func(ctx context.Context, host string) (any, error)
}

// Status says whether a host ran.
type Status int

const (
	// Ran: Do was called; Value and Err are what it returned.
	Ran Status = iota
	// Skipped: not started because MaxFail was reached; Err wraps
	// [ErrMaxFail].
	Skipped
	// NotStarted: ctx ended before the host's turn; Err is ctx's error.
	NotStarted
)

// ErrMaxFail is wrapped by the error of each host skipped because the
// run reached Runner.MaxFail.
var ErrMaxFail = errors.New("fleet: not started: too many hosts failed")

// Result is how one host ended.
type Result struct {
	Host    string
	Status  Status
	Value   any
	Err     error
	Elapsed time.Duration // of Do; 0 if it did not run
	Batch   int           // 0-based batch the host belonged to
}

// Run calls Do for every host and sends each result as it comes; every
// host gets exactly one result, and the channel is closed once all are
// sent. The caller must drain it. When ctx ends, the calls in flight end
// with its error and the hosts not started come back NotStarted. A Do
// that ends by a bound says which in its error: "interrupted: ..." when
// ctx ended, a *[TimeoutError] when Timeout did. Once MaxFail is
// reached, the hosts in flight finish and report first, then every host
// not started comes back Skipped.
func (r Runner) Run(ctx context.Context, hosts []string) <-chan Result {
	out := make(chan Result)
	go r.run(ctx, hosts, out)
	return out
}

// tally counts the results that decide MaxFail.
type tally struct {
	mu     sync.Mutex
	done   int
	failed int
}

func (r Runner) run(ctx context.Context, hosts []string, out chan<- Result) {
	defer close(out)
	var wg sync.WaitGroup
	defer wg.Wait()
	parallel := max(r.Parallel, 1)
	sem := make(chan struct{}, parallel)
	batch := len(hosts)
	if !r.Batch.IsZero() {
		batch = min(r.Batch.of(len(hosts)), len(hosts))
	}
	var t tally
	stopped := func() error {
		t.mu.Lock()
		defer t.mu.Unlock()
		if r.MaxFail.reached(t.failed, t.done) {
			return fmt.Errorf("%w (%d of %d done, max-fail %s)", ErrMaxFail, t.failed, t.done, r.MaxFail)
		}
		return nil
	}
	rest := func(from int, status Status, err error) {
		for i, h := range hosts[from:] {
			out <- Result{Host: h, Status: status, Err: err, Batch: (from + i) / max(batch, 1)}
		}
	}
	for start, b := 0, 0; start < len(hosts); start, b = start+batch, b+1 {
		end := min(start+batch, len(hosts))
		for i := start; i < end; i++ {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
			}
			if err := ctx.Err(); err != nil {
				rest(i, NotStarted, err)
				return
			}
			if err := stopped(); err != nil {
				<-sem
				wg.Wait() // the in-flight hosts report before the skipped ones
				rest(i, Skipped, err)
				return
			}
			wg.Add(1)
			go func(h string) {
				defer wg.Done()
				res := r.one(ctx, h)
				res.Batch = b
				failed := res.Err != nil
				if r.Failed != nil {
					failed = r.Failed(res)
				}
				t.mu.Lock()
				t.done++
				if failed {
					t.failed++
				}
				t.mu.Unlock()
				<-sem // free the slot before a slow reader can hold it
				out <- res
			}(hosts[i])
		}
		wg.Wait() // a batch ends before the next starts
	}
}

// one runs Do for a host under its own timeout, and says in the error
// which bound ended it.
func (r Runner) one(ctx context.Context, host string) Result {
	start := time.Now()
	hctx, cancel := ctx, context.CancelFunc(func() {})
	if r.Timeout > 0 {
		hctx, cancel = context.WithTimeout(ctx, r.Timeout)
	}
	defer cancel()
	v, err := r.Do(hctx, host)
	if err != nil {
		switch {
		case ctx.Err() != nil:
			err = fmt.Errorf("interrupted: %w", err)
		case errors.Is(hctx.Err(), context.DeadlineExceeded):
			err = &TimeoutError{Timeout: r.Timeout, Err: err}
		}
	}
	return Result{Host: host, Value: v, Err: err, Elapsed: time.Since(start)}
}

// TimeoutError is a host's error when Runner.Timeout ended its Do.
type TimeoutError struct {
	Timeout time.Duration
	Err     error // what Do returned
}

func (e *TimeoutError) Error() string { return fmt.Sprintf("timeout %s: %v", e.Timeout, e.Err) }
func (e *TimeoutError) Unwrap() error { return e.Err }
