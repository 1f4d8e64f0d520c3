package rpc_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rpcssh/rpcssh/rpc"
)

const (
	testUser = "user"
	testPass = "s3cret:with:colons"
)

// echoCall is a complete methodCall of echo("hi").
const echoCall = `<?xml version="1.0"?><methodCall><methodName>echo</methodName><params><param><value><string>hi</string></value></param></params></methodCall>`

// register adds the methods every test server offers.
func register(t *testing.T, s *rpc.Server) {
	t.Helper()
	methods := []rpc.Method{
		{Name: "echo", Help: "Returns its param.", Raw: func(_ context.Context, p []any) (any, error) {
			if len(p) == 0 {
				return nil, nil
			}
			return p[0], nil
		}},
		{Name: "add", Help: "Adds two ints.", Func: func(a, b int) int { return a + b }},
		{Name: "fail", Func: func() error { return &rpc.Fault{Code: 4, Message: "boom"} }},
		{Name: "big", Func: func() int64 { return 1 << 40 }},
	}
	for _, m := range methods {
		if err := s.RegisterMethod(m); err != nil {
			t.Fatalf("RegisterMethod(%q) = %v", m.Name, err)
		}
	}
}

// newTestServer starts an httptest server with our Server behind it,
// requiring testUser/testPass unless cfg says otherwise.
func newTestServer(t *testing.T, cfg rpc.ServerConfig, extra ...rpc.Method) (*rpc.Server, *httptest.Server) {
	t.Helper()
	if cfg.Username == "" && cfg.Password == "" {
		cfg.Username, cfg.Password = testUser, testPass
	}
	s := rpc.NewServer(cfg)
	register(t, s)
	for _, m := range extra {
		if err := s.RegisterMethod(m); err != nil {
			t.Fatalf("RegisterMethod(%q) = %v", m.Name, err)
		}
	}
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	return s, hs
}

// newClient returns a Client for url with the test credentials.
func newClient(t *testing.T, url string) *rpc.Client {
	t.Helper()
	c, err := rpc.NewClient(rpc.ClientConfig{URL: url, Username: testUser, Password: testPass})
	if err != nil {
		t.Fatalf("NewClient(%q) = %v", url, err)
	}
	return c
}

// testCtx is a context bounded well inside the test timeout.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// mustEcho checks that an echo call through c succeeds.
func mustEcho(t *testing.T, c *rpc.Client) {
	t.Helper()
	var got string
	if err := c.Call(testCtx(t), "echo", []any{"still there"}, &got); err != nil || got != "still there" {
		t.Fatalf("echo after the case = %q, %v; want %q, nil", got, err, "still there")
	}
}

