package rpc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// serveBody runs one call body through r and decodes the response.
func serveBody(t *testing.T, r *registry, ctx context.Context, body string) (any, *Fault, callInfo) {
	t.Helper()
	var out bytes.Buffer
	ci := r.serve(ctx, strings.NewReader(body), &out)
	var got any
	err := readResponse(bytes.NewReader(out.Bytes()), Limits{}, &got)
	var f *Fault
	if err != nil && !errors.As(err, &f) {
		t.Fatalf("response does not decode: %v\n%s", err, out.Bytes())
	}
	if (f == nil) != (ci.Fault == nil) || f != nil && *f != *ci.Fault {
		t.Errorf("callInfo.Fault = %v, response fault = %v", ci.Fault, f)
	}
	return got, f, ci
}

// call encodes a call with our encoder and serves it.
func call(t *testing.T, r *registry, method string, params ...any) (any, *Fault) {
	t.Helper()
	var body bytes.Buffer
	if err := writeCall(&body, method, params); err != nil {
		t.Fatal(err)
	}
	got, f, ci := serveBody(t, r, context.Background(), body.String())
	if ci.Method != method {
		t.Errorf("callInfo.Method = %q, want %q", ci.Method, method)
	}
	return got, f
}

func mustAdd(t *testing.T, r *registry, m Method) {
	t.Helper()
	if err := r.add(m); err != nil {
		t.Fatalf("add(%s) error = %v", m.Name, err)
	}
}

func TestAddRejectsBadMethods(t *testing.T) {
	tests := []struct {
		name    string
		m       Method
		wantErr string
	}{
		{"empty name", Method{Name: "", Func: func() {}}, "invalid method name"},
		{"space in name", Method{Name: "a b", Func: func() {}}, "invalid method name"},
		{"markup in name", Method{Name: "a<b", Func: func() {}}, "invalid method name"},
		{"neither", Method{Name: "m"}, "exactly one of Func and Raw"},
		{"both", Method{Name: "m", Func: func() {}, Raw: func(context.Context, []any) (any, error) { return nil, nil }}, "exactly one"},
		{"not a func", Method{Name: "m", Func: 42}, "not a func"},
		{"nil func", Method{Name: "m", Func: (func())(nil)}, "not a func"},
		{"chan param", Method{Name: "m", Func: func(chan int) {}}, "param 1 (chan int)"},
		{"func param", Method{Name: "m", Func: func(int, func()) {}}, "param 2 (func())"},
		{"int map key", Method{Name: "m", Func: func(map[int]string) {}}, "map key type int"},
		{"interface param", Method{Name: "m", Func: func(io.Reader) {}}, "cannot decode into interface type io.Reader"},
		{"ctx not first", Method{Name: "m", Func: func(int, context.Context) {}}, "param 2"},
		{"bad struct field", Method{Name: "m", Func: func(struct{ C complex128 }) {}}, "field C"},
		{"second result not error", Method{Name: "m", Func: func() (int, int) { return 0, 0 }}, "second result must be error"},
		{"three results", Method{Name: "m", Func: func() (int, int, error) { return 0, 0, nil }}, "too many results"},
		{"chan result", Method{Name: "m", Func: func() chan int { return nil }}, "result (chan int)"},
		{"builtin taken", Method{Name: "system.listMethods", Func: func() {}}, "already registered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := newRegistry(Limits{}).add(tt.m)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "rpc: register ") {
				t.Errorf("add error = %v, want \"rpc: register ...%s...\"", err, tt.wantErr)
			}
		})
	}
	r := newRegistry(Limits{})
	mustAdd(t, r, Method{Name: "dup", Func: func() {}})
	if err := r.add(Method{Name: "dup", Func: func() {}}); err == nil {
		t.Error("duplicate add: no error")
	}
}

