package rpc

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Default timeouts of a Server; a zero field of ServerConfig means its default.
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 2 * time.Minute
	DefaultWriteTimeout      = 2 * time.Minute
	DefaultIdleTimeout       = 2 * time.Minute
	DefaultShutdownTimeout   = 30 * time.Second
)

// gzipMinSize is the smallest response compressed when ServerConfig.Gzip is
// set (the same threshold as Python's xmlrpc.server): below one packet,
// compression buys nothing.
const gzipMinSize = 1400

// ServerConfig configures a Server. The zero value serves without
// authentication, with default limits and timeouts, and logs nothing.
type ServerConfig struct {
	// Username and Password are the HTTP Basic credentials every request must
	// carry. Password == "" turns authentication off (the library allows it;
	// the rpcssh CLI refuses it).
	Username, Password string
	Realm              string // WWW-Authenticate realm; default "rpcssh"
	Limits             Limits // request body size and codec bounds

	// Logger gets one record per request, message "rpc call", with the
	// attributes method, remote (address), status (HTTP), duration and, for
	// a fault, fault (its code); never params, results or credentials. A
	// call that succeeds is logged at Debug, one that ends in a fault at
	// Info, a request refused at the HTTP level (401, 413, ...) at Warn.
	// nil: nothing is logged.
	Logger *slog.Logger

	// ReadHeaderTimeout bounds reading the request line and headers (Serve
	// only; default 10 s). ReadTimeout bounds reading the request body,
	// counted from the start of the handler (default 2 min): a stalled or
	// dripping body is cut with 408 and the connection closed. WriteTimeout
	// bounds writing the response (default 2 min), so a client that never
	// reads cannot hold a handler. Neither limits how long a method runs.
	// IdleTimeout closes keep-alive connections with no request (Serve only;
	// default 2 min). ShutdownTimeout bounds how long Serve waits for calls in
	// flight once its ctx is done (default 30 s); then their contexts are
	// cancelled and their connections closed.
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	ShutdownTimeout   time.Duration

	// CollectAfterBytes, when positive, makes a request whose body was at
	// least this large end with a garbage collection, once its response is
	// flushed. A process that serves large payloads one after another
	// then reuses the memory of the last one for the next; without it the
	// collector lets garbage reach its goal first, and a run of 64 MiB
	// echoes peaks near twice the memory of one. It is a process-wide
	// runtime.GC, so it is off by default (0).
	CollectAfterBytes int64

	// Software, when set, is the Server header of every answer to an
	// authenticated request (e.g. "rpcssh/v1.2.3"): a client learns the
	// server's version with each call (WithResponseHeader), at no extra
	// round trip. Unauthenticated requests are not told it.
	Software string

	// Gzip compresses responses larger than 1400 bytes for clients that send
	// "Accept-Encoding: gzip". Off by default: rpcssh runs over loopback and
	// SSH, where compressing costs more CPU time than it saves on the wire
	// (see the benchmarks). Gzip request bodies are always accepted.
	Gzip bool
}

// Server is an XML-RPC server: an [http.Handler] answering POST on "/" and
// "/RPC2". Register methods before serving requests.
type Server struct {
	cfg  ServerConfig
	lim  Limits
	auth *basicAuth
	reg  *registry
	log  *slog.Logger
	pools

	collect func() // runtime.GC; a test counts the calls
}

// NewServer returns a Server with no methods but the built-in system.* ones.
func NewServer(cfg ServerConfig) *Server {
	lim := cfg.Limits.withDefaults()
	cfg.Limits = lim
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	def(&cfg.ReadTimeout, DefaultReadTimeout)
	def(&cfg.WriteTimeout, DefaultWriteTimeout)
	def(&cfg.IdleTimeout, DefaultIdleTimeout)
	def(&cfg.ShutdownTimeout, DefaultShutdownTimeout)
	if cfg.Realm == "" {
		cfg.Realm = "rpcssh"
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{
		cfg:  cfg,
		lim:  lim,
		auth: newBasicAuth(cfg.Username, cfg.Password, cfg.Realm),
		reg:  newRegistry(lim),
		log:  log,

		collect: runtime.GC,
	}
}

// Register adds the Go function fn as method name. Its signature is checked
// here: an unsupported signature or a duplicate name is an error.
func (s *Server) Register(name string, fn any) error {
	return s.reg.add(Method{Name: name, Func: fn})
}

// RegisterMethod adds a method with its help text and signatures.
func (s *Server) RegisterMethod(m Method) error {
	return s.reg.add(m)
}

// errBodyTooLarge is a request body past Limits.MaxBodyBytes after gzip
// decoding (before decoding, http.MaxBytesReader reports *http.MaxBytesError).
var errBodyTooLarge = errors.New("request body too large")

// ServeHTTP answers one XML-RPC request.
//
// In order: credentials are checked before anything is read (401 with
// WWW-Authenticate; the connection is closed when a body of unknown or more
// than 64 KiB size is left unread); paths other than "/" and "/RPC2" get 404,
// methods other than POST 405 with "Allow: POST"; an announced
// Content-Length beyond Limits.MaxBodyBytes gets 413 unread. The body (gzip
// or identity) is then read whole under ReadTimeout and the size cap, which
// also applies after gzip decoding, so a gzip bomb gets 413; bad gzip gets
// 400, another Content-Encoding 415, a stalled body 408. Everything past
// that is XML-RPC: the answer is 200 with a methodResponse or a fault.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	st := s.handle(w, r)
	s.logCall(r, st, time.Since(start))
	if s.cfg.CollectAfterBytes > 0 && st.bodyBytes >= s.cfg.CollectAfterBytes {
		_ = http.NewResponseController(w).Flush() // the client is not kept waiting
		s.collect()
	}
}