// post sends body to url with the test credentials and extra headers.
func post(t *testing.T, url string, body io.Reader, hdr map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(testCtx(t), http.MethodPost, url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(testUser, testPass)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestServeHTTPStatus(t *testing.T) {
	const limit = 4096
	_, hs := newTestServer(t, rpc.ServerConfig{Limits: rpc.Limits{MaxBodyBytes: limit}})
	bomb := gzipped(t, bytes.Repeat([]byte{' '}, 1<<20)) // 1 MiB in about 1 KiB
	smallBomb := gzipped(t, append([]byte(echoCall), bytes.Repeat([]byte{' '}, limit)...))
	tests := []struct {
		name       string
		method     string
		path       string
		body       func() io.Reader
		hdr        map[string]string
		wantStatus int
		wantHeader map[string]string
	}{
		{name: "post root", method: "POST", path: "/", wantStatus: 200, wantHeader: map[string]string{"Content-Type": "text/xml"}},
		{name: "post RPC2", method: "POST", path: "/RPC2", wantStatus: 200},
		{name: "get", method: "GET", path: "/RPC2", body: func() io.Reader { return nil }, wantStatus: 405, wantHeader: map[string]string{"Allow": "POST"}},
		{name: "put", method: "PUT", path: "/", wantStatus: 405, wantHeader: map[string]string{"Allow": "POST"}},
		{name: "other path", method: "POST", path: "/pydoc.css", wantStatus: 404},
		{name: "path prefix", method: "POST", path: "/RPC2/x", wantStatus: 404},
		{name: "content-length too large", method: "POST", path: "/", body: func() io.Reader {
			return strings.NewReader(echoCall + strings.Repeat(" ", limit))
		}, wantStatus: 413},
		{name: "chunked too large", method: "POST", path: "/", body: func() io.Reader {
			return io.MultiReader(strings.NewReader(echoCall), strings.NewReader(strings.Repeat(" ", limit)))
		}, wantStatus: 413},
		{name: "gzip", method: "POST", path: "/", body: func() io.Reader {
			return bytes.NewReader(gzipped(t, []byte(echoCall)))
		}, hdr: map[string]string{"Content-Encoding": "gzip"}, wantStatus: 200},
		{name: "gzip bomb", method: "POST", path: "/", body: func() io.Reader { return bytes.NewReader(bomb) },
			hdr: map[string]string{"Content-Encoding": "gzip"}, wantStatus: 413},
		{name: "gzip just past the limit", method: "POST", path: "/", body: func() io.Reader { return bytes.NewReader(smallBomb) },
			hdr: map[string]string{"Content-Encoding": "gzip"}, wantStatus: 413},
		{name: "bad gzip", method: "POST", path: "/", body: func() io.Reader { return strings.NewReader(echoCall) },
			hdr: map[string]string{"Content-Encoding": "gzip"}, wantStatus: 400},
		{name: "truncated gzip", method: "POST", path: "/", body: func() io.Reader {
			z := gzipped(t, []byte(echoCall))
			return bytes.NewReader(z[:len(z)-6])
		}, hdr: map[string]string{"Content-Encoding": "gzip"}, wantStatus: 400},
		{name: "unknown content-encoding", method: "POST", path: "/", hdr: map[string]string{"Content-Encoding": "br"}, wantStatus: 415},
		{name: "not XML is a fault", method: "POST", path: "/", body: func() io.Reader { return strings.NewReader("hello") }, wantStatus: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader = strings.NewReader(echoCall)
			if tt.body != nil {
				body = tt.body()
			}
			req, err := http.NewRequestWithContext(testCtx(t), tt.method, hs.URL+tt.path, body)
			if err != nil {
				t.Fatal(err)
			}
			req.SetBasicAuth(testUser, testPass)
			for k, v := range tt.hdr {
				req.Header.Set(k, v)
			}
			resp, err := hs.Client().Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", tt.method, tt.path, err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			for k, v := range tt.wantHeader {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if tt.wantStatus == 200 {
				b, _ := io.ReadAll(resp.Body)
				if !bytes.Contains(b, []byte("<methodResponse>")) {
					t.Errorf("body = %q, want a methodResponse", b)
				}
			}
			mustEcho(t, newClient(t, hs.URL))
		})
	}
}

func TestServerGzipResponse(t *testing.T) {
	long := strings.Repeat("gzip me ", 1000)
	tests := []struct {
		name     string
		gzip     bool
		accept   string
		arg      string
		wantGzip bool
	}{
		{name: "off by default", gzip: false, accept: "gzip", arg: long, wantGzip: false},
		{name: "on", gzip: true, accept: "gzip", arg: long, wantGzip: true},
		{name: "on, small", gzip: true, accept: "gzip", arg: "short", wantGzip: false},
		{name: "on, not accepted", gzip: true, accept: "", arg: long, wantGzip: false},
		{name: "on, q=0", gzip: true, accept: "gzip;q=0, identity", arg: long, wantGzip: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, hs := newTestServer(t, rpc.ServerConfig{Gzip: tt.gzip})
			var call bytes.Buffer
			if err := rpc.EncodeCall(&call, "echo", []any{tt.arg}); err != nil {
				t.Fatal(err)
			}
			hdr := map[string]string{"Accept-Encoding": tt.accept}
			if tt.accept == "" {
				hdr["Accept-Encoding"] = "identity"
			}
			resp := post(t, hs.URL+"/RPC2", &call, hdr)
			if got := resp.Header.Get("Content-Encoding") == "gzip"; got != tt.wantGzip {
				t.Fatalf("gzipped = %v, want %v", got, tt.wantGzip)
			}
			var r io.Reader = resp.Body
			if tt.wantGzip {
				zr, err := gzip.NewReader(resp.Body)
				if err != nil {
					t.Fatal(err)
				}
				r = zr
			}
			var got string
			if err := rpc.DecodeResponse(r, rpc.Limits{}, &got); err != nil || got != tt.arg {
				t.Errorf("decoded %d bytes, %v; want %d bytes", len(got), err, len(tt.arg))
			}
			// Our client decodes gzip responses itself.
			var got2 string
			if err := newClient(t, hs.URL).Call(testCtx(t), "echo", []any{tt.arg}, &got2); err != nil || got2 != tt.arg {
				t.Errorf("Client.Call: %d bytes, %v; want %d bytes", len(got2), err, len(tt.arg))
			}
		})
	}
}