func TestAddAcceptsSignatures(t *testing.T) {
	funcs := []any{
		func() {},
		func() error { return nil },
		func(context.Context) int { return 0 },
		func(context.Context, string, ...int) (map[string]any, error) { return nil, nil },
		func(*int, []byte, time.Time, [2]float32, map[string][]any, struct{ A, B string }) any { return nil },
		func(any) io.Reader { return nil }, // any interface result is fine: encoded by its dynamic value
	}
	for i, fn := range funcs {
		if err := newRegistry(Limits{}).add(Method{Name: "m", Func: fn}); err != nil {
			t.Errorf("func %d (%T): add error = %v", i, fn, err)
		}
	}
}

type ctxKey struct{}

func testRegistry(t *testing.T) *registry {
	r := newRegistry(Limits{})
	for _, m := range []Method{
		{Name: "add", Help: "Adds two ints.", Func: func(a, b int) int { return a + b }},
		{Name: "fail", Func: func() (int, error) { return 0, errors.New("it failed") }},
		{Name: "fault", Func: func() error { return fmt.Errorf("wrapped: %w", &Fault{Code: 42, Message: "the answer"}) }},
		{Name: "panic", Func: func() string { panic("secret stack detail") }},
		{Name: "nothing", Func: func() {}},
		{Name: "okErr", Func: func() error { return nil }},
		{Name: "sum", Func: func(ns ...int) int {
			s := 0
			for _, n := range ns {
				s += n
			}
			return s
		}},
		{Name: "join", Func: func(sep string, parts ...string) string { return strings.Join(parts, sep) }},
		{Name: "raw", Raw: func(_ context.Context, params []any) (any, error) { return params, nil }},
		{Name: "ctxValue", Func: func(ctx context.Context) (string, error) {
			v, _ := ctx.Value(ctxKey{}).(string)
			return v, ctx.Err()
		}},
		{Name: "badResult", Func: func() string { return "nul\x00" }},
		{Name: "point", Func: func(p struct {
			X int `xmlrpc:"x"`
		}) int {
			return p.X
		}},
	} {
		mustAdd(t, r, m)
	}
	return r
}

func TestServe(t *testing.T) {
	r := testRegistry(t)
	tests := []struct {
		name      string
		method    string
		params    []any
		want      any
		wantCode  int
		wantInMsg string
	}{
		{name: "add", method: "add", params: []any{2, 3}, want: int64(5)},
		{name: "too few", method: "add", params: []any{2}, wantCode: CodeInvalidParams, wantInMsg: "want 2 params, got 1"},
		{name: "too many", method: "add", params: []any{1, 2, 3}, wantCode: CodeInvalidParams, wantInMsg: "want 2 params, got 3"},
		{name: "wrong type", method: "add", params: []any{1, "2"}, wantCode: CodeInvalidParams, wantInMsg: "param 2: want int, got string"},
		{name: "unknown", method: "nope", wantCode: CodeMethodNotFound, wantInMsg: `"nope"`},
		{name: "error", method: "fail", wantCode: CodeApplication, wantInMsg: "it failed"},
		{name: "wrapped fault sent as is", method: "fault", wantCode: 42, wantInMsg: "the answer"},
		{name: "no results sends nil", method: "nothing", want: nil},
		{name: "nil error sends nil", method: "okErr", want: nil},
		{name: "variadic none", method: "sum", want: int64(0)},
		{name: "variadic three", method: "sum", params: []any{1, 2, 3}, want: int64(6)},
		{name: "variadic fixed part", method: "join", params: []any{"-", "a", "b"}, want: "a-b"},
		{name: "variadic too few", method: "join", wantCode: CodeInvalidParams, wantInMsg: "want at least 1 params, got 0"},
		{name: "variadic bad element", method: "sum", params: []any{1, true}, wantCode: CodeInvalidParams, wantInMsg: "param 2: want int, got boolean"},
		{name: "raw gets natural values", method: "raw", params: []any{1, "a", []int{2}}, want: []any{int64(1), "a", []any{int64(2)}}},
		{name: "unencodable result", method: "badResult", wantCode: CodeInternal, wantInMsg: "encode result: result: character U+0"},
		{name: "struct param", method: "point", params: []any{map[string]any{"x": 7}}, want: int64(7)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, f := call(t, r, tt.method, tt.params...)
			if tt.wantCode != 0 {
				if f == nil || f.Code != tt.wantCode || !strings.Contains(f.Message, tt.wantInMsg) {
					t.Errorf("%s: got %#v, fault %v; want fault %d containing %q", tt.method, got, f, tt.wantCode, tt.wantInMsg)
				}
				return
			}
			if f != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s: got %#v, fault %v; want %#v", tt.method, got, f, tt.want)
			}
		})
	}
}

