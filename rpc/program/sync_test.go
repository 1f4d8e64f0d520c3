package program_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rpcssh/rpcssh/rpc"
)

var typedMethods = `
[[method]]
name = "show"
help = "Prints its arguments."
` + argvPrinter() + `"{n}", "--scale={x}", "{flag}", "{mode}", "{blob}", "{when}", "{list}", "{obj}"]

[[method.param]]
name = "n"
type = "int"
min = 1
max = 10

[[method.param]]
name = "x"
type = "double"
default = 0.5

[[method.param]]
name = "flag"
type = "boolean"
default = false

[[method.param]]
name = "mode"
type = "string"
enum = ["fast", "exact"]
default = "fast"

[[method.param]]
name = "blob"
type = "base64"
default = "raw"

[[method.param]]
name = "when"
type = "dateTime.iso8601"
default = 2026-01-02T03:04:05Z

[[method.param]]
name = "list"
type = "array"
default = []

[[method.param]]
name = "obj"
type = "struct"
default = {}
`

func argvOf(t *testing.T, v any) []string {
	t.Helper()
	r := result(t, v)
	if r["exit_code"] != int64(0) {
		t.Fatalf("exit_code = %v, stderr %v", r["exit_code"], r["stderr"])
	}
	var got []string
	switch out := r["stdout"].(type) {
	case []byte: // NUL-separated, from argvPrinter
		got = strings.Split(string(out), "\x00")
		got = got[:len(got)-1]
	case string: // JSON, from pyArgvPrinter
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("stdout %q: %v", out, err)
		}
	}
	return got
}

