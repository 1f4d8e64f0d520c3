package rpc_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rpcssh/rpcssh/rpc"
)

// python3 returns the path of python3 or skips the test.
func python3(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("python3")
	if err != nil {
		t.Skipf("python3 not found: %v", err)
	}
	return p
}

// runPythonClient runs testdata/python/client.py scenario against url and
// returns its JSON answer: case -> repr of the outcome.
func runPythonClient(t *testing.T, scenario string, env ...string) map[string]string {
	t.Helper()
	cmd := exec.CommandContext(testCtx(t), python3(t), filepath.Join("testdata", "python", "client.py"), scenario)
	cmd.Env = append(os.Environ(), env...)
	cmd.Env = append(cmd.Env, "PYTHONIOENCODING=utf-8", "PYTHONDONTWRITEBYTECODE=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("client.py %s: %v\n%s", scenario, err, stderr.Bytes())
	}
	var got map[string]string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("client.py %s printed %q: %v", scenario, out, err)
	}
	return got
}

func compareCases(t *testing.T, got, want map[string]string) {
	t.Helper()
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			t.Errorf("%s = %s, want %s", k, g, w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected case %s = %s", k, g)
		}
	}
}

// userURL puts the test credentials (or pass) into a server URL.
func userURL(t *testing.T, base, pass string) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(testUser, pass)
	u.Path = "/RPC2"
	return u.String()
}

// TestPythonClient drives our server with Python's xmlrpc.client.
func TestPythonClient(t *testing.T) {
	t.Parallel() // latency-bound (python3 start-up); its own server
	python3(t)
	tests := []struct {
		scenario string
		want     map[string]string
	}{
		{"types", map[string]string{
			"nil":       "None",
			"true":      "True",
			"int":       "42",
			"minint":    "-2147483648",
			"float":     "1.5",
			"string":    "'héllo <&> ]]>'",
			"spaces":    `'  kept\n'`,
			"empty":     "''",
			"astral":    "'smile 😀 🧡'",
			"bytes":     `b'\x00byte\xff'`,
			"datetime":  "datetime.datetime(2026, 1, 2, 3, 4, 5)",
			"array":     "[1, 'a', [True, None]]",
			"struct":    "{'a': {'x': 'y'}, 'b': [1], 'ключ': 2}",
			"i8":        "1099511627776",
			"roundtrip": "True",
		}},
		{"multicall", map[string]string{
			"0": "'one'",
			"1": "Fault(4, 'boom')",
			"2": "5",
			"3": `Fault(-32601, 'method "nosuch" not found')`,
		}},
		{"introspection", map[string]string{
			"listMethods":     "['add', 'big', 'echo', 'fail', 'system.getCapabilities', 'system.listMethods', 'system.methodHelp', 'system.methodSignature', 'system.multicall']",
			"methodHelp":      "'Adds two ints.'",
			"methodSignature": "[['int', 'int', 'int']]",
			"unknownHelp":     `Fault(-32602, 'method "nosuch" not found')`,
		}},
		{"faults", map[string]string{
			"fail":       "Fault(4, 'boom')",
			"unknown":    `Fault(-32601, 'method "nosuch" not found')`,
			"badparams":  "Fault(-32602, 'param 1: want int, got string')",
			"count":      "Fault(-32602, 'want 2 params, got 1')",
			"afterwards": "42",
		}},
		{"wrongpass", map[string]string{
			"wrong": "ProtocolError(401)",
			"right": "'x'",
		}},
	}
	_, hs := newTestServer(t, rpc.ServerConfig{})
	env := []string{"RPC_URL=" + userURL(t, hs.URL, testPass), "RPC_BADURL=" + userURL(t, hs.URL, "wrong")}
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			t.Parallel() // each runs its own python3
			compareCases(t, runPythonClient(t, tt.scenario, env...), tt.want)
		})
	}
}

