package rpc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"reflect"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// ClientConfig configures a Client.
type ClientConfig struct {
	// URL of the server: http://host:port/RPC2 (https too), or a Unix socket
	// as unix:///path/to.sock (HTTP path /RPC2) or unix:///path/to.sock:/PATH
	// (the socket path ends at the first ":/"). Userinfo in the URL
	// (http://user:pass@host/) gives the Basic credentials unless Username
	// or Password are set.
	URL string

	Username, Password string // HTTP Basic auth, sent when either is set

	// HTTPClient makes the requests; nil: a client of the Client's own
	// (keep-alive, up to 64 idle connections, no overall timeout: bound
	// calls with their ctx). The SSH tunnel plugs in as
	// &http.Client{Transport: &http.Transport{DialContext: t.DialContext,
	// MaxIdleConnsPerHost: 64}} (net/http's default of 2 idle connections
	// would make parallel calls redial). A unix:// URL needs HTTPClient nil:
	// it dials the socket itself.
	HTTPClient *http.Client

	Limits Limits // response body size (also after gzip decoding) and depth
}

// Client calls methods on one XML-RPC server. It is safe for use by many
// goroutines at once; calls run concurrently, each on a connection of its
// own from the HTTP client's pool.
type Client struct {
	url        string // without userinfo: safe in errors
	user, pass string
	auth       bool
	hc         *http.Client
	lim        Limits
	pools
	// oneShot, once set, replaces hc: the server closed a kept-alive
	// connection unannounced, so every call goes on a new connection.
	oneShot atomic.Pointer[http.Client]
}

// ErrUnauthorized is matched (errors.Is) by the *HTTPError of a 401 answer.
var ErrUnauthorized = errors.New("rpc: unauthorized")

// HTTPError is a response with a status other than 200 OK.
type HTTPError struct {
	StatusCode int    // 401
	Status     string // "401 Unauthorized"
	// Location is where a redirect (3xx) points, any password in it
	// redacted. The Client follows no redirect: it would resend the
	// credentials to wherever the server says.
	Location string
}

func (e *HTTPError) Error() string {
	if e.Location != "" {
		return "http status " + e.Status + ": redirected to " + e.Location + " (not followed)"
	}
	return "http status " + e.Status
}

// Is makes errors.Is(err, ErrUnauthorized) true for a 401.
func (e *HTTPError) Is(target error) bool {
	return target == ErrUnauthorized && e.StatusCode == http.StatusUnauthorized
}

// NewClient checks cfg and returns a Client. It does not connect.
func NewClient(cfg ClientConfig) (*Client, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // ue.URL may hold a password
		}
		return nil, fmt.Errorf("rpc: invalid URL: %w", err)
	}
	c := &Client{user: cfg.Username, pass: cfg.Password, lim: cfg.Limits.withDefaults()}
	if cfg.HTTPClient != nil {
		hc := *cfg.HTTPClient // a copy: the caller's client keeps its own redirect policy
		hc.CheckRedirect = noRedirect
		c.hc = &hc
	}
	if u.User != nil && cfg.Username == "" && cfg.Password == "" {
		c.user = u.User.Username()
		c.pass, _ = u.User.Password()
	}
	c.auth = c.user != "" || c.pass != ""
	u.User = nil
	u.Fragment, u.RawFragment = "", ""

	switch u.Scheme {
	case "http", "https":
		if u.Host == "" {
			return nil, fmt.Errorf("rpc: invalid URL %s: no host", u.Redacted())
		}
		if c.hc == nil {
			c.hc = &http.Client{Transport: newTransport(nil), CheckRedirect: noRedirect}
		}
	case "unix":
		sock, path, _ := strings.Cut(u.Path, ":/")
		if u.Host != "" || !strings.HasPrefix(sock, "/") {
			return nil, fmt.Errorf("rpc: invalid URL %s: want unix:///absolute/path.sock[:/path]", u.Redacted())
		}
		if cfg.HTTPClient != nil {
			return nil, fmt.Errorf("rpc: URL %s: a unix:// URL dials the socket itself and cannot use ClientConfig.HTTPClient", u.Redacted())
		}
		if path == "" {
			path = "RPC2"
		}
		dial := func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}
		c.hc = &http.Client{Transport: newTransport(dial), CheckRedirect: noRedirect}
		u = &url.URL{Scheme: "http", Host: "localhost", Path: "/" + path, RawQuery: u.RawQuery}
	default:
		return nil, fmt.Errorf("rpc: invalid URL %s: scheme must be http, https or unix", u.Redacted())
	}
	c.url = u.String()
	return c, nil
}

