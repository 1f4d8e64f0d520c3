package rpc_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rpcssh/rpcssh/rpc"
)

const okResponse = `<?xml version="1.0"?><methodResponse><params><param><value><string>ok</string></value></param></params></methodResponse>`

func TestCallFault(t *testing.T) {
	_, hs := newTestServer(t, rpc.ServerConfig{})
	c := newClient(t, hs.URL)
	err := c.Call(testCtx(t), "fail", nil, nil)
	var f *rpc.Fault
	if !errors.As(err, &f) || f.Code != 4 || f.Message != "boom" {
		t.Fatalf("Call(fail) = %v, want *Fault 4 boom", err)
	}
	if got, want := err.Error(), `rpc: call "fail": fault 4: boom`; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
	err = c.Call(testCtx(t), "nosuch", nil, nil)
	if !errors.As(err, &f) || f.Code != rpc.CodeMethodNotFound {
		t.Errorf("Call(nosuch) = %v, want fault %d", err, rpc.CodeMethodNotFound)
	}
}

func TestCallTypes(t *testing.T) {
	_, hs := newTestServer(t, rpc.ServerConfig{})
	c := newClient(t, hs.URL)
	when := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		arg  any
		want any
	}{
		{"nil", nil, nil},
		{"int", 42, int64(42)},
		{"i8", int64(1) << 40, int64(1) << 40},
		{"bool", true, true},
		{"double", 1.5, 1.5},
		{"string", "a<b>&c ]]> 😀", "a<b>&c ]]> 😀"},
		{"bytes", []byte{0, 0xff}, []byte{0, 0xff}},
		{"time", when, when},
		{"array", []any{1, "a"}, []any{int64(1), "a"}},
		{"struct", map[string]any{"k": "v"}, map[string]any{"k": "v"}},
	}
	for _, tt := range tests {
		var got any
		if err := c.Call(testCtx(t), "echo", []any{tt.arg}, &got); err != nil {
			t.Errorf("echo(%s) = %v", tt.name, err)
			continue
		}
		if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", tt.want) {
			t.Errorf("echo(%s) = %#v, want %#v", tt.name, got, tt.want)
		}
	}
	var sum int
	if err := c.Call(testCtx(t), "add", []any{40, 2}, &sum); err != nil || sum != 42 {
		t.Errorf("add(40, 2) = %d, %v; want 42", sum, err)
	}
}

// TestCallSmallBodyWithHeaders: a small call goes out in one write with
// its headers, so a server that answers from its first read and closes (as
// Python's HTTP/1.0 xmlrpc.server does on a wrong path) has the whole
// request, and the call ends with its answer, not a broken pipe.
func TestCallSmallBodyWithHeaders(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	first := make(chan string, 1)
	go func() {
		conn, err := l.Accept()
		if err != nil {
			first <- err.Error()
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(20 * time.Second))
		b := make([]byte, 64<<10)
		n, _ := conn.Read(b)
		first <- string(b[:n])
		io.WriteString(conn, "HTTP/1.0 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\nNo such page")
	}()
	c, err := rpc.NewClient(rpc.ClientConfig{URL: "http://" + l.Addr().String() + "/other"})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Call(testCtx(t), "echo", []any{"x"}, nil)
	var he *rpc.HTTPError
	if !errors.As(err, &he) || he.StatusCode != http.StatusNotFound {
		t.Errorf("Call = %v, want HTTP 404", err)
	}
	if got := <-first; !strings.HasSuffix(strings.TrimSpace(got), "</methodCall>") {
		t.Errorf("the server's first read got %q, want the whole request", got)
	}
}