func TestServePanicRecovered(t *testing.T) {
	r := testRegistry(t)
	_, f := call(t, r, "panic")
	if f == nil || f.Code != CodeInternal {
		t.Fatalf("fault = %v, want code %d", f, CodeInternal)
	}
	if strings.Contains(f.Message, "secret") || strings.Contains(f.Message, "goroutine") {
		t.Errorf("fault message %q leaks the panic", f.Message)
	}
	if got, f := call(t, r, "add", 1, 1); f != nil || got != int64(2) {
		t.Errorf("after a panic: add = %v, %v; want 2", got, f)
	}
}

func TestServePassesContext(t *testing.T) {
	r := testRegistry(t)
	body := `<methodCall><methodName>ctxValue</methodName></methodCall>`
	ctx := context.WithValue(context.Background(), ctxKey{}, "from request")
	if got, f, _ := serveBody(t, r, ctx, body); f != nil || got != "from request" {
		t.Errorf("ctxValue = %v, %v; want the request context's value", got, f)
	}
	ctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, f, _ := serveBody(t, r, ctx, body); f == nil || !strings.Contains(f.Message, "canceled") {
		t.Errorf("ctxValue with a cancelled context: fault = %v, want context canceled", f)
	}
}

func TestServeMalformed(t *testing.T) {
	r := testRegistry(t)
	tests := []struct {
		name, body string
		wantCode   int
		wantMethod string
	}{
		{"not XML", "nope", CodeParse, ""},
		{"truncated params", `<methodCall><methodName>add</methodName><params><param><value><int>1`, CodeParse, "add"},
		{"spam", `<methodCall><methodName>add</methodName><params><param><value><spam/></value></param></params></methodCall>`, CodeInvalidRequest, "add"},
		{"no params element", `<methodCall><methodName>nothing</methodName></methodCall>`, 0, "nothing"},
		{"python style", "<?xml version='1.0'?>\n<methodCall>\n<methodName>add</methodName>\n<params>\n<param>\n<value><int>40</int></value>\n</param>\n<param>\n<value><int>2</int></value>\n</param>\n</params>\n</methodCall>\n", 0, "add"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, f, ci := serveBody(t, r, context.Background(), tt.body)
			code := 0
			if f != nil {
				code = f.Code
			}
			if code != tt.wantCode || ci.Method != tt.wantMethod {
				t.Errorf("fault %v, method %q; want code %d, method %q", f, ci.Method, tt.wantCode, tt.wantMethod)
			}
		})
	}
}