func TestKeepAlive(t *testing.T) {
	_, hs := newTestServer(t, rpc.ServerConfig{})
	c := newClient(t, hs.URL)
	var reused []bool
	for i := range 3 {
		var mu sync.Mutex
		ctx := httptrace.WithClientTrace(testCtx(t), &httptrace.ClientTrace{
			GotConn: func(info httptrace.GotConnInfo) {
				mu.Lock()
				reused = append(reused, info.Reused)
				mu.Unlock()
			},
		})
		var got int
		if err := c.Call(ctx, "add", []any{i, 1}, &got); err != nil || got != i+1 {
			t.Fatalf("add(%d, 1) = %d, %v", i, got, err)
		}
	}
	if want := []bool{false, true, true}; fmt.Sprint(reused) != fmt.Sprint(want) {
		t.Errorf("connection reused = %v, want %v", reused, want)
	}
}

// blockingMethod returns a method that signals entered and waits for
// release or its ctx; it reports how it ended on done.
func blockingMethod(name string, entered chan<- struct{}, release <-chan struct{}, done chan<- error) rpc.Method {
	return rpc.Method{Name: name, Func: func(ctx context.Context) (string, error) {
		entered <- struct{}{}
		select {
		case <-release:
			done <- nil
			return "released", nil
		case <-ctx.Done():
			done <- ctx.Err()
			return "", ctx.Err()
		case <-time.After(20 * time.Second):
			done <- errors.New("neither released nor cancelled")
			return "", errors.New("timeout")
		}
	}}
}

func TestSlowMethodDoesNotBlockOthers(t *testing.T) {
	entered, release, done := make(chan struct{}, 1), make(chan struct{}), make(chan error, 1)
	_, hs := newTestServer(t, rpc.ServerConfig{}, blockingMethod("slow", entered, release, done))
	c := newClient(t, hs.URL)
	slowErr := make(chan error, 1)
	go func() {
		var s string
		slowErr <- c.Call(testCtx(t), "slow", nil, &s)
	}()
	<-entered
	mustEcho(t, c)                    // same client, another connection
	mustEcho(t, newClient(t, hs.URL)) // another client
	close(release)
	if err := <-slowErr; err != nil {
		t.Errorf("slow call = %v, want nil", err)
	}
}

func TestConcurrentCallsInFlight(t *testing.T) {
	const n = 50
	var inFlight, maxInFlight atomic.Int32
	all := make(chan struct{})
	var once sync.Once
	barrier := rpc.Method{Name: "barrier", Func: func(ctx context.Context) (int, error) {
		cur := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := maxInFlight.Load()
			if cur <= m || maxInFlight.CompareAndSwap(m, cur) {
				break
			}
		}
		if cur == n {
			once.Do(func() { close(all) })
		}
		select { // every call waits until all n are inside the method at once
		case <-all:
			return int(cur), nil
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}}
	_, hs := newTestServer(t, rpc.ServerConfig{}, barrier)
	c := newClient(t, hs.URL)
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	errs := make(chan error, n)
	for range n {
		go func() {
			var got int
			errs <- c.Call(ctx, "barrier", nil, &got)
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Errorf("barrier call = %v", err)
		}
	}
	if got := maxInFlight.Load(); got != n {
		t.Errorf("max calls in flight = %d, want %d", got, n)
	}
}