// outcome is what a request ended with, for the log line.
type outcome struct {
	status    int
	call      callInfo
	bodyBytes int64 // the request body read, for CollectAfterBytes
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) outcome {
	h := w.Header()
	if !s.auth.check(r) {
		h.Set("WWW-Authenticate", s.auth.challenge)
		if r.ContentLength < 0 || r.ContentLength > 64<<10 {
			h.Set("Connection", "close")
		}
		return s.plain(w, http.StatusUnauthorized)
	}
	if s.cfg.Software != "" {
		h.Set("Server", s.cfg.Software)
	}
	if r.URL.Path != "/" && r.URL.Path != "/RPC2" {
		return s.plain(w, http.StatusNotFound)
	}
	if r.Method != http.MethodPost {
		h.Set("Allow", http.MethodPost)
		return s.plain(w, http.StatusMethodNotAllowed)
	}
	if r.ContentLength > s.lim.MaxBodyBytes {
		h.Set("Connection", "close")
		return s.plain(w, http.StatusRequestEntityTooLarge)
	}

	rc := http.NewResponseController(w)
	// A write deadline from an earlier request on this connection may have
	// passed; renew it before anything (even "100 Continue") is written.
	_ = rc.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
	_ = rc.SetReadDeadline(time.Now().Add(s.cfg.ReadTimeout))
	in, status := s.readBody(w, r)
	bodyBytes := int64(in.Len())
	if status != 0 {
		s.putBuffer(in)
		h.Set("Connection", "close")
		o := s.plain(w, status)
		o.bodyBytes = bodyBytes
		return o
	}
	// The body is read to its end, so net/http now watches the connection
	// and cancels r.Context() when the client goes away. Lift the read
	// deadline so that watch never times out while a method runs (net/http
	// does so too when it starts watching; this keeps us independent of it).
	_ = rc.SetReadDeadline(time.Time{})

	// The body is decoded in place. One too large for the pool is never
	// reused, so its long strings are decoded as views of it, not copies
	// (it lives as long as they do); otherwise it goes back to the pool
	// once the call is decoded and run. Nothing else holds it: a large
	// body is garbage while the response is written.
	owned := in.Cap() > maxPooledBuffer
	d := newBytesDecoder(in.Bytes(), owned, s.lim)
	var pooled *bytes.Buffer
	if !owned {
		pooled = in
	}
	in = nil

	out := s.getBuffer()
	defer s.putBuffer(out)
	resp := &spillBuffer{buf: out, max: maxPooledBuffer}
	info := s.reg.dispatch(withRequestHeader(r.Context(), r.Header), d, resp)
	if pooled != nil {
		s.putBuffer(pooled)
	}

	_ = rc.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
	if resp.replay != nil {
		s.stream(w, r, resp)
	} else {
		s.write(w, r, out.Bytes())
	}
	return outcome{status: http.StatusOK, call: info, bodyBytes: bodyBytes}
}

// readBody reads the request body into a buffer, decoding gzip. It returns
// the buffer (from the pool, or a new one for a large body) and 0 or the
// HTTP status to answer with.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) (*bytes.Buffer, int) {
	max := s.lim.MaxBodyBytes
	body := http.MaxBytesReader(w, r.Body, max)
	var src io.Reader = body
	var buf *bytes.Buffer
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
		// Room for the read that sees EOF too: a full buffer would make
		// ReadFrom double it. A large one is made with make, which clears
		// it in preemptible chunks (Buffer.Grow clears in one call that
		// holds up a garbage collection while it page-faults).
		if n := r.ContentLength + bytes.MinRead; r.ContentLength > maxPooledBuffer {
			buf = bytes.NewBuffer(make([]byte, 0, n))
		} else if r.ContentLength > 0 {
			buf = s.getBuffer()
			buf.Grow(int(n))
		}
	case "gzip", "x-gzip":
		zr, err := s.getGzipReader(body)
		if err != nil {
			return s.getBuffer(), bodyStatus(err)
		}
		defer s.gzipReaders.Put(zr)
		src = zr
	default:
		return s.getBuffer(), http.StatusUnsupportedMediaType
	}
	if buf == nil {
		buf = s.getBuffer()
	}
	n, err := buf.ReadFrom(io.LimitReader(src, max+1))
	if err != nil {
		return buf, bodyStatus(err)
	}
	if n > max {
		return buf, bodyStatus(errBodyTooLarge)
	}
	return buf, 0
}