// noRedirect makes the HTTP client hand back a redirect as the response:
// following it would send the Basic credentials (and the call) wherever
// the server points.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// newTransport returns the default transport of a Client: many idle
// connections per host (calls run in parallel), no transparent gzip (the
// Client asks for gzip itself and decodes it under Limits.MaxBodyBytes),
// proxies from the environment for TCP URLs.
func newTransport(dial func(ctx context.Context, network, addr string) (net.Conn, error)) *http.Transport {
	t := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
		Proxy:                 http.ProxyFromEnvironment,
	}
	if dial != nil {
		t.DialContext, t.Proxy = dial, nil
	}
	return t
}

// Call calls method with args (each element one param; nil: none) and
// decodes the result into reply: a non-nil pointer (*any gives natural
// values, see the package doc) or nil to discard it. ctx bounds the whole
// call, including reading the response.
//
// Errors read "rpc: call "method": ..." and wrap the cause: a *Fault for a
// fault answer (errors.As), an *HTTPError for a status other than 200
// (errors.Is(err, ErrUnauthorized) for 401; a redirect is not followed and
// its HTTPError has the Location), the ctx error, or a network or decoding
// error (a response that is not XML-RPC, truncated, larger than
// Limits.MaxBodyBytes (ErrResponseTooLarge) or nested deeper than
// Limits.MaxDepth).
//
// A call is sent again, once, only when it went out on a kept-alive
// connection the server had closed: the connection failed (EOF, reset)
// before any byte of a response came back. Some servers (Perl's
// Frontier::Daemon) close every connection after answering without saying
// Connection: close, so the next call on it races with the close.
// Python's xmlrpc.client retries the same way. A call on a fresh
// connection, one that timed out, or one that got any byte of an answer
// is never sent twice. From then on the Client keeps no connection alive
// to that server: each call has a connection of its own (a server that
// answers one connection at a time would otherwise wait on an idle one).
func (c *Client) Call(ctx context.Context, method string, args []any, reply any) error {
	hc := c.hc
	if one := c.oneShot.Load(); one != nil {
		hc = one
	}
	err := c.call(ctx, hc, method, args, reply)
	var stale *staleConnError
	if errors.As(err, &stale) && ctx.Err() == nil {
		err = c.call(ctx, c.stopKeepAlive(), method, args, reply)
	}
	if err != nil {
		return fmt.Errorf("rpc: call %q: %w", method, unwrapStale(err))
	}
	return nil
}

// staleConnError is a request that failed on a reused connection before
// any byte of the response arrived: the server had closed the connection.
type staleConnError struct{ err error }

func (e *staleConnError) Error() string { return e.err.Error() }
func (e *staleConnError) Unwrap() error { return e.err }

func unwrapStale(err error) error {
	if s, ok := err.(*staleConnError); ok {
		return s.err
	}
	return err
}

// closedBeforeAnswer says err is a connection the peer closed or reset:
// what a kept-alive connection the server already dropped looks like.
func closedBeforeAnswer(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, net.ErrClosed) || // the transport saw the close while writing
		strings.Contains(err.Error(), "server closed idle connection")
}

// stopKeepAlive switches c, once, to an HTTP client that opens a
// connection per call and closes it after the answer: a copy of its
// transport without keep-alive (the same dialer, so through the same SSH
// link). The kept-alive idle connections are closed: the server may be
// waiting on one. A transport that is not an *http.Transport cannot be
// copied: then only its idle connections are closed.
func (c *Client) stopKeepAlive() *http.Client {
	if one := c.oneShot.Load(); one != nil {
		return one
	}
	c.hc.CloseIdleConnections()
	tr, ok := c.hc.Transport.(*http.Transport)
	if !ok {
		return c.hc
	}
	hc := *c.hc
	tr = tr.Clone()
	tr.DisableKeepAlives = true
	hc.Transport = tr
	if !c.oneShot.CompareAndSwap(nil, &hc) {
		return c.oneShot.Load()
	}
	return &hc
}