func TestMulticall(t *testing.T) {
	r := testRegistry(t)
	calls := []any{
		map[string]any{"methodName": "add", "params": []any{1, 2}},
		map[string]any{"methodName": "fail", "params": []any{}},
		map[string]any{"methodName": "nope"},
		map[string]any{"methodName": "system.multicall", "params": []any{[]any{}}},
		map[string]any{"methodName": "add", "params": []any{1, "x"}},
		"not a struct",
		map[string]any{"methodName": "point", "params": []any{map[string]any{"x": 9, "extra": 1}}},
		map[string]any{"methodName": "badResult"},
		map[string]any{"methodName": "panic"},
		map[string]any{"methodName": "raw", "params": []any{"r"}},
	}
	got, f := call(t, r, "system.multicall", calls)
	if f != nil {
		t.Fatalf("multicall fault %v", f)
	}
	res, ok := got.([]any)
	if !ok || len(res) != len(calls) {
		t.Fatalf("multicall = %#v, want %d results", got, len(calls))
	}
	fault := func(code int, msg string) any {
		return map[string]any{"faultCode": int64(code), "faultString": msg}
	}
	want := []any{
		[]any{int64(3)},
		fault(CodeApplication, "it failed"),
		fault(CodeMethodNotFound, `method "nope" not found`),
		fault(CodeInvalidRequest, "recursive system.multicall forbidden"),
		fault(CodeInvalidParams, "param 2: want int, got string"),
		fault(CodeInvalidParams, "multicall entry is a string, want struct {methodName, params}"),
		[]any{int64(9)},
		fault(CodeInternal, "encode result: result: character U+0 at byte 3 cannot be carried by XML"),
		fault(CodeInternal, `internal error in method "panic"`),
		[]any{[]any{"r"}},
	}
	for i := range want {
		if !reflect.DeepEqual(res[i], want[i]) {
			t.Errorf("result %d = %#v, want %#v", i, res[i], want[i])
		}
	}
}

func TestIntrospection(t *testing.T) {
	r := testRegistry(t)
	mustAdd(t, r, Method{Name: "explicit", Signatures: [][]string{{"int", "int"}, {"int", "string"}}, Func: func(any) int { return 0 }})
	mustAdd(t, r, Method{Name: "typed", Func: func(context.Context, int64, string, bool, float64, time.Time, []byte, []int, map[string]int, *struct{}) (string, error) {
		return "", nil
	}})

	got, f := call(t, r, "system.listMethods")
	names, _ := got.([]any)
	if f != nil || len(names) == 0 || !slices.IsSortedFunc(names, func(a, b any) int { return strings.Compare(a.(string), b.(string)) }) {
		t.Fatalf("listMethods = %#v, %v; want sorted names", got, f)
	}
	for _, n := range []string{"add", "system.listMethods", "system.methodHelp", "system.methodSignature", "system.multicall", "system.getCapabilities"} {
		if !slices.Contains(names, any(n)) {
			t.Errorf("listMethods lacks %q", n)
		}
	}

	if got, f := call(t, r, "system.methodHelp", "add"); f != nil || got != "Adds two ints." {
		t.Errorf("methodHelp(add) = %#v, %v", got, f)
	}
	if _, f := call(t, r, "system.methodHelp", "nope"); f == nil || f.Code != CodeInvalidParams {
		t.Errorf("methodHelp(nope) fault = %v, want invalid params", f)
	}

	sigs := []struct {
		method string
		want   any
	}{
		{"explicit", []any{[]any{"int", "int"}, []any{"int", "string"}}},
		{"typed", []any{[]any{"string", "int", "string", "boolean", "double", "dateTime.iso8601", "base64", "array", "struct", "struct"}}},
		{"add", []any{[]any{"int", "int", "int"}}},
		{"nothing", []any{[]any{"nil"}}},
		{"raw", unsupportedSignature},
		{"sum", unsupportedSignature},
		{"system.multicall", []any{[]any{"array", "array"}}},
	}
	for _, tt := range sigs {
		if got, f := call(t, r, "system.methodSignature", tt.method); f != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("methodSignature(%s) = %#v, %v; want %#v", tt.method, got, f, tt.want)
		}
	}
	if got, f := call(t, r, "system.methodSignature", "panic"); f != nil || !reflect.DeepEqual(got, []any{[]any{"string"}}) {
		t.Errorf("methodSignature(panic) = %#v, %v", got, f)
	}
	mustAdd(t, r, Method{Name: "anyParam", Func: func(any) {}})
	if got, _ := call(t, r, "system.methodSignature", "anyParam"); got != unsupportedSignature {
		t.Errorf("methodSignature(anyParam) = %#v, want %q", got, unsupportedSignature)
	}

	got, f = call(t, r, "system.getCapabilities")
	caps, _ := got.(map[string]any)
	want := map[string]struct {
		url     string
		version int64
	}{
		"faults_interop":   {"http://xmlrpc-epi.sourceforge.net/specs/rfc.fault_codes.php", 20010516},
		"system.multicall": {"http://www.xmlrpc.com/discuss/msgReader$1208", 1},
		"introspection":    {"http://xmlrpc.usefulinc.com/doc/reserved.html", 1},
	}
	for name, w := range want {
		c, _ := caps[name].(map[string]any)
		if f != nil || c["specUrl"] != w.url || c["specVersion"] != w.version {
			t.Errorf("getCapabilities[%s] = %#v, want %v", name, caps[name], w)
		}
	}
}