// TestCallBrokenServers: a hostile or broken server never crashes or hangs
// the client; each case is a clear error.
func TestCallBrokenServers(t *testing.T) {
	const limit = 1 << 20
	gz := func(b []byte) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(b)
		zw.Close()
		return buf.Bytes()
	}
	xml := func(w http.ResponseWriter, body []byte) {
		w.Header().Set("Content-Type", "text/xml")
		w.Write(body)
	}
	tests := []struct {
		name    string
		handler http.HandlerFunc
		timeout time.Duration
		check   func(error) bool
		want    string
	}{
		{name: "401", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("WWW-Authenticate", `Basic realm="x"`)
			http.Error(w, "no", 401)
		}, check: func(err error) bool {
			var he *rpc.HTTPError
			return errors.Is(err, rpc.ErrUnauthorized) && errors.As(err, &he) && he.StatusCode == 401
		}, want: `rpc: call "m": http status 401 Unauthorized`},
		{name: "500", handler: func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "oops", 500)
		}, check: func(err error) bool {
			var he *rpc.HTTPError
			return !errors.Is(err, rpc.ErrUnauthorized) && errors.As(err, &he) && he.StatusCode == 500 && he.Status == "500 Internal Server Error"
		}, want: `rpc: call "m": http status 500 Internal Server Error`},
		{name: "HTML", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, "<html><body>Welcome to nginx!</body></html>")
		}, want: `rpc: call "m": response is text/html, not XML`},
		{name: "HTML labelled as XML", handler: func(w http.ResponseWriter, r *http.Request) {
			xml(w, []byte("<html><body>hi</body></html>"))
		}},
		{name: "empty", handler: func(w http.ResponseWriter, r *http.Request) {}},
		{name: "truncated", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", fmt.Sprint(len(okResponse)))
			xml(w, []byte(okResponse[:len(okResponse)/2]))
		}},
		{name: "oversized", handler: func(w http.ResponseWriter, r *http.Request) {
			xml(w, []byte(strings.Replace(okResponse, "ok", strings.Repeat("x", 2*limit), 1)))
		}, check: func(err error) bool { return errors.Is(err, rpc.ErrResponseTooLarge) }},
		{name: "never-ending", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/xml")
			io.WriteString(w, "<?xml version=\"1.0\"?><methodResponse><params><param><value><string>")
			chunk := bytes.Repeat([]byte("x"), 32<<10)
			for r.Context().Err() == nil {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		}, check: func(err error) bool { return errors.Is(err, rpc.ErrResponseTooLarge) }},
		{name: "stalled", timeout: 300 * time.Millisecond, handler: func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body) // so net/http notices the client leaving
			w.Header().Set("Content-Type", "text/xml")
			io.WriteString(w, "<?xml version=\"1.0\"?><methodResponse><params>")
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}, check: func(err error) bool { return errors.Is(err, context.DeadlineExceeded) }},
		{name: "no answer", timeout: 300 * time.Millisecond, handler: func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			<-r.Context().Done()
		}, check: func(err error) bool { return errors.Is(err, context.DeadlineExceeded) }},
		{name: "gzip bomb", handler: func(w http.ResponseWriter, r *http.Request) {
			// okResponse with 8*limit x's for "ok", as gzip members that
			// readers concatenate: its head, one member of limit x's eight
			// times, its tail (deflating 8 MiB in one member takes seconds
			// under -race; the inflated bytes are the same).
			head, tail, _ := strings.Cut(okResponse, "ok")
			w.Header().Set("Content-Encoding", "gzip")
			xml(w, bytes.Join([][]byte{gz([]byte(head)), bytes.Repeat(gz(bytes.Repeat([]byte("x"), limit)), 8), gz([]byte(tail))}, nil))
		}, check: func(err error) bool { return errors.Is(err, rpc.ErrResponseTooLarge) }},
		{name: "bad gzip", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			xml(w, []byte(okResponse))
		}},
		{name: "unknown encoding", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "br")
			xml(w, []byte(okResponse))
		}, want: `rpc: call "m": response: unsupported Content-Encoding "br"`},
		{name: "deeply nested", handler: func(w http.ResponseWriter, r *http.Request) {
			const n = 100000
			xml(w, []byte("<?xml version=\"1.0\"?><methodResponse><params><param><value>"+
				strings.Repeat("<array><data><value>", n)))
		}},
		{name: "fault with a string code", handler: func(w http.ResponseWriter, r *http.Request) {
			xml(w, []byte(`<?xml version="1.0"?><methodResponse><fault><value><struct>`+
				`<member><name>faultCode</name><value><string>x</string></value></member>`+
				`<member><name>faultString</name><value><string>m</string></value></member>`+
				`</struct></value></fault></methodResponse>`))
		}},
		{name: "two documents", handler: func(w http.ResponseWriter, r *http.Request) {
			xml(w, []byte(okResponse+okResponse))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := httptest.NewServer(tt.handler)
			t.Cleanup(hs.Close)
			c, err := rpc.NewClient(rpc.ClientConfig{URL: hs.URL, Limits: rpc.Limits{MaxBodyBytes: limit}})
			if err != nil {
				t.Fatal(err)
			}
			ctx := testCtx(t)
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			var got any
			err = c.Call(ctx, "m", nil, &got)
			if err == nil {
				t.Fatalf("Call = nil error, result %.40q; want an error", fmt.Sprint(got))
			}
			if !strings.HasPrefix(err.Error(), `rpc: call "m": `) {
				t.Errorf("error %q lacks the call prefix", err)
			}
			if tt.check != nil && !tt.check(err) {
				t.Errorf("error = %v: not the wanted kind", err)
			}
			if tt.want != "" && err.Error() != tt.want {
				t.Errorf("error = %q, want %q", err, tt.want)
			}
			var f *rpc.Fault
			if errors.As(err, &f) && tt.name != "fault with a string code" {
				t.Errorf("error = %v is a *Fault; want a transport error", err)
			}
		})
	}
}