func TestTypedParams(t *testing.T) {
	t.Parallel()
	s := startHost(t, typedMethods, "")
	when := time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)
	tests := []struct {
		name string
		args []any
		want []string
	}{
		{"defaults", []any{3}, []string{"3", "--scale=0.5", "false", "fast", "raw", "2026-01-02T03:04:05Z", "[]", "{}"}},
		{"positional", []any{10, 2, true, "exact", []byte{'h', 'i'}, when, []any{1, "a"}, map[string]any{"k": 1.5}},
			[]string{"10", "--scale=2", "true", "exact", "hi", "2030-05-06T07:08:09Z", `[1,"a"]`, `{"k":1.5}`}},
		{"named", []any{map[string]any{"n": 1, "mode": "exact", "x": 1e21}},
			[]string{"1", "--scale=1e+21", "false", "exact", "raw", "2026-01-02T03:04:05Z", "[]", "{}"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := argvOf(t, s.mustCall(t, "show", tt.args...))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("argv = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestBadParamsFault(t *testing.T) {
	t.Parallel()
	s := startHost(t, typedMethods, "")
	tests := []struct {
		name string
		args []any
		want string
	}{
		{"missing", nil, `param "n" is required`},
		{"below min", []any{0}, "below the minimum 1"},
		{"above max", []any{11}, "above the maximum 10"},
		{"wrong type", []any{"3"}, `param "n": want int, got string`},
		{"enum", []any{1, 1, false, "slow"}, `"slow" is not one of fast, exact`},
		{"unknown name", []any{map[string]any{"n": 1, "steps": 2}}, `no param named "steps"`},
		{"too many", []any{1, 1, false, "fast", "b", time.Now(), []any{}, map[string]any{}, 9}, "at most 8 params"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.call(t, "show", tt.args...)
			if faultCode(err) != rpc.CodeInvalidParams || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want fault %d containing %q", err, rpc.CodeInvalidParams, tt.want)
			}
		})
	}
}

func TestInjectionIsOneLiteralArgument(t *testing.T) {
	t.Parallel()
	s := startHost(t, `
[[method]]
name = "echo"
argv = [`+pyArgvPrinter+`, "{s}", "--opt={s2}"]
[[method.param]]
name = "s"
type = "string"
[[method.param]]
name = "s2"
type = "string"
default = ""

[[method]]
name = "echo_go"
`+argvPrinter()+`"{s}", "--opt={s2}"]
[[method.param]]
name = "s"
type = "string"
[[method.param]]
name = "s2"
type = "string"
default = ""

[[method]]
name = "echo_bytes"
`+argvPrinter()+`"{b}"]
[[method.param]]
name = "b"
type = "base64"

[[method]]
name = "echo_dash"
`+argvPrinter()+`"{s}"]
[[method.param]]
name = "s"
type = "string"
allow_leading_dash = true
`, "")
	marker := filepath.Join(t.TempDir(), "x")
	for _, v := range []string{
		"; rm -rf " + marker,
		"$(touch " + marker + ")",
		"`touch " + marker + "`",
		"a b\tc",
		"line1\nline2",
		"'\"\\",
		"* ? [a]",
	} {
		got := argvOf(t, s.mustCall(t, "echo_go", v, "-x"))
		if want := []string{v, "--opt=-x"}; !reflect.DeepEqual(got, want) {
			t.Errorf("argv = %q, want %q", got, want)
		}
	}
	// The same through python3, once.
	v := "; rm -rf " + marker + "\nx"
	if got, want := argvOf(t, s.mustCall(t, "echo", v)), []string{v, "--opt="}; !reflect.DeepEqual(got, want) {
		t.Errorf("python3: argv = %q, want %q", got, want)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Errorf("%s was created: a value ran as a command", marker)
	}

	// A value that would start an argument with '-' is refused unless allowed.
	_, err := s.call(t, "echo_go", "--flag")
	if faultCode(err) != rpc.CodeInvalidParams || !strings.Contains(err.Error(), "starts with '-'") {
		t.Errorf("echo --flag: error = %v, want an invalid-params fault about '-'", err)
	}
	if got := argvOf(t, s.mustCall(t, "echo_dash", "--flag")); !reflect.DeepEqual(got, []string{"--flag"}) {
		t.Errorf("echo_dash --flag: argv = %q", got)
	}
	// NUL cannot be in an argument.
	_, err = s.call(t, "echo_go", "a\x00b")
	if err == nil {
		t.Fatalf("a value with NUL was accepted")
	}
	_, err = s.call(t, "echo_bytes", []byte("a\x00b"))
	if faultCode(err) != rpc.CodeInvalidParams || !strings.Contains(err.Error(), "NUL") {
		t.Errorf("base64 with NUL: error = %v, want an invalid-params fault about NUL", err)
	}
}

func TestResultAndEnvironment(t *testing.T) {
	t.Setenv("PROGRAM_TEST_PASSED", "yes")
	t.Setenv("PROGRAM_TEST_SECRET", "no")
	s := startHost(t, `
[[method]]
name = "sh"
argv = ["sh", "-c", "{script}"]
env = ["PATH", "PROGRAM_TEST_PASSED"]
setenv = { FIXED = "v" }
[[method.param]]
name = "script"
type = "string"

[[method]]
name = "missing"
argv = ["/nonexistent/program"]

[[method]]
name = "nopath"
argv = ["no-such-program-rpcssh"]
`, "")
	r := result(t, s.mustCall(t, "sh", `echo out; echo err >&2; env | sort | grep -v '^PWD=' | grep -v '^SHLVL=' | grep -v '^_='; exit 3`))
	if r["exit_code"] != int64(3) || r["stderr"] != "err\n" || r["truncated"] != false {
		t.Errorf("result = %v, want exit_code 3, stderr \"err\\n\", not truncated", r)
	}
	if _, ok := r["duration_s"].(float64); !ok {
		t.Errorf("duration_s = %T, want double", r["duration_s"])
	}
	out := r["stdout"].(string)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	want := []string{"out", "FIXED=v", "PATH=" + os.Getenv("PATH"), "PROGRAM_TEST_PASSED=yes"}
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("stdout lines = %q, want %q (nothing else inherited)", lines, want)
	}

	r = result(t, s.mustCall(t, "sh", `printf 'ok\033[0m\377'`))
	if b, ok := r["stdout"].([]byte); !ok || string(b) != "ok\033[0m\377" {
		t.Errorf("non-text stdout = %#v, want the raw bytes as base64", r["stdout"])
	}

	for _, m := range []string{"missing", "nopath"} {
		_, err := s.call(t, m)
		if faultCode(err) != rpc.CodeApplication || !strings.Contains(err.Error(), "not found") {
			t.Errorf("%s: error = %v, want an application fault saying not found", m, err)
		}
	}
}