func TestBuiltinsRegistered(t *testing.T) {
	r := newRegistry(Limits{})
	if got := len(r.methods); got != len(r.builtins()) {
		t.Errorf("%d built-ins registered, want %d", got, len(r.builtins()))
	}
}

// TestDecodeTypedErrorsNamePath sends calls whose params do not fit the
// method's Go param types: the fault names the path.
func TestDecodeTypedErrorsNamePath(t *testing.T) {
	type point struct {
		X int `xmlrpc:"x"`
		Y int `xmlrpc:"y"`
	}
	type shape struct {
		Points []point `xmlrpc:"points"`
	}
	tests := []struct {
		name    string
		params  string // the <param>s of a call
		types   []any  // zero values of the method's param types
		wantErr string
	}{
		{"member type", `<param><value>1</value></param><param><value><struct><member><name>x</name><value>s</value></member></struct></value></param>`,
			[]any{"", point{}}, `param 2: member "x": want int, got string`},
		{"array element", `<param><value><array><data><value><i4>1</i4></value><value><boolean>1</boolean></value></data></array></value></param>`,
			[]any{[]int{}}, `param 1: element 1: want int, got boolean`},
		{"deep path", `<param><value><struct><member><name>points</name><value><array><data><value><struct><member><name>y</name><value><double>1.5</double></value></member></struct></value></data></array></value></member></struct></value></param>`,
			[]any{shape{}}, `param 1: member "points": element 0: member "y": want int, got double`},
		{"pointer", `<param><value><boolean>1</boolean></value></param>`, []any{new(string)}, `param 1: want string, got boolean`},
		{"map value", `<param><value><struct><member><name>k</name><value><i4>1</i4></value></member></struct></value></param>`, []any{map[string]time.Time{}}, `param 1: member "k": want dateTime.iso8601, got i4`},
		{"overflow", `<param><value><int>300</int></value></param>`, []any{int8(0)}, `param 1: 300 overflows int8`},
		{"negative into uint", `<param><value><int>-1</int></value></param>`, []any{uint(0)}, `param 1: -1 overflows uint`},
		{"10000 digits", `<param><value><int>` + strings.Repeat("9", 10000) + `</int></value></param>`, []any{int64(0)}, `param 1: int "9999999999999999999999999999999999999999"... (10000 digits) out of range`},
		{"int64 overflow", `<param><value><i8>9223372036854775808</i8></value></param>`, []any{new(any)}, `param 1: i8 "9223372036854775808" out of range`},
		{"biginteger too big", `<param><value><biginteger>-99999999999999999999</biginteger></value></param>`, []any{int64(0)}, `param 1: biginteger "-99999999999999999999" out of range`},
		{"bad int", `<param><value><int>1.5</int></value></param>`, []any{0}, `param 1: invalid int "1.5"`},
		{"bad boolean", `<param><value><boolean>yes</boolean></value></param>`, []any{false}, `param 1: invalid boolean "yes"`},
		{"bad double", `<param><value><double>NaN</double></value></param>`, []any{0.0}, `param 1: invalid double "NaN"`},
		{"bad dateTime", `<param><value><dateTime.iso8601>20261301T00:00:00</dateTime.iso8601></value></param>`, []any{time.Time{}}, `invalid dateTime.iso8601 "20261301T00:00:00"`},
		{"Feb 30", `<param><value><dateTime.iso8601>20260230T00:00:00</dateTime.iso8601></value></param>`, []any{time.Time{}}, `invalid dateTime.iso8601`},
		{"bad base64", `<param><value><base64>!!!</base64></value></param>`, []any{[]byte{}}, `param 1: invalid base64`},
		{"string into time", `<param><value>x</value></param>`, []any{time.Time{}}, `param 1: want dateTime.iso8601, got string`},
		{"base64 into string", `<param><value><base64>aGk=</base64></value></param>`, []any{""}, `want string, got base64`},
		{"nil into int", `<param><value><nil/></value></param>`, []any{0}, `param 1: want int, got nil`},
		{"struct into slice", `<param><value><struct/></value></param>`, []any{[]int{}}, `want array, got struct`},
		{"array into map", `<param><value><array><data/></array></value></param>`, []any{map[string]int{}}, `want struct, got array`},
		{"too many for fixed array", `<param><value><array><data><value>a</value><value>b</value></data></array></value></param>`, []any{[1]string{}}, `more than 1 elements for [1]string`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := make([]reflect.Type, len(tt.types))
			for i, v := range tt.types {
				in[i] = reflect.TypeOf(v)
				if p, ok := v.(*any); ok && p != nil {
					in[i] = reflect.TypeFor[any]()
				}
			}
			fn := reflect.MakeFunc(reflect.FuncOf(in, nil, false), func([]reflect.Value) []reflect.Value { return nil })
			r := newRegistry(Limits{})
			mustAdd(t, r, Method{Name: "m", Func: fn.Interface()})
			body := `<methodCall><methodName>m</methodName><params>` + tt.params + `</params></methodCall>`
			_, f, _ := serveBody(t, r, context.Background(), body)
			if f == nil || f.Code != CodeInvalidParams || !strings.Contains(f.Message, tt.wantErr) {
				t.Errorf("fault = %v, want code %d containing %q", f, CodeInvalidParams, tt.wantErr)
			}
		})
	}
}

