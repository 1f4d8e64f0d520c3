package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rpcssh/rpcssh/rpc"
)

func TestParseHostsList(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string
		wantErr string
	}{
		{name: "one a line", in: "web1\nuser@web2:2222\n[::1]:22\n", want: []string{"web1", "user@web2:2222", "[::1]:22"}},
		{name: "comments and blanks", in: "# fleet\n\n  web1   # the first\n\t\nweb2#3\n#web4\n", want: []string{"web1", "web2#3"}},
		{name: "no final newline, CRLF", in: "a\r\nb", want: []string{"a", "b"}},
		{name: "empty", in: "# nothing\n\n", want: nil},
		{name: "two on a line", in: "web1\nweb2 web3\n", wantErr: "hosts:2: \"web2 web3\": one destination a line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseHostsList(strings.NewReader(tt.in), "hosts")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseHostsList(%q) error = %v, want %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseHostsList(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestUniqueHosts(t *testing.T) {
	got, rep := uniqueHosts([]string{"a", "b", "a", "c", "b"})
	if !reflect.DeepEqual(got, []string{"a", "b", "c"}) || !reflect.DeepEqual(rep, []string{"a", "b"}) {
		t.Errorf("uniqueHosts = %q, %q; want [a b c], [a b]", got, rep)
	}
}

func TestFormatHostLine(t *testing.T) {
	when := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	fault := fmt.Errorf("rpc: call %q: %w", "m", &rpc.Fault{Code: 42, Message: "disk\nfull"})
	tests := []struct {
		name     string
		r        hostResult
		text     string
		jsonLine string
	}{
		{"string", hostResult{host: "h", value: "HI", elapsed: 41 * time.Millisecond},
			"h: HI\n", `{"host":"h","ok":true,"result":"HI","duration_ms":41}`},
		{"multi-line string is quoted", hostResult{host: "h", value: "a\nb"},
			"h: \"a\\nb\"\n", `{"host":"h","ok":true,"result":"a\nb","duration_ms":0}`},
		{"struct as compact JSON", hostResult{host: "h", value: map[string]any{"n": int64(1), "l": []any{true, nil}}},
			`h: {"l":[true,null],"n":1}` + "\n", `{"host":"h","ok":true,"result":{"l":[true,null],"n":1},"duration_ms":0}`},
		{"nil result", hostResult{host: "h", value: nil},
			"h: null\n", `{"host":"h","ok":true,"result":null,"duration_ms":0}`},
		{"base64 and time as text", hostResult{host: "h", value: []any{[]byte("hi"), when}},
			`h: ["aGk=","2026-01-02T15:04:05Z"]` + "\n", `{"host":"h","ok":true,"result":["aGk=","2026-01-02T15:04:05Z"],"duration_ms":0}`},
		{"bare bytes", hostResult{host: "h", value: []byte("hi")}, "h: aGk=\n", `{"host":"h","ok":true,"result":"aGk=","duration_ms":0}`},
		{"fault", hostResult{host: "h", err: fault, elapsed: 2 * time.Second},
			"h: fault 42: disk; full\n", `{"host":"h","ok":false,"fault":{"code":42,"message":"disk\nfull"},"duration_ms":2000}`},
		{"error", hostResult{host: "h", err: errors.New("dial:\nrefused")},
			"h: error: dial:; refused\n", `{"host":"h","ok":false,"error":"dial:; refused","duration_ms":0}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := formatHostLine(tt.r, "text"); err != nil || got != tt.text {
				t.Errorf("text line = %q, %v; want %q", got, err, tt.text)
			}
			if got, err := formatHostLine(tt.r, "json"); err != nil || got != tt.jsonLine+"\n" {
				t.Errorf("json line = %q, %v; want %q", got, err, tt.jsonLine)
			}
		})
	}
}

// TestFanoutBounded checks that no more than --parallel hosts are in
// flight, that every host gets exactly one result, and that a host that
// ignores nothing but takes long is cut at its own timeout.
func TestFanoutBounded(t *testing.T) {
	var inFlight, peak atomic.Int32
	f := fanout{
		parallel: 3,
		timeout:  200 * time.Millisecond,
		do: func(ctx context.Context, host string) (any, error) {
			n := inFlight.Add(1)
			defer inFlight.Add(-1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			if host == "slow" {
				<-ctx.Done()
				return nil, ctx.Err()
			}
			time.Sleep(5 * time.Millisecond)
			return host, nil
		},
	}
	hosts := []string{"slow"}
	for i := range 20 {
		hosts = append(hosts, fmt.Sprintf("h%d", i))
	}
	got := make(map[string]hostResult)
	for r := range f.run(context.Background(), hosts) {
		if _, dup := got[r.host]; dup {
			t.Errorf("host %s: two results", r.host)
		}
		got[r.host] = r
	}
	if len(got) != len(hosts) {
		t.Errorf("got %d results, want %d", len(got), len(hosts))
	}
	if p := peak.Load(); p > 3 || p < 2 {
		t.Errorf("peak in flight = %d, want 2 or 3 (parallel 3)", p)
	}
	slow := got["slow"]
	if slow.outcome() != failed || !errors.Is(slow.err, context.DeadlineExceeded) || !strings.HasPrefix(slow.err.Error(), "--timeout 200ms: ") {
		t.Errorf("slow host: got %v, want a failure starting --timeout 200ms", slow.err)
	}
	for _, h := range hosts[1:] {
		if r := got[h]; r.outcome() != succeeded || r.value != h {
			t.Errorf("host %s: got %v, %v; want its own name", h, r.value, r.err)
		}
	}
}

// TestFanoutCanceledBeforeStart: hosts whose turn never came are reported
// as not started, and run still closes its channel.
func TestFanoutCanceledBeforeStart(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var once sync.Once
	f := fanout{parallel: 1, do: func(ctx context.Context, host string) (any, error) {
		once.Do(cancel)
		<-ctx.Done()
		return nil, ctx.Err()
	}}
	var counts fleetCounts
	for r := range f.run(ctx, []string{"a", "b", "c"}) {
		counts[r.outcome()]++
	}
	if counts[failed] != 1 || counts[notStarted] != 2 {
		t.Errorf("counts = %v, want 1 failed and 2 not started", counts)
	}
	if got := counts.exitCode(); got != exitError {
		t.Errorf("exitCode = %d, want %d", got, exitError)
	}
}

func TestFleetCountsExitCode(t *testing.T) {
	tests := []struct {
		c    fleetCounts
		want int
	}{
		{fleetCounts{succeeded: 3}, exitOK},
		{fleetCounts{succeeded: 3, faulted: 1}, exitFault},
		{fleetCounts{faulted: 1, failed: 1}, exitError},
		{fleetCounts{succeeded: 1, notStarted: 1}, exitError},
	}
	for _, tt := range tests {
		if got := tt.c.exitCode(); got != tt.want {
			t.Errorf("%v.exitCode() = %d, want %d", tt.c, got, tt.want)
		}
	}
	if got, want := (fleetCounts{198, 1, 1, 0}).summary(3210*time.Millisecond), "198 succeeded, 1 faulted, 1 failed in 3.2s"; got != want {
		t.Errorf("summary = %q, want %q", got, want)
	}
}

// TestProgressBarOnlyOnTerminal: the bar goes to stderr on a terminal,
// never to stdout, and is erased before the summary.
func TestProgressBarOnlyOnTerminal(t *testing.T) {
	f := fanout{parallel: 2, do: func(context.Context, string) (any, error) { return "x", nil }}
	for _, terminal := range []bool{false, true} {
		e, out, errb := testEnv(nil)
		e.stderrTerminal = terminal
		if err := runFleet(context.Background(), e, []string{"a", "b", "c"}, f, "text"); err != nil {
			t.Fatalf("runFleet: %v", err)
		}
		if strings.Contains(out.String(), "\r") || strings.Count(out.String(), "\n") != 3 {
			t.Errorf("terminal=%v: stdout = %q, want 3 plain lines", terminal, out)
		}
		hasBar := strings.Contains(errb.String(), "3/3")
		if hasBar != terminal {
			t.Errorf("terminal=%v: stderr = %q, want a bar: %v", terminal, errb, terminal)
		}
		if !strings.HasSuffix(errb.String(), "\r\x1b[Krpcssh: 3 succeeded, 0 faulted, 0 failed in 0.0s\n") && terminal ||
			!terminal && errb.String() != "rpcssh: 3 succeeded, 0 faulted, 0 failed in 0.0s\n" {
			t.Errorf("terminal=%v: stderr = %q, want the bar erased and the summary last", terminal, errb)
		}
	}
}

// TestFanoutUsageErrors: fleet mistakes are usage errors (exit 80), found
// before anything is dialled.
func TestFanoutUsageErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(empty, []byte("# none\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("a b\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"out with many hosts", []string{"call", "--host", "a,b", "--out", filepath.Join(dir, "o"), "echo"}, "--out writes one result"},
		{"parallel 0", []string{"call", "--host", "a,b", "--parallel", "0", "echo"}, "--parallel must be at least 1"},
		{"url with many hosts", []string{"call", "--host", "a,b", "--url", "http://127.0.0.1:1/RPC2", "echo"}, "not both"},
		{"missing hosts file", []string{"call", "--hosts-file", filepath.Join(dir, "nope"), "echo"}, "no such file"},
		{"empty hosts file", []string{"call", "--hosts-file", empty, "echo"}, "no destination in it"},
		{"two words a line", []string{"call", "--hosts-file", bad, "echo"}, "one destination a line"},
		{"stdin twice", []string{"call", "--hosts-file", "-", "--args-json", "-", "echo"}, "cannot both read standard input"},
		{"bad destination", []string{"call", "--host", "a,b:99999", "echo"}, "not 1-65535"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, out, errb := testEnv(nil)
			if got := run(context.Background(), tt.args, e); got != exitUsage {
				t.Errorf("run(%q) = %d, want %d\nstderr: %s", tt.args, got, exitUsage, errb)
			}
			if !strings.HasPrefix(errb.String(), "rpcssh: error: ") || !strings.Contains(errb.String(), tt.want) {
				t.Errorf("stderr = %q, want an error containing %q", errb, tt.want)
			}
			if out.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", out)
			}
		})
	}
}