func TestClientGoneCancelsMethod(t *testing.T) {
	entered, release, done := make(chan struct{}, 1), make(chan struct{}), make(chan error, 1)
	_, hs := newTestServer(t, rpc.ServerConfig{}, blockingMethod("slow", entered, release, done))
	defer close(release)
	c := newClient(t, hs.URL)
	ctx, cancel := context.WithCancel(t.Context())
	callErr := make(chan error, 1)
	go func() { callErr <- c.Call(ctx, "slow", nil, nil) }()
	<-entered
	cancel()
	if err := <-callErr; !errors.Is(err, context.Canceled) {
		t.Errorf("Call = %v, want context.Canceled", err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("method ended with %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("method ctx not cancelled 10 s after the client gave up")
	}
}

// serve runs s.Serve on a fresh loopback listener until the test ends, and
// returns its URL and a channel with Serve's result.
func serve(t *testing.T, s *rpc.Server, ctx context.Context) (string, <-chan error) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ctx, l) }()
	return "http://" + l.Addr().String() + "/RPC2", errc
}

func TestServeGracefulShutdown(t *testing.T) {
	entered, release, done := make(chan struct{}, 1), make(chan struct{}), make(chan error, 1)
	s := rpc.NewServer(rpc.ServerConfig{Username: testUser, Password: testPass})
	register(t, s)
	if err := s.RegisterMethod(blockingMethod("slow", entered, release, done)); err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	url, served := serve(t, s, ctx)
	c := newClient(t, url)
	mustEcho(t, c)
	callErr := make(chan error, 1)
	var got string
	go func() { callErr <- c.Call(testCtx(t), "slow", nil, &got) }()
	<-entered
	stop()
	// Serve must wait for the call in flight, and stop accepting meanwhile.
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/RPC2"), time.Second)
		if err != nil {
			break
		}
		conn.Close()
		if time.Now().After(deadline) {
			t.Fatal("listener still accepting 10 s after shutdown began")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-served:
		t.Fatalf("Serve returned %v with a call in flight", err)
	default:
	}
	close(release)
	if err := <-callErr; err != nil || got != "released" {
		t.Errorf("call in flight = %q, %v; want %q, nil", got, err, "released")
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after the last call finished")
	}
}

func TestServeShutdownTimeout(t *testing.T) {
	entered, release, done := make(chan struct{}, 1), make(chan struct{}), make(chan error, 1)
	defer close(release)
	s := rpc.NewServer(rpc.ServerConfig{ShutdownTimeout: 100 * time.Millisecond})
	if err := s.RegisterMethod(blockingMethod("slow", entered, release, done)); err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(t.Context())
	url, served := serve(t, s, ctx)
	c, err := rpc.NewClient(rpc.ClientConfig{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	callErr := make(chan error, 1)
	go func() { callErr <- c.Call(testCtx(t), "slow", nil, nil) }()
	<-entered
	stop()
	select {
	case err := <-served:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Serve = %v, want context.DeadlineExceeded", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after ShutdownTimeout")
	}
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("method ended with %v, want its ctx cancelled", err)
	}
	if err := <-callErr; err == nil {
		t.Error("call cut by shutdown succeeded")
	}
}

func TestServeListenerClosed(t *testing.T) {
	s := rpc.NewServer(rpc.ServerConfig{})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if err := s.Serve(t.Context(), l); err == nil || !errors.Is(err, net.ErrClosed) {
		t.Errorf("Serve on a closed listener = %v, want net.ErrClosed", err)
	}
}

