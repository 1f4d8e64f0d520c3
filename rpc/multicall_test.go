package rpc

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
)

// TestMulticallBounds: the number of calls is capped while the request is
// decoded (settable), and the response is cut at MaxBodyBytes while it is
// built: the result that would pass it becomes a fault entry and the calls
// after it are not run.
func TestMulticallBounds(t *testing.T) {
	const limit = 1 << 20
	r := newRegistry(Limits{MaxBodyBytes: limit, MaxMulticallCalls: 5})
	ran := 0
	mustAdd(t, r, Method{Name: "big", Func: func(n int) string { ran++; return strings.Repeat("x", n) }})
	entry := func(n int) map[string]any { return map[string]any{"methodName": "big", "params": []any{n}} }

	t.Run("too many calls", func(t *testing.T) {
		calls := []any{entry(1), entry(1), entry(1), entry(1), entry(1), entry(1)}
		ran = 0
		_, f := call(t, r, "system.multicall", calls)
		if f == nil || f.Code != CodeInvalidRequest || !strings.Contains(f.Message, "more than 5 calls in one system.multicall") {
			t.Errorf("6 calls with a cap of 5: fault %v, want -32600 naming the cap", f)
		}
		if ran != 0 {
			t.Errorf("%d calls ran, want none", ran)
		}
	})
	t.Run("response cut at the limit", func(t *testing.T) {
		calls := []any{entry(300 << 10), entry(300 << 10), entry(300 << 10), entry(300 << 10), entry(10)}
		ran = 0
		var body bytes.Buffer
		if err := writeCall(&body, "system.multicall", []any{calls}); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		r.serve(context.Background(), &body, &out)
		if out.Len() > limit {
			t.Errorf("response %d bytes, want at most the %d-byte limit", out.Len(), limit)
		}
		var got []any
		if err := readResponse(&out, Limits{}, &got); err != nil {
			t.Fatal(err)
		}
		if len(got) != 5 {
			t.Fatalf("%d entries, want 5", len(got))
		}
		for i := range 3 {
			if a, ok := got[i].([]any); !ok || len(a) != 1 || len(a[0].(string)) != 300<<10 {
				t.Errorf("entry %d = %.80v, want a 300 KiB result", i, got[i])
			}
		}
		for i, want := range map[int]string{3: "result dropped: it would take the multicall's response past its limit of " + strconv.Itoa(limit) + " bytes", 4: "not run:"} {
			f, ok := got[i].(map[string]any)
			if !ok || f["faultCode"] != int64(CodeInvalidRequest) || !strings.HasPrefix(f["faultString"].(string), want) {
				t.Errorf("entry %d = %.200v, want fault %q", i, got[i], want)
			}
		}
		if ran != 4 {
			t.Errorf("%d calls ran, want 4 (none after the limit was reached)", ran)
		}
	})
}