func TestServeLimitsAreFaults(t *testing.T) {
	r := newRegistry(Limits{MaxDepth: 4, MaxParams: 2})
	mustAdd(t, r, Method{Name: "m", Raw: func(context.Context, []any) (any, error) { return nil, nil }})
	deep := strings.Repeat("<value><array><data>", 10) + strings.Repeat("</data></array></value>", 10)
	_, f, _ := serveBody(t, r, context.Background(), `<methodCall><methodName>m</methodName><params><param>`+deep+`</param></params></methodCall>`)
	if f == nil || f.Code != CodeInvalidRequest || !strings.Contains(f.Message, "deeper than 4") {
		t.Errorf("deep: fault %v, want invalid request naming the depth", f)
	}
	_, f, _ = serveBody(t, r, context.Background(), `<methodCall><methodName>m</methodName><params>`+strings.Repeat("<param><value/></param>", 3)+`</params></methodCall>`)
	if f == nil || f.Code != CodeInvalidRequest || !strings.Contains(f.Message, "more than 2 params") {
		t.Errorf("params: fault %v, want invalid request naming MaxParams", f)
	}
}

// validator1 registers the UserLand validator1 suite (xmlrpc.md §3) as plain Go funcs.
func validator1(t *testing.T) *registry {
	type stooges struct{ Moe, Larry, Curly int }
	r := newRegistry(Limits{})
	for _, m := range []Method{
		{Name: "validator1.arrayOfStructsTest", Func: func(list []stooges) int {
			sum := 0
			for _, s := range list {
				sum += s.Curly
			}
			return sum
		}},
		{Name: "validator1.countTheEntities", Func: func(s string) map[string]int {
			return map[string]int{
				"ctLeftAngleBrackets":  strings.Count(s, "<"),
				"ctRightAngleBrackets": strings.Count(s, ">"),
				"ctAmpersands":         strings.Count(s, "&"),
				"ctApostrophes":        strings.Count(s, "'"),
				"ctQuotes":             strings.Count(s, `"`),
			}
		}},
		{Name: "validator1.easyStructTest", Func: func(s stooges) int { return s.Moe + s.Larry + s.Curly }},
		{Name: "validator1.echoStructTest", Func: func(s map[string]any) map[string]any { return s }},
		{Name: "validator1.manyTypesTest", Func: func(n int, b bool, s string, d float64, dt time.Time, b64 []byte) []any {
			return []any{n, b, s, d, dt, b64}
		}},
		{Name: "validator1.moderateSizeArrayCheck", Func: func(list []string) (string, error) {
			if len(list) == 0 {
				return "", &Fault{Code: CodeInvalidParams, Message: "empty array"}
			}
			return list[0] + list[len(list)-1], nil
		}},
		{Name: "validator1.nestedStructTest", Func: func(cal map[string]map[string]map[string]stooges) int {
			d := cal["2000"]["04"]["01"]
			return d.Moe + d.Larry + d.Curly
		}},
		{Name: "validator1.simpleStructReturnTest", Func: func(n int) map[string]int {
			return map[string]int{"times10": n * 10, "times100": n * 100, "times1000": n * 1000}
		}},
	} {
		mustAdd(t, r, m)
	}
	return r
}