func TestCallGzipResponse(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept-Encoding") != "gzip" {
			t.Errorf("Accept-Encoding = %q, want gzip", r.Header.Get("Accept-Encoding"))
		}
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		io.WriteString(zw, okResponse)
		zw.Close()
	}))
	t.Cleanup(hs.Close)
	c, err := rpc.NewClient(rpc.ClientConfig{URL: hs.URL})
	if err != nil {
		t.Fatal(err)
	}
	var got string
	if err := c.Call(testCtx(t), "m", nil, &got); err != nil || got != "ok" {
		t.Errorf("Call = %q, %v; want %q", got, err, "ok")
	}
}

func TestNewClientURLs(t *testing.T) {
	tests := []struct {
		url     string
		wantErr string
	}{
		{url: "http://127.0.0.1:8000/RPC2"},
		{url: "https://example.com/"},
		{url: "http://user:pw@[::1]:8000/RPC2"},
		{url: "unix:///run/rpc.sock"},
		{url: "unix:///run/rpc.sock:/RPC3"},
		{url: "unix://user:pw@/run/rpc.sock"},
		{url: "", wantErr: "scheme must be http, https or unix"},
		{url: "ftp://host/", wantErr: `rpc: invalid URL ftp://host/: scheme must be http, https or unix`},
		{url: "http:///RPC2", wantErr: "no host"},
		{url: "unix://host/run/rpc.sock", wantErr: "want unix:///absolute/path.sock[:/path]"},
		{url: "unix:rpc.sock", wantErr: "want unix:///absolute/path.sock[:/path]"},
		{url: "http://user:hunter2@host:port/", wantErr: "rpc: invalid URL: "},
		{url: "http://user:hunter2@ho st/", wantErr: "rpc: invalid URL: "},
		{url: "ftp://user:hunter2@host/", wantErr: "rpc: invalid URL ftp://host/"},
	}
	for _, tt := range tests {
		_, err := rpc.NewClient(rpc.ClientConfig{URL: tt.url})
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("NewClient(%q) = %v, want nil", tt.url, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("NewClient(%q) = %v, want an error containing %q", tt.url, err, tt.wantErr)
		case err != nil && strings.Contains(err.Error(), "hunter2"):
			t.Errorf("NewClient(%q) = %v: the password leaks", tt.url, err)
		}
	}
	_, err := rpc.NewClient(rpc.ClientConfig{URL: "unix:///x.sock", HTTPClient: &http.Client{}})
	if err == nil {
		t.Error("NewClient(unix URL with an HTTPClient) = nil, want an error")
	}
}