// rawConn opens a TCP connection to the host of url.
func rawConn(t *testing.T, url string) net.Conn {
	t.Helper()
	host := strings.TrimPrefix(url, "http://")
	host, _, _ = strings.Cut(host, "/")
	conn, err := net.DialTimeout("tcp", host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// closedWithin reads from conn until it is closed (or fails) and returns
// what it read; it fails the test if that takes longer than d.
func closedWithin(t *testing.T, conn net.Conn, d time.Duration) string {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(d))
	b, err := io.ReadAll(conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("connection still open after %v (read %q)", d, b)
	}
	return string(b)
}

func TestStalledBodyTimesOut(t *testing.T) {
	s := rpc.NewServer(rpc.ServerConfig{Username: testUser, Password: testPass, ReadTimeout: 300 * time.Millisecond})
	register(t, s)
	url, _ := serve(t, s, t.Context())
	conn := rawConn(t, url)
	fmt.Fprintf(conn, "POST /RPC2 HTTP/1.1\r\nHost: x\r\nAuthorization: Basic %s\r\nContent-Length: %d\r\n\r\n%s",
		basic(testUser, testPass), len(echoCall), echoCall[:20]) // and then nothing
	mustEcho(t, newClient(t, url)) // served meanwhile
	got := closedWithin(t, conn, 10*time.Second)
	if !strings.HasPrefix(got, "HTTP/1.1 408 ") {
		t.Errorf("stalled client got %q, want a 408", got)
	}
	mustEcho(t, newClient(t, url))
}

func TestSlowlorisHeaders(t *testing.T) {
	s := rpc.NewServer(rpc.ServerConfig{Username: testUser, Password: testPass, ReadHeaderTimeout: 300 * time.Millisecond})
	register(t, s)
	url, _ := serve(t, s, t.Context())
	conn := rawConn(t, url)
	io.WriteString(conn, "POST /RPC2 HTTP/1.1\r\nHost: x\r\n")
	drip := make(chan struct{})
	go func() { // one header byte every 100 ms, never finishing
		defer close(drip)
		for range 100 {
			if _, err := io.WriteString(conn, "X"); err != nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	mustEcho(t, newClient(t, url))
	closedWithin(t, conn, 10*time.Second)
	conn.Close()
	<-drip
	mustEcho(t, newClient(t, url))
}

func TestSlowReaderTimesOut(t *testing.T) {
	big := strings.Repeat("x", 8<<20)
	logs := &logRecords{ch: make(chan struct{}, 10)}
	s := rpc.NewServer(rpc.ServerConfig{WriteTimeout: 300 * time.Millisecond, Logger: slog.New(logs)})
	if err := s.Register("huge", func() string { return big }); err != nil {
		t.Fatal(err)
	}
	register(t, s)
	url, _ := serve(t, s, t.Context())
	// A small receive buffer, so the response cannot all sit in the kernel.
	d := net.Dialer{Timeout: 5 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) {
			setReceiveBuffer(fd, 4096)
		})
	}}
	conn, err := d.Dial("tcp", strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/RPC2"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	call := `<?xml version="1.0"?><methodCall><methodName>huge</methodName></methodCall>`
	fmt.Fprintf(conn, "POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", len(call), call)
	// Read nothing until the handler is done (its log line is written after
	// the response): only the write deadline can have ended it.
	select {
	case <-logs.ch:
	case <-time.After(20 * time.Second):
		t.Fatal("handler still writing to a client that does not read, 20 s on")
	}
	c, err := rpc.NewClient(rpc.ClientConfig{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	mustEcho(t, c)
	n, _ := io.Copy(io.Discard, readDeadline(conn, 10*time.Second))
	if n >= int64(len(big)) {
		t.Errorf("slow reader got %d bytes, want the response cut short of %d", n, len(big))
	}
}

func readDeadline(conn net.Conn, d time.Duration) io.Reader {
	conn.SetReadDeadline(time.Now().Add(d))
	return conn
}

func TestManyIdleConnections(t *testing.T) {
	const n = 1000
	s := rpc.NewServer(rpc.ServerConfig{Username: testUser, Password: testPass})
	register(t, s)
	url, _ := serve(t, s, t.Context())
	host := strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/RPC2")
	conns := make([]net.Conn, 0, n)
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for i := range n {
		conn, err := net.DialTimeout("tcp", host, 5*time.Second)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		if i%2 == 0 { // half of them start a request and stall
			io.WriteString(conn, "POST /RPC2 HTTP/1.1\r\n")
		}
		conns = append(conns, conn)
	}
	mustEcho(t, newClient(t, url))
	// They are still open: a read neither fails nor returns data.
	for _, i := range []int{0, 1, n - 2, n - 1} {
		conns[i].SetReadDeadline(time.Now().Add(10 * time.Millisecond))
		var b [1]byte
		_, err := conns[i].Read(b[:])
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("connection %d: read = %v, want a timeout (still open)", i, err)
		}
	}
}

// logRecords is a slog.Handler that keeps records, safe for concurrent use.
type logRecords struct {
	mu   sync.Mutex
	recs []slog.Record
	ch   chan struct{}
}

func (h *logRecords) Enabled(context.Context, slog.Level) bool { return true }
func (h *logRecords) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.recs = append(h.recs, r.Clone())
	h.mu.Unlock()
	h.ch <- struct{}{}
	return nil
}
func (h *logRecords) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *logRecords) WithGroup(string) slog.Handler      { return h }