func validatorCall(method, params string) string {
	return "<?xml version=\"1.0\"?>\n<methodCall>\n  <methodName>" + method + "</methodName>\n  <params>\n" + params + "\n  </params>\n</methodCall>\n"
}

func stoogeStruct(moe, larry, curly int) string {
	return fmt.Sprintf("<struct>\n <member><name>moe</name><value><i4>%d</i4></value></member>\n"+
		" <member><name>larry</name><value><i4>%d</i4></value></member>\n"+
		" <member><name>curly</name><value><i4>%d</i4></value></member>\n</struct>", moe, larry, curly)
}

func TestValidator1(t *testing.T) {
	r := validator1(t)

	var arr strings.Builder
	for i, c := range []int{-79, -33, -30, -7, 0, -5, -10, -2} {
		arr.WriteString("<value>" + stoogeStruct(i, 2*i, c) + "</value>\n")
	}
	var states strings.Builder
	names := []string{"Maine"}
	for i := range 150 {
		names = append(names, fmt.Sprintf("State%d", i))
	}
	names = append(names, "Kansas")
	for _, n := range names {
		states.WriteString("<value>" + n + "</value>\n") // untyped strings, as the epi form sends
	}
	var cal strings.Builder
	cal.WriteString("<struct>")
	for _, year := range []string{"1999", "2000", "2001"} {
		cal.WriteString("<member><name>" + year + "</name><value><struct>")
		for month := 1; month <= 12; month++ {
			fmt.Fprintf(&cal, "<member><name>%02d</name><value><struct>", month)
			for day := 1; day <= 28; day++ {
				v := "<struct></struct>"
				if year == "2000" && month == 4 && day == 1 {
					v = stoogeStruct(34, 6, 50)
				}
				fmt.Fprintf(&cal, "<member><name>%02d</name><value>%s</value></member>", day, v)
			}
			cal.WriteString("</struct></value></member>")
		}
		cal.WriteString("</struct></value></member>")
	}
	cal.WriteString("</struct>")
	var echo strings.Builder
	wantEcho := map[string]any{}
	echo.WriteString("<struct>")
	for i := range 10 {
		fmt.Fprintf(&echo, "<member><name>substruct%d</name><value>%s</value></member>", i, stoogeStruct(i, i+1, i+2))
		wantEcho[fmt.Sprintf("substruct%d", i)] = map[string]any{"moe": int64(i), "larry": int64(i + 1), "curly": int64(i + 2)}
	}
	echo.WriteString("</struct>")

	tests := []struct {
		method, params string
		want           any
	}{
		{"validator1.arrayOfStructsTest", "<param><value><array><data>\n" + arr.String() + "</data></array></value></param>", int64(-166)},
		{"validator1.countTheEntities", `<param><value>b&amp;htj&gt;q&lt;e&gt;ow&lt;&gt;&lt;a"&gt;"&gt;m&amp;&lt;y&gt;&gt;g&lt;"kf&amp;nup&gt;&amp;lsz&amp;lt;xi&amp;d"&lt;'crv&lt;</value></param>`,
			map[string]any{"ctLeftAngleBrackets": int64(7), "ctRightAngleBrackets": int64(8), "ctAmpersands": int64(6), "ctApostrophes": int64(1), "ctQuotes": int64(4)}},
		{"validator1.easyStructTest", "<param><value>" + stoogeStruct(37, 22, -60) + "</value></param>", int64(-1)},
		{"validator1.echoStructTest", "<param><value>" + echo.String() + "</value></param>", wantEcho},
		{"validator1.manyTypesTest", `<param><value><i4>24288</i4></value></param>
			<param><value><boolean>0</boolean></value></param>
			<param><value>Texas</value></param>
			<param><value><double>1762.0</double></value></param>
			<param><value><dateTime.iso8601>19040101T05:24:54</dateTime.iso8601></value></param>
			<param><value><base64>R0lGODlhFgASAJEAAP/////OnM7O/wAAACH5BAEAAAAALAAAAAAWABIAAAJAhI+py40zDIzujEDBzW0n74AaHGChqZUYlDFf
			</base64></value></param>`,
			[]any{int64(24288), false, "Texas", 1762.0, time.Date(1904, 1, 1, 5, 24, 54, 0, time.UTC), mustB64(t, "R0lGODlhFgASAJEAAP/////OnM7O/wAAACH5BAEAAAAALAAAAAAWABIAAAJAhI+py40zDIzujEDBzW0n74AaHGChqZUYlDFf")}},
		{"validator1.moderateSizeArrayCheck", "<param><value><array><data>\n" + states.String() + "</data></array></value></param>", "MaineKansas"},
		{"validator1.nestedStructTest", "<param><value>" + cal.String() + "</value></param>", int64(90)},
		{"validator1.simpleStructReturnTest", "<param><value><i4>55</i4></value></param>",
			map[string]any{"times10": int64(550), "times100": int64(5500), "times1000": int64(55000)}},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			got, f, _ := serveBody(t, r, context.Background(), validatorCall(tt.method, tt.params))
			if f != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s = %#v, fault %v; want %#v", tt.method, got, f, tt.want)
			}
		})
	}
}

