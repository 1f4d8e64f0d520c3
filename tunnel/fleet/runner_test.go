package fleet_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rpcssh/rpcssh/tunnel/fleet"
)

func names(n int) []string {
	var hs []string
	for i := range n {
		hs = append(hs, fmt.Sprintf("h%d", i))
	}
	return hs
}

// collect drains a run, failing the test on a host reported twice.
func collect(t *testing.T, ch <-chan fleet.Result) ([]fleet.Result, map[string]fleet.Result) {
	t.Helper()
	var order []fleet.Result
	by := map[string]fleet.Result{}
	for r := range ch {
		if _, dup := by[r.Host]; dup {
			t.Errorf("host %s: two results", r.Host)
		}
		by[r.Host] = r
		order = append(order, r)
	}
	return order, by
}

var errBoom = errors.New("boom")

// failing returns a Do that fails for the listed hosts.
func failing(bad ...string) func(context.Context, string) (any, error) {
	return func(_ context.Context, h string) (any, error) {
		if slices.Contains(bad, h) {
			return nil, errBoom
		}
		return h, nil
	}
}

func statuses(hosts []string, by map[string]fleet.Result) string {
	var b strings.Builder
	for _, h := range hosts {
		r := by[h]
		switch {
		case r.Status == fleet.Skipped:
			b.WriteByte('s')
		case r.Status == fleet.NotStarted:
			b.WriteByte('n')
		case r.Err != nil:
			b.WriteByte('F')
		default:
			b.WriteByte('.')
		}
	}
	return b.String()
}

// TestRunBounded: never more than Parallel in flight, one result per
// host, and a host cut by Timeout says so with a *TimeoutError.
func TestRunBounded(t *testing.T) {
	var inFlight, peak atomic.Int32
	r := fleet.Runner{
		Parallel: 3,
		Timeout:  200 * time.Millisecond,
		Do: func(ctx context.Context, host string) (any, error) {
			n := inFlight.Add(1)
			defer inFlight.Add(-1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			if host == "h0" {
				<-ctx.Done()
				return nil, ctx.Err()
			}
			time.Sleep(5 * time.Millisecond)
			return host, nil
		},
	}
	hosts := names(20)
	_, by := collect(t, r.Run(context.Background(), hosts))
	if len(by) != len(hosts) {
		t.Errorf("got %d results, want %d", len(by), len(hosts))
	}
	if p := peak.Load(); p > 3 || p < 2 {
		t.Errorf("peak in flight = %d, want 2 or 3 (Parallel 3)", p)
	}
	var te *fleet.TimeoutError
	if err := by["h0"].Err; !errors.As(err, &te) || !errors.Is(err, context.DeadlineExceeded) || te.Timeout != 200*time.Millisecond {
		t.Errorf("h0 error = %v, want a TimeoutError of 200ms wrapping DeadlineExceeded", err)
	}
	for _, h := range hosts[1:] {
		if got := by[h]; got.Err != nil || got.Value != h || got.Status != fleet.Ran {
			t.Errorf("host %s = %+v, want its own name", h, got)
		}
	}
}

// TestRunMaxFail: once the limit is reached nothing new starts and the
// rest come back Skipped with ErrMaxFail.
func TestRunMaxFail(t *testing.T) {
	tests := []struct {
		name    string
		maxFail string
		bad     []string
		want    string // per host: . ok, F failed, s skipped
	}{
		{"no limit", "", []string{"h1", "h3"}, ".F.F......"},
		{"two failures", "2", []string{"h1", "h3", "h5"}, ".F.Fssssss"},
		{"limit never reached", "3", []string{"h1", "h3"}, ".F.F......"},
		{"first host fails", "1", []string{"h0"}, "Fsssssssss"},
		{"percent of done", "40%", []string{"h2", "h4", "h6"}, "..F.Fsssss"},
		{"100% needs every done host failed", "100%", []string{"h1", "h2"}, ".FF......."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var lim fleet.Limit
			if tt.maxFail != "" {
				var err error
				if lim, err = fleet.ParseLimit(tt.maxFail); err != nil {
					t.Fatal(err)
				}
			}
			r := fleet.Runner{Parallel: 1, MaxFail: lim, Do: failing(tt.bad...)}
			hosts := names(10)
			_, by := collect(t, r.Run(context.Background(), hosts))
			if got := statuses(hosts, by); got != tt.want {
				t.Errorf("max-fail %s: got %s, want %s", tt.maxFail, got, tt.want)
			}
			for _, res := range by {
				if res.Status == fleet.Skipped && !errors.Is(res.Err, fleet.ErrMaxFail) {
					t.Errorf("skipped %s error = %v, want ErrMaxFail", res.Host, res.Err)
				}
			}
		})
	}
}

// TestRunMaxFailFinishesInFlight: the hosts already running when the
// limit is reached finish and report, before any skipped host.
func TestRunMaxFailFinishesInFlight(t *testing.T) {
	release := make(chan struct{})
	var started sync.WaitGroup
	started.Add(3)
	r := fleet.Runner{
		Parallel: 3,
		MaxFail:  fleet.Limit{N: 1},
		Do: func(ctx context.Context, h string) (any, error) {
			started.Done()
			if h == "h0" {
				started.Wait() // fail only once h1 and h2 are in flight
				return nil, errBoom
			}
			<-release // h1 and h2 stay in flight until h0 has failed
			return h, nil
		},
	}
	hosts := names(8)
	ch := r.Run(context.Background(), hosts)
	first := <-ch
	if first.Host != "h0" || first.Err == nil {
		t.Fatalf("first result = %+v, want h0 failed", first)
	}
	close(release)
	rest, by := collect(t, ch)
	by["h0"] = first
	if got := statuses(hosts, by); got != "F..sssss" {
		t.Errorf("got %s, want F..sssss (h1, h2 finish; the rest skipped)", got)
	}
	if len(rest) < 2 || rest[0].Status != fleet.Ran || rest[1].Status != fleet.Ran {
		t.Errorf("results after h0 = %v, want the two in flight first", rest)
	}
}