func (c *Client) call(ctx context.Context, hc *http.Client, method string, args []any, reply any) error {
	buf := c.getBuffer()
	enc := &spillBuffer{buf: buf, max: maxPooledBuffer}
	if err := writeCall(enc, method, args); err != nil {
		c.putBuffer(buf)
		return err
	}
	var body io.ReadCloser
	if enc.spilled() {
		// Too large to hold in memory: encoded a second time (it is known
		// to encode, enc.n bytes long) as the transport sends it.
		c.putBuffer(buf)
		pr, pw := io.Pipe()
		done := make(chan struct{})
		go func() {
			defer close(done)
			pw.CloseWithError(writeCall(&chunkedWriter{w: pw}, method, args)) // nil: EOF
		}()
		defer func() {
			// Runs last: stops an encoder the transport no longer reads
			// from, and waits for it, as args are the caller's again.
			pr.CloseWithError(errCallDone)
			<-done
		}()
		body = pr
	} else if buf.Len() <= oneWriteBody {
		// A copy the transport knows to be in memory: net/http then sends
		// it with the headers in one write. Any other body (requestBody
		// below) gets the headers sent alone first, and a server that
		// answers from them and closes (Python's HTTP/1.0 xmlrpc.server on
		// a wrong path) can make the body's write fail: the call would end
		// in "broken pipe" instead of the server's answer.
		body = io.NopCloser(bytes.NewReader(bytes.Clone(buf.Bytes())))
		c.putBuffer(buf)
	} else {
		// The transport closes the body once it is sent, possibly after Do
		// returned; only then can the buffer be reused.
		body = &requestBody{Reader: bytes.NewReader(buf.Bytes()), buf: buf, pools: &c.pools}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, body)
	if err != nil {
		body.Close()
		return err
	}
	req.ContentLength = enc.n
	req.GetBody = nil
	h := req.Header
	h.Set("Content-Type", "text/xml")
	h.Set("Accept-Encoding", "gzip")
	h.Set("User-Agent", "rpcssh")
	addCallHeader(ctx, h)
	if c.auth {
		req.SetBasicAuth(c.user, c.pass)
	}
	var reused, answered atomic.Bool
	req = req.WithContext(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GotConn:              func(i httptrace.GotConnInfo) { reused.Store(i.Reused) },
		GotFirstResponseByte: func() { answered.Store(true) },
	}))
	resp, err := hc.Do(req)
	if err != nil {
		if reused.Load() && !answered.Load() && ctx.Err() == nil && closedBeforeAnswer(err) {
			return &staleConnError{err: err}
		}
		return err
	}
	defer func() {
		// Drain a little so the connection can be reused; a longer
		// leftover is not worth the wait: closing drops the connection.
		_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
		resp.Body.Close()
	}()
	seeResponseHeader(ctx, resp.Header)
	if resp.StatusCode != http.StatusOK {
		he := &HTTPError{StatusCode: resp.StatusCode, Status: resp.Status}
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			he.Location = redactLocation(resp.Request.URL, resp.Header.Get("Location"))
		}
		return he
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		if mt, _, _ := mime.ParseMediaType(ct); mt == "text/html" {
			return fmt.Errorf("response is %s, not XML", mt)
		}
	}
	max := c.lim.MaxBodyBytes
	lr := &limitReader{r: resp.Body, n: max, err: ErrResponseTooLarge}
	var r io.Reader = lr
	size := resp.ContentLength // sizes the decoder's buffers; -1: unknown
	if enc := resp.Header.Get("Content-Encoding"); strings.EqualFold(enc, "gzip") && !resp.Uncompressed {
		size = -1
		zr, err := c.getGzipReader(lr)
		if err != nil {
			return fmt.Errorf("response: bad gzip: %w", err)
		}
		defer c.gzipReaders.Put(zr)
		r = &limitReader{r: zr, n: max, err: ErrResponseTooLarge}
	} else if enc != "" && !strings.EqualFold(enc, "identity") && !resp.Uncompressed {
		return fmt.Errorf("response: unsupported Content-Encoding %q", enc)
	}
	if err := readResponseSized(r, size, c.lim, reply); err != nil {
		var f *Fault
		switch {
		case errors.As(err, &f):
			return err
		case errors.Is(err, errTooLarge): // the codec's own cap, same size as ours
			return fmt.Errorf("response: %w", ErrResponseTooLarge)
		}
		return fmt.Errorf("response: %w", err)
	}
	return nil
}