func TestServerLogs(t *testing.T) {
	h := &logRecords{ch: make(chan struct{}, 10)}
	_, hs := newTestServer(t, rpc.ServerConfig{Logger: slog.New(h)})
	c := newClient(t, hs.URL)
	const secretArg = "param-must-not-be-logged"
	c.Call(testCtx(t), "echo", []any{secretArg}, nil)
	c.Call(testCtx(t), "fail", nil, nil)
	bad, _ := rpc.NewClient(rpc.ClientConfig{URL: hs.URL, Username: testUser, Password: "wrong-password"})
	bad.Call(testCtx(t), "echo", nil, nil)
	for range 3 {
		select {
		case <-h.ch:
		case <-time.After(10 * time.Second):
			t.Fatal("no log line 10 s after a call")
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	var lines []string
	for _, r := range h.recs {
		var b strings.Builder
		b.WriteString(r.Level.String() + " " + r.Message)
		r.Attrs(func(a slog.Attr) bool {
			if a.Key != "duration" && a.Key != "remote" {
				fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
			}
			return true
		})
		lines = append(lines, b.String())
	}
	want := []string{
		"DEBUG rpc call method=echo status=200",
		"INFO rpc call method=fail status=200 fault=4",
		"WARN rpc call method= status=401",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("log lines:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	all := strings.Join(lines, " ")
	for _, secret := range []string{secretArg, testPass, "wrong-password", basic(testUser, testPass)} {
		if strings.Contains(all, secret) {
			t.Errorf("log contains %q", secret)
		}
	}
}

func TestRegisterReturnsRegistryError(t *testing.T) {
	s := rpc.NewServer(rpc.ServerConfig{})
	tests := []struct {
		name string
		fn   any
	}{
		{"not a func", 42},
		{"bad param", func(chan int) {}},
		{"bad name<", func() {}},
		{"echo", func() {}}, // registered twice below
	}
	if err := s.Register("echo", func(s string) string { return s }); err != nil {
		t.Fatalf("Register(echo) = %v", err)
	}
	for _, tt := range tests {
		if err := s.Register(tt.name, tt.fn); err == nil {
			t.Errorf("Register(%q, %T) = nil, want an error", tt.name, tt.fn)
		}
	}
}

// readResponse reads one HTTP response from a raw connection.
func readResponse(t *testing.T, conn net.Conn, br *bufio.Reader) *http.Response {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// TestLongMethodOutlivesTimeouts: ReadTimeout and WriteTimeout bound the
// transfer, not the method: a call running past both still succeeds.
func TestLongMethodOutlivesTimeouts(t *testing.T) {
	entered, release, done := make(chan struct{}, 1), make(chan struct{}), make(chan error, 1)
	s := rpc.NewServer(rpc.ServerConfig{ReadTimeout: 100 * time.Millisecond, WriteTimeout: 100 * time.Millisecond})
	if err := s.RegisterMethod(blockingMethod("slow", entered, release, done)); err != nil {
		t.Fatal(err)
	}
	url, _ := serve(t, s, t.Context())
	c, err := rpc.NewClient(rpc.ClientConfig{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second call reuses the connection, with old deadlines passed
		callErr := make(chan error, 1)
		var got string
		go func() { callErr <- c.Call(testCtx(t), "slow", nil, &got) }()
		<-entered
		time.Sleep(400 * time.Millisecond)
		release <- struct{}{}
		if err := <-done; err != nil {
			t.Errorf("method ended with %v, want released", err)
		}
		if err := <-callErr; err != nil || got != "released" {
			t.Errorf("Call = %q, %v; want %q, nil", got, err, "released")
		}
	}
}