// TestRunBatches: each batch ends before the next starts, and a batch
// never holds more hosts in flight than its size.
func TestRunBatches(t *testing.T) {
	tests := []struct {
		batch   string
		hosts   int
		batches []int // batch of each host
	}{
		{"2", 5, []int{0, 0, 1, 1, 2}},
		{"40%", 5, []int{0, 0, 1, 1, 2}},
		{"34%", 3, []int{0, 0, 1}},
		{"10", 3, []int{0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.batch, func(t *testing.T) {
			lim, err := fleet.ParseLimit(tt.batch)
			if err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			running := map[int]int{} // batch -> in flight
			var log []string
			hosts := names(tt.hosts)
			batchOf := map[string]int{}
			for i, h := range hosts {
				batchOf[h] = tt.batches[i]
			}
			r := fleet.Runner{Parallel: 10, Batch: lim, Do: func(_ context.Context, h string) (any, error) {
				b := batchOf[h]
				mu.Lock()
				for other, n := range running {
					if other != b && n > 0 {
						log = append(log, fmt.Sprintf("%s (batch %d) started while batch %d ran", h, b, other))
					}
				}
				running[b]++
				mu.Unlock()
				time.Sleep(20 * time.Millisecond)
				mu.Lock()
				running[b]--
				mu.Unlock()
				return h, nil
			}}
			_, by := collect(t, r.Run(context.Background(), hosts))
			for _, l := range log {
				t.Error(l)
			}
			for i, h := range hosts {
				if by[h].Batch != tt.batches[i] {
					t.Errorf("host %s batch = %d, want %d", h, by[h].Batch, tt.batches[i])
				}
			}
		})
	}
}

// TestRunBatchStopsBetweenBatches: under MaxFail a failed batch ends the
// run; the next batches are skipped. (The failing host is the last of its
// batch, so no host of that batch can be skipped by the check before each
// start, whatever the scheduling.)
func TestRunBatchStopsBetweenBatches(t *testing.T) {
	r := fleet.Runner{Parallel: 10, Batch: fleet.Limit{N: 3}, MaxFail: fleet.Limit{N: 1}, Do: failing("h5")}
	hosts := names(9)
	_, by := collect(t, r.Run(context.Background(), hosts))
	if got := statuses(hosts, by); got != ".....Fsss" {
		t.Errorf("got %s, want .....Fsss (batch 2 finishes, batch 3 skipped)", got)
	}
}

// TestRunFailedDecides: Failed chooses which results count.
func TestRunFailedDecides(t *testing.T) {
	r := fleet.Runner{
		Parallel: 1,
		MaxFail:  fleet.Limit{N: 1},
		Failed:   func(res fleet.Result) bool { return res.Value == "bad" },
		Do: func(_ context.Context, h string) (any, error) {
			if h == "h2" {
				return "bad", nil
			}
			return nil, errBoom // errors that do not count
		},
	}
	hosts := names(5)
	_, by := collect(t, r.Run(context.Background(), hosts))
	if got := statuses(hosts, by); got != "FF.ss" {
		t.Errorf("got %s, want FF.ss", got)
	}
}

// TestRunCanceled: hosts whose turn never came are NotStarted.
func TestRunCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var once sync.Once
	r := fleet.Runner{Parallel: 1, Do: func(ctx context.Context, _ string) (any, error) {
		once.Do(cancel)
		<-ctx.Done()
		return nil, ctx.Err()
	}}
	hosts := names(3)
	_, by := collect(t, r.Run(ctx, hosts))
	if got := statuses(hosts, by); got != "Fnn" {
		t.Errorf("got %s, want Fnn", got)
	}
	if err := by["h0"].Err; !strings.HasPrefix(err.Error(), "interrupted: ") {
		t.Errorf("h0 error = %v, want interrupted: ...", err)
	}
}

func TestParseLimit(t *testing.T) {
	good := map[string]fleet.Limit{"1": {N: 1}, "25": {N: 25}, "50%": {Percent: 50}, "0.5%": {Percent: 0.5}, "100%": {Percent: 100}}
	for in, want := range good {
		if got, err := fleet.ParseLimit(in); err != nil || got != want {
			t.Errorf("ParseLimit(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"0", "-1", "0%", "101%", "x", "", "%", "NaN%", "1.5"} {
		if _, err := fleet.ParseLimit(in); err == nil {
			t.Errorf("ParseLimit(%q) error = nil, want one", in)
		}
	}
}

func TestGroupOutputs(t *testing.T) {
	outputs := map[string]string{}
	for i := 1; i <= 50; i++ {
		outputs[fmt.Sprintf("web%02d", i)] = "HI"
	}
	outputs["web49"] = "error: connection refused"
	outputs["db1"] = "error: connection refused"
	outputs["mail"] = "HELLO"
	groups := fleet.GroupOutputs(outputs)
	var got []string
	for _, g := range groups {
		got = append(got, g.Label()+": "+g.Output)
	}
	want := []string{"web[01-48,50]: HI", "db1,web49: error: connection refused", "mail: HELLO"}
	if !slices.Equal(got, want) {
		t.Errorf("groups = %q, want %q", got, want)
	}
}