// errCallDone ends the stream of a request body once its call is over.
var errCallDone = errors.New("rpc: call over")

// oneWriteBody is the largest request body sent in the same write as its
// headers: with them, it fits net/http's 4 KiB write buffer.
const oneWriteBody = 2 << 10

// requestBody returns its buffer to the pool once the transport closed it.
type requestBody struct {
	*bytes.Reader
	buf   *bytes.Buffer
	pools *pools
}

func (b *requestBody) Close() error {
	if b.buf != nil {
		b.pools.putBuffer(b.buf)
		b.buf = nil
	}
	return nil
}

// ErrResponseTooLarge is wrapped by the error of a call whose response body
// (after gzip decoding) exceeds Limits.MaxBodyBytes.
var ErrResponseTooLarge = errors.New("rpc: response larger than the client's size limit")

// redactLocation is a redirect's Location header safe to show: resolved
// against the request's URL, any password replaced.
func redactLocation(req *url.URL, loc string) string {
	if loc == "" {
		return "(no Location)"
	}
	u, err := url.Parse(loc)
	if err != nil {
		return "(a Location that is not a URL)"
	}
	return req.ResolveReference(u).Redacted()
}

// MulticallCall is one call of a system.multicall.
type MulticallCall struct {
	Method string
	Args   []any
	Reply  any // optional pointer to decode the result into, as in Call; the natural value is in MulticallResult.Value either way
}

// MulticallResult is the outcome of one call of a system.multicall.
type MulticallResult struct {
	Value any   // the result as a natural value; nil on error
	Err   error // a *Fault for a fault, or an error decoding into Reply
}

// Multicall runs calls in one system.multicall request (the server runs
// them in order) and returns one result per call. The error is non-nil
// only if the multicall itself failed; then it reads
// "rpc: call "system.multicall": ..." like a Call error.
func (c *Client) Multicall(ctx context.Context, calls []MulticallCall) ([]MulticallResult, error) {
	list := make([]any, len(calls))
	for i, mc := range calls {
		args := mc.Args
		if args == nil {
			args = []any{}
		}
		list[i] = map[string]any{"methodName": mc.Method, "params": args}
	}
	var raw []any
	if err := c.Call(ctx, "system.multicall", []any{list}, &raw); err != nil {
		return nil, err
	}
	if len(raw) != len(calls) {
		return nil, fmt.Errorf("rpc: call %q: %d results for %d calls", "system.multicall", len(raw), len(calls))
	}
	out := make([]MulticallResult, len(calls))
	for i, r := range raw {
		out[i] = multicallResult(r, calls[i].Reply)
	}
	return out, nil
}

// multicallResult reads one entry of a multicall answer: [value] or a fault
// struct {faultCode, faultString}.
func multicallResult(r any, reply any) MulticallResult {
	switch x := r.(type) {
	case []any:
		if len(x) != 1 {
			return MulticallResult{Err: fmt.Errorf("rpc: multicall result: array of %d values, want 1", len(x))}
		}
		res := MulticallResult{Value: x[0]}
		if reply != nil {
			res.Err = assignReply(reply, x[0])
		}
		return res
	case map[string]any:
		code, ok1 := x["faultCode"].(int64)
		msg, ok2 := x["faultString"].(string)
		if !ok1 || !ok2 {
			return MulticallResult{Err: errors.New("rpc: multicall result: struct is not a fault")}
		}
		return MulticallResult{Err: &Fault{Code: int(code), Message: msg}}
	}
	return MulticallResult{Err: fmt.Errorf("rpc: multicall result: unexpected %T", r)}
}

// assignReply stores a natural value into the pointer reply, with the
// codec's rules and errors.
func assignReply(reply, value any) error {
	rv := reflect.ValueOf(reply)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("rpc: reply must be a non-nil pointer, not %T", reply)
	}
	if err := assign(rv.Elem(), value); err != nil {
		return fmt.Errorf("rpc: multicall result: %w", err)
	}
	return nil
}