// bodyStatus maps an error reading the request body to an HTTP status.
func bodyStatus(err error) int {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe), errors.Is(err, errBodyTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, os.ErrDeadlineExceeded):
		return http.StatusRequestTimeout
	default: // bad gzip, truncated body
		return http.StatusBadRequest
	}
}

// plain answers with an HTTP error status and its text.
func (s *Server) plain(w http.ResponseWriter, status int) outcome {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	msg := strconv.Itoa(status) + " " + http.StatusText(status) + "\n"
	h.Set("Content-Length", strconv.Itoa(len(msg)))
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg)
	return outcome{status: status}
}

// write sends a methodResponse, gzipped if configured and worth it.
func (s *Server) write(w http.ResponseWriter, r *http.Request, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/xml")
	if s.cfg.Gzip && len(body) >= gzipMinSize {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			z := s.getBuffer()
			defer s.putBuffer(z)
			zw := s.getGzipWriter(z)
			_, _ = zw.Write(body)
			if zw.Close() == nil {
				body = z.Bytes()
				h.Set("Content-Encoding", "gzip")
			}
			s.gzipWriters.Put(zw)
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// stream sends a response too large to buffer (see spillBuffer): it is encoded
// a second time, straight to w, with the Content-Length the first pass
// counted (gzipped: chunked, as its length is not known before).
func (s *Server) stream(w http.ResponseWriter, r *http.Request, resp *spillBuffer) {
	h := w.Header()
	h.Set("Content-Type", "text/xml")
	var zw *gzip.Writer
	if s.cfg.Gzip {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			h.Set("Content-Encoding", "gzip")
			zw = s.getGzipWriter(w)
			defer s.gzipWriters.Put(zw)
		}
	}
	dst := &chunkedWriter{w: w}
	if zw != nil {
		dst.w = zw
	} else {
		h.Set("Content-Length", strconv.FormatInt(resp.n, 10))
	}
	w.WriteHeader(http.StatusOK)
	// A failure here is the client's connection (or data changed by
	// another goroutine since the first pass): net/http closes a
	// connection whose response fell short of its length. An unfinished
	// gzip stream is left without its trailer.
	if err := resp.replay(dst); err == nil && zw != nil {
		_ = zw.Close()
	}
}

// acceptsGzip reports whether r's Accept-Encoding allows gzip (q > 0).
func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(v, ",") {
			coding, params, _ := strings.Cut(part, ";")
			if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
				continue
			}
			q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}

// logCall writes the one log line of a request: never params or secrets.
func (s *Server) logCall(r *http.Request, o outcome, d time.Duration) {
	level := slog.LevelDebug
	switch {
	case o.status != http.StatusOK:
		level = slog.LevelWarn
	case o.call.Fault != nil:
		level = slog.LevelInfo
	}
	ctx := context.WithoutCancel(r.Context())
	if !s.log.Enabled(ctx, level) {
		return
	}
	attrs := make([]slog.Attr, 0, 5)
	attrs = append(attrs,
		slog.String("method", o.call.Method),
		slog.String("remote", r.RemoteAddr),
		slog.Int("status", o.status),
		slog.Duration("duration", d))
	if o.call.Fault != nil {
		attrs = append(attrs, slog.Int("fault", o.call.Fault.Code))
	}
	s.log.LogAttrs(ctx, level, "rpc call", attrs...)
}

// pools holds buffers and gzip state for reuse, so a call allocates little
// beyond what the codec needs. Buffers that grew past maxPooledBuffer are
// left to the GC.
type pools struct {
	buffers     sync.Pool
	gzipReaders sync.Pool
	gzipWriters sync.Pool
}

const maxPooledBuffer = 1 << 20

func (p *pools) getBuffer() *bytes.Buffer {
	if b, ok := p.buffers.Get().(*bytes.Buffer); ok {
		return b
	}
	return new(bytes.Buffer)
}

func (p *pools) putBuffer(b *bytes.Buffer) {
	if b.Cap() <= maxPooledBuffer {
		b.Reset()
		p.buffers.Put(b)
	}
}

func (p *pools) getGzipReader(r io.Reader) (*gzip.Reader, error) {
	if zr, ok := p.gzipReaders.Get().(*gzip.Reader); ok {
		if err := zr.Reset(r); err != nil {
			p.gzipReaders.Put(zr)
			return nil, err
		}
		return zr, nil
	}
	return gzip.NewReader(r)
}

func (p *pools) getGzipWriter(w io.Writer) *gzip.Writer {
	if zw, ok := p.gzipWriters.Get().(*gzip.Writer); ok {
		zw.Reset(w)
		return zw
	}
	zw, _ := gzip.NewWriterLevel(w, gzip.BestSpeed) // the level is valid
	return zw
}