func TestCredentialsFromURL(t *testing.T) {
	_, hs := newTestServer(t, rpc.ServerConfig{})
	u, _ := url.Parse(hs.URL)
	u.User = url.UserPassword(testUser, testPass)
	u.Path = "/RPC2"
	tests := []struct {
		name       string
		cfg        rpc.ClientConfig
		wantStatus int // 0: success
	}{
		{"from URL", rpc.ClientConfig{URL: u.String()}, 0},
		{"config wins", rpc.ClientConfig{URL: u.String(), Username: testUser, Password: "wrong"}, 401},
		{"config only", rpc.ClientConfig{URL: hs.URL, Username: testUser, Password: testPass}, 0},
		{"none", rpc.ClientConfig{URL: hs.URL}, 401},
	}
	for _, tt := range tests {
		c, err := rpc.NewClient(tt.cfg)
		if err != nil {
			t.Fatalf("%s: NewClient = %v", tt.name, err)
		}
		err = c.Call(testCtx(t), "echo", nil, nil)
		var he *rpc.HTTPError
		switch {
		case tt.wantStatus == 0 && err != nil:
			t.Errorf("%s: Call = %v, want nil", tt.name, err)
		case tt.wantStatus != 0 && (!errors.As(err, &he) || he.StatusCode != tt.wantStatus):
			t.Errorf("%s: Call = %v, want HTTP %d", tt.name, err, tt.wantStatus)
		}
	}
}

// TestErrorsHidePassword: a failing call through a URL with a password
// never shows it.
func TestErrorsHidePassword(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	c, err := rpc.NewClient(rpc.ClientConfig{URL: "http://user:hunter2@" + addr + "/RPC2"})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Call(testCtx(t), "echo", nil, nil)
	if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), addr) {
		t.Errorf("Call = %v; want an error naming %s without the password", err, addr)
	}
}