// TestPythonClientGzip: Python gzips its request (encode_threshold) and
// accepts gzip; with ServerConfig.Gzip our server answers in gzip, except
// for a response below 1400 bytes.
func TestPythonClientGzip(t *testing.T) {
	t.Parallel() // latency-bound (python3 start-up); its own server
	python3(t)
	s := rpc.NewServer(rpc.ServerConfig{Username: testUser, Password: testPass, Gzip: true})
	register(t, s)
	var mu sync.Mutex
	var seen []string // request and response encodings per call
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in := r.Header.Get("Content-Encoding")
		s.ServeHTTP(w, r)
		mu.Lock()
		seen = append(seen, fmt.Sprintf("%s>%s", in, w.Header().Get("Content-Encoding")))
		mu.Unlock()
	}))
	t.Cleanup(hs.Close)
	got := runPythonClient(t, "gzip", "RPC_URL="+userURL(t, hs.URL, testPass))
	compareCases(t, got, map[string]string{"big": "True", "small": "'s'"})
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"gzip>gzip", "gzip>"}; !slices.Equal(seen, want) {
		t.Errorf("request>response encodings = %q, want %q", seen, want)
	}
}

// startPython runs a Python server script and returns the first line it
// prints; the process is killed when the test ends.
func startPython(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(python3(t), args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Env = append(cmd.Env, "PYTHONIOENCODING=utf-8", "PYTHONDONTWRITEBYTECODE=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	drained := make(chan struct{})
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-drained
		cmd.Wait()
		if t.Failed() {
			t.Logf("%s stderr:\n%s", args[0], stderr.String())
		}
	})
	lines := make(chan string, 1)
	go func() {
		defer close(drained)
		br := bufio.NewReader(stdout)
		line, _ := br.ReadString('\n')
		lines <- strings.TrimSpace(line)
		io.Copy(io.Discard, br) // the seed prints each echo
	}()
	select {
	case line := <-lines:
		if line == "" {
			t.Fatalf("%s exited before it was ready", args[0])
		}
		return line
	case <-time.After(20 * time.Second):
		t.Fatalf("%s not ready after 20 s", args[0])
	}
	return ""
}

// TestSeedServer calls the seed's Basic-auth server (Python's
// xmlrpc.server) with our client.
func TestSeedServer(t *testing.T) {
	t.Parallel() // latency-bound (python3 start-up); its own seed server on port 0
	const seedPass = "seed-pass"
	line := startPython(t, []string{"RPC_PASSWORD=" + seedPass},
		filepath.Join("testdata", "python", "seed_server.py"), "--host", "127.0.0.1", "--port", "0", "--username", testUser)
	port, ok := strings.CutPrefix(line, "PORT ")
	if !ok {
		t.Fatalf("seed server said %q, want PORT <n>", line)
	}
	base := "http://" + net.JoinHostPort("127.0.0.1", port) + "/RPC2"
	c, err := rpc.NewClient(rpc.ClientConfig{URL: base, Username: testUser, Password: seedPass})
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)

	var echo string
	if err := c.Call(ctx, "echo", []any{"hello server..."}, &echo); err != nil || echo != "HELLO SERVER..." {
		t.Errorf("echo = %q, %v; want %q", echo, err, "HELLO SERVER...")
	}

	faults := []struct {
		method string
		args   []any
		code   int
		msg    string
	}{
		{"fail", nil, 4, "boom"},
		{"crash", nil, 1, "<class 'ValueError'>:bad value"},
		{"nosuch", nil, 1, `<class 'Exception'>:method "nosuch" is not supported`},
		// Python cannot send an int beyond 32 bits back.
		{"identity", []any{int64(1) << 40}, 1, "<class 'OverflowError'>:int exceeds XML-RPC limits"},
	}
	for _, f := range faults {
		err := c.Call(ctx, f.method, f.args, nil)
		var got *rpc.Fault
		if !errors.As(err, &got) || got.Code != f.code || got.Message != f.msg {
			t.Errorf("%s = %v, want fault %d %q", f.method, err, f.code, f.msg)
		}
	}

	var types map[string]any
	if err := c.Call(ctx, "types", nil, &types); err != nil {
		t.Fatalf("types = %v", err)
	}
	wantTypes := map[string]any{
		"int": int64(42), "neg": int64(-7), "bool": true, "str": "héllo 😀", "float": 1.5,
		"bytes": []byte{0, 0xff}, "when": time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		"none": nil, "list": []any{int64(1), "a", []any{int64(2)}}, "empty": map[string]any{},
	}
	if fmt.Sprintf("%#v", types) != fmt.Sprintf("%#v", wantTypes) {
		t.Errorf("types = %#v\nwant %#v", types, wantTypes)
	}

	// Round trips through Python, including a response it gzips (> 1400 B).
	long := strings.Repeat("long text ", 500)
	for _, v := range []any{nil, int64(-5), true, 2.25, "x <&> 😀", long, []byte("\x00\x01"),
		time.Date(1969, 7, 20, 20, 17, 40, 0, time.UTC), []any{"a", []any{}}, map[string]any{"k": []any{nil}}} {
		var got any
		if err := c.Call(ctx, "identity", []any{v}, &got); err != nil {
			t.Errorf("identity(%.40v) = %v", v, err)
		} else if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", v) {
			t.Errorf("identity(%.40v) = %.60v", v, got)
		}
	}

	res, err := c.Multicall(ctx, []rpc.MulticallCall{{Method: "echo", Args: []any{"a"}}, {Method: "fail"}})
	var f *rpc.Fault
	if err != nil || len(res) != 2 || res[0].Value != "A" || !errors.As(res[1].Err, &f) || f.Code != 4 {
		t.Errorf("Multicall = %+v, %v; want A, fault 4", res, err)
	}

	bad, _ := rpc.NewClient(rpc.ClientConfig{URL: base, Username: testUser, Password: "wrong"})
	if err := bad.Call(ctx, "echo", []any{"x"}, nil); !errors.Is(err, rpc.ErrUnauthorized) {
		t.Errorf("wrong password: %v, want ErrUnauthorized", err)
	}
	// The seed's handler raises on a missing Authorization header and drops
	// the connection: a clear error here, not a hang.
	none, _ := rpc.NewClient(rpc.ClientConfig{URL: base})
	if err := none.Call(ctx, "echo", []any{"x"}, nil); err == nil {
		t.Error("no credentials: nil error, want one")
	}
	if err := c.Call(ctx, "echo", []any{"again"}, &echo); err != nil || echo != "AGAIN" {
		t.Errorf("echo afterwards = %q, %v", echo, err)
	}
}