func TestOutputCap(t *testing.T) {
	t.Parallel()
	s := startHost(t, `
[[method]]
name = "big"
argv = ["python3", "-c", "import sys; sys.stdout.write('é' * 3000000); sys.stderr.write('e' * 10); sys.stdout.flush()"]
output_cap = 1001
`, "")
	r := result(t, s.mustCall(t, "big"))
	out, _ := r["stdout"].(string)
	if r["exit_code"] != int64(0) || r["truncated"] != true || r["stderr"] != "eeeeeeeeee" {
		t.Errorf("exit_code %v truncated %v stderr %q, want 0 (the rest drained), true, 10 e", r["exit_code"], r["truncated"], r["stderr"])
	}
	if out != strings.Repeat("é", 500) {
		t.Errorf("stdout = %d bytes, want 1000 (the cap, cut at a character)", len(out))
	}
}

func TestConcurrencyLimitHolds(t *testing.T) {
	t.Parallel()
	log := filepath.Join(t.TempDir(), "log")
	s := startHost(t, `
[[method]]
name = "work"
argv = ["sh", "-c", "echo s >> \"$0\"; sleep 0.3; echo e >> \"$0\"", "`+log+`"]
max_concurrent = 2
`, "")
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 6 {
		wg.Go(func() {
			errs <- s.client.Call(context.Background(), "work", nil, nil)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("call: %v", err)
		}
	}
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	n, most := 0, 0
	for _, l := range strings.Fields(string(data)) {
		if l == "s" {
			n++
		} else {
			n--
		}
		most = max(most, n)
	}
	if most != 2 || strings.Count(string(data), "s") != 6 {
		t.Errorf("log %q: at most %d ran at once, want 2 (6 runs)", data, most)
	}

	// A caller that stops waiting for a slot gets a fault, not a run.
	ctx, cancel := context.WithCancel(context.Background())
	var hold sync.WaitGroup
	for range 2 {
		hold.Go(func() { _ = s.client.Call(context.Background(), "work", nil, nil) })
	}
	time.Sleep(100 * time.Millisecond)
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	if err := s.client.Call(ctx, "work", nil, nil); err == nil {
		t.Errorf("a call cancelled while waiting for a slot succeeded")
	}
	hold.Wait()
}

func TestIntrospection(t *testing.T) {
	t.Parallel()
	s := startHost(t, typedMethods, "")
	sigs := s.mustCall(t, "system.methodSignature", "show").([]any)
	if len(sigs) != 9 {
		t.Fatalf("signatures = %v, want 8 positional forms and the named one", sigs)
	}
	if got := sigs[0].([]any); !reflect.DeepEqual(got, []any{"struct", "int"}) {
		t.Errorf("first signature = %v, want [struct int]", got)
	}
	if got := sigs[8].([]any); !reflect.DeepEqual(got, []any{"struct", "struct"}) {
		t.Errorf("last signature = %v, want [struct struct] (named)", got)
	}
	help := s.mustCall(t, "system.methodHelp", "show").(string)
	for _, want := range []string{"Prints its arguments.", "mode string (one of fast, exact; default \"fast\")", "exit_code"} {
		if !strings.Contains(help, want) {
			t.Errorf("help %q lacks %q", help, want)
		}
	}
	list := s.mustCall(t, "system.listMethods").([]any)
	for _, want := range []string{"show", "jobs.output", "jobs.list"} {
		if !containsAny(list, want) {
			t.Errorf("listMethods = %v, lacks %s", list, want)
		}
	}
}

func containsAny(list []any, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