func TestUnixSocketURL(t *testing.T) {
	s := rpc.NewServer(rpc.ServerConfig{Username: testUser, Password: testPass})
	register(t, s)
	sock := filepath.Join(t.TempDir(), "rpc.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(t.Context(), l)
	tests := []struct {
		url        string
		wantStatus int
	}{
		{"unix://" + sock, 0},
		{"unix://" + sock + ":/RPC2", 0},
		{"unix://" + sock + ":/", 0},
		{"unix://" + sock + ":/elsewhere", 404},
	}
	for _, tt := range tests {
		c, err := rpc.NewClient(rpc.ClientConfig{URL: tt.url, Username: testUser, Password: testPass})
		if err != nil {
			t.Fatalf("NewClient(%q) = %v", tt.url, err)
		}
		var got int
		err = c.Call(testCtx(t), "add", []any{1, 2}, &got)
		var he *rpc.HTTPError
		switch {
		case tt.wantStatus == 0 && (err != nil || got != 3):
			t.Errorf("%s: add(1, 2) = %d, %v; want 3", tt.url, got, err)
		case tt.wantStatus != 0 && (!errors.As(err, &he) || he.StatusCode != tt.wantStatus):
			t.Errorf("%s: Call = %v, want HTTP %d", tt.url, err, tt.wantStatus)
		}
	}
	c, _ := rpc.NewClient(rpc.ClientConfig{URL: "unix://" + filepath.Join(t.TempDir(), "missing.sock")})
	if err := c.Call(testCtx(t), "add", nil, nil); err == nil || !strings.Contains(err.Error(), "missing.sock") {
		t.Errorf("Call to a missing socket = %v, want an error naming it", err)
	}
}

func TestMulticall(t *testing.T) {
	_, hs := newTestServer(t, rpc.ServerConfig{})
	c := newClient(t, hs.URL)
	var sum int
	var badReply []string
	res, err := c.Multicall(testCtx(t), []rpc.MulticallCall{
		{Method: "echo", Args: []any{"a"}},
		{Method: "fail"},
		{Method: "add", Args: []any{2, 3}, Reply: &sum},
		{Method: "nosuch"},
		{Method: "add", Args: []any{"x", 1}},
		{Method: "add", Args: []any{1, 1}, Reply: &badReply},
	})
	if err != nil {
		t.Fatalf("Multicall = %v", err)
	}
	type want struct {
		value any
		code  int // fault code; 0: none
		err   bool
	}
	wants := []want{
		{value: "a"},
		{code: 4},
		{value: int64(5)},
		{code: rpc.CodeMethodNotFound},
		{code: rpc.CodeInvalidParams},
		{value: int64(2), err: true},
	}
	if len(res) != len(wants) {
		t.Fatalf("got %d results, want %d", len(res), len(wants))
	}
	for i, w := range wants {
		var f *rpc.Fault
		gotCode := 0
		if errors.As(res[i].Err, &f) {
			gotCode = f.Code
		}
		if res[i].Value != w.value || gotCode != w.code || (res[i].Err != nil) != (w.err || w.code != 0) {
			t.Errorf("result %d = %#v, %v; want %#v, fault %d, error %v", i, res[i].Value, res[i].Err, w.value, w.code, w.err)
		}
	}
	if sum != 5 {
		t.Errorf("Reply of add(2, 3) = %d, want 5", sum)
	}
	if _, err := c.Multicall(testCtx(t), nil); err != nil {
		t.Errorf("empty Multicall = %v, want nil", err)
	}
}

// TestClientConnectionPool: after 64 calls in flight at once, the next 64
// reuse those connections: the default transport keeps at least 64 idle
// connections per host.
func TestClientConnectionPool(t *testing.T) {
	const n = 64
	var arrived atomic.Int32
	var mu sync.Mutex
	gate := make(chan struct{})
	barrier := rpc.Method{Name: "barrier", Func: func(ctx context.Context) error {
		mu.Lock()
		g := gate
		if arrived.Add(1)%n == 0 { // the last of a round opens the gate
			close(gate)
			gate = make(chan struct{})
		}
		mu.Unlock()
		select {
		case <-g:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}}
	s := rpc.NewServer(rpc.ServerConfig{})
	if err := s.RegisterMethod(barrier); err != nil {
		t.Fatal(err)
	}
	var conns atomic.Int32
	hs := httptest.NewUnstartedServer(s)
	hs.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	hs.Start()
	t.Cleanup(hs.Close)
	c, err := rpc.NewClient(rpc.ClientConfig{URL: hs.URL})
	if err != nil {
		t.Fatal(err)
	}
	for round := range 2 {
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				if err := c.Call(testCtx(t), "barrier", nil, nil); err != nil {
					t.Errorf("round %d: %v", round, err)
				}
			})
		}
		wg.Wait()
	}
	if got := conns.Load(); got != n {
		t.Errorf("%d connections for 2 rounds of %d parallel calls, want %d", got, n, n)
	}
}

// TestPluggableTransport: the SSH tunnel plugs in as an http.Transport
// whose DialContext ignores the URL's address; here it dials the test
// server, so the URL's host never resolves.
func TestPluggableTransport(t *testing.T) {
	_, hs := newTestServer(t, rpc.ServerConfig{})
	var dials atomic.Int32
	tr := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		dials.Add(1)
		var d net.Dialer
		return d.DialContext(ctx, network, hs.Listener.Addr().String())
	}}
	t.Cleanup(tr.CloseIdleConnections)
	c, err := rpc.NewClient(rpc.ClientConfig{URL: "http://tunnel.invalid/RPC2", Username: testUser, Password: testPass,
		HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		mustEcho(t, c)
	}
	if got := dials.Load(); got != 1 {
		t.Errorf("%d dials for 3 sequential calls, want 1 (keep-alive)", got)
	}
}