// TestPythonUnixSocketServer calls Python's xmlrpc.server listening on a
// Unix socket through a unix:// URL.
func TestPythonUnixSocketServer(t *testing.T) {
	t.Parallel() // latency-bound (python3 start-up); its own socket directory

	dir, err := os.MkdirTemp("", "rpc") // short: socket paths are limited to ~107 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "py.sock")
	if line := startPython(t, nil, filepath.Join("testdata", "python", "unix_server.py"), sock); line != "READY" {
		t.Fatalf("unix_server.py said %q, want READY", line)
	}
	for _, u := range []string{"unix://" + sock, "unix://" + sock + ":/RPC2", "unix://" + sock + ":/"} {
		c, err := rpc.NewClient(rpc.ClientConfig{URL: u})
		if err != nil {
			t.Fatal(err)
		}
		var got string
		if err := c.Call(testCtx(t), "echo", []any{"over unix"}, &got); err != nil || got != "OVER UNIX" {
			t.Errorf("%s: echo = %q, %v; want %q", u, got, err, "OVER UNIX")
		}
	}
	c, _ := rpc.NewClient(rpc.ClientConfig{URL: "unix://" + sock})
	var b []byte
	if err := c.Call(testCtx(t), "identity", []any{[]byte{1, 2, 255}}, &b); err != nil || !bytes.Equal(b, []byte{1, 2, 255}) {
		t.Errorf("identity(bytes) = %v, %v", b, err)
	}
	var f *rpc.Fault
	if err := c.Call(testCtx(t), "fail", nil, nil); !errors.As(err, &f) || f.Code != 4 {
		t.Errorf("fail = %v, want fault 4", err)
	}
	c404, _ := rpc.NewClient(rpc.ClientConfig{URL: "unix://" + sock + ":/other"})
	var he *rpc.HTTPError
	if err := c404.Call(testCtx(t), "echo", []any{"x"}, nil); !errors.As(err, &he) || he.StatusCode != 404 {
		t.Errorf("path /other = %v, want HTTP 404", err)
	}
}