func mustB64(t *testing.T, s string) []byte {
	b, err := parseBase64([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestServeToPlainWriter(t *testing.T) {
	// serve writes a *bytes.Buffer directly; any other writer gets a copy.
	r := testRegistry(t)
	for _, tt := range []struct {
		method   string
		wantCode int
	}{{"add", 0}, {"badResult", CodeInternal}} {
		var body, out bytes.Buffer
		if err := writeCall(&body, tt.method, []any{1, 2}[:map[string]int{"add": 2}[tt.method]]); err != nil {
			t.Fatal(err)
		}
		r.serve(context.Background(), &body, struct{ io.Writer }{&out})
		var got any
		err := readResponse(&out, Limits{}, &got)
		var f *Fault
		code := 0
		if errors.As(err, &f) {
			code = f.Code
		} else if err != nil {
			t.Fatalf("%s: response does not decode: %v", tt.method, err)
		}
		if code != tt.wantCode {
			t.Errorf("%s: got %v, %v; want fault code %d", tt.method, got, err, tt.wantCode)
		}
	}
}

type nilPtrErr struct{ msg string }

func (e *nilPtrErr) Error() string { return e.msg }

func TestServeTypedNilErrors(t *testing.T) {
	r := newRegistry(Limits{})
	mustAdd(t, r, Method{Name: "nilFault", Func: func() error {
		var f *Fault
		return f
	}})
	mustAdd(t, r, Method{Name: "nilErr", Func: func() error {
		var e *nilPtrErr
		return e
	}})
	for _, m := range []string{"nilFault", "nilErr"} {
		if _, f := call(t, r, m); f == nil || f.Code != CodeApplication {
			t.Errorf("%s: fault %v, want code %d", m, f, CodeApplication)
		}
	}
}
