package tunnel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// Defaults applied to a zero RedialConfig field.
const (
	DefaultMinBackoff  = 1 * time.Second
	DefaultMaxBackoff  = 30 * time.Second
	DefaultDialTimeout = 30 * time.Second
)

// RedialConfig configures a Redialer.
type RedialConfig struct {
	// Config is the SSH connection to keep up; it is dialled with Dial.
	Config Config
	// MinBackoff and MaxBackoff bound the wait between failed dial
	// attempts: it doubles from MinBackoff up to MaxBackoff, each wait
	// randomised into [d/2, d]. 0 means 1 s and 30 s.
	MinBackoff, MaxBackoff time.Duration
	// DialTimeout bounds one dial attempt (TCP connect, handshake, auth of
	// every hop), so a frozen server is given up on; 0 means 30 s.
	DialTimeout time.Duration
	// OnEvent, if set, is called for every Event, from the goroutine that
	// observed it, with no lock held. It must not block for long. The
	// package never logs: this is how a CLI learns to print "reconnecting
	// in 2s".
	OnEvent func(Event)
	// Shared, if set, opens connections through a link that something
	// else keeps (a connection master, see package tunnel/control). The
	// Redialer tries it first and dials no link of its own while it
	// succeeds; after its first error it is not tried again, and the
	// Redialer dials, keeps and redials its own link as without it.
	Shared func(ctx context.Context, network, addr string) (net.Conn, error)
}

// EventKind tells what happened to a Redialer's link.
type EventKind int

const (
	// EventConnected: a link is up. Attempt is the number of dial
	// attempts it took.
	EventConnected EventKind = iota + 1
	// EventDisconnected: the link ended (Err says why: keepalive timeout,
	// the server went away). The next DialContext redials.
	EventDisconnected
	// EventRetrying: dial attempt number Attempt failed with Err; the next
	// one starts after Delay.
	EventRetrying
	// EventFailed: dial attempt Attempt failed with a permanent error
	// (see Redialer); no more attempts until the next DialContext.
	EventFailed
	// EventForwardError: Forward could not connect one accepted
	// connection (Err); the connection was closed, Forward goes on.
	EventForwardError
)

func (k EventKind) String() string {
	switch k {
	case EventConnected:
		return "connected"
	case EventDisconnected:
		return "disconnected"
	case EventRetrying:
		return "retrying"
	case EventFailed:
		return "failed"
	case EventForwardError:
		return "forward error"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event reports a change in a Redialer's link.
type Event struct {
	Kind    EventKind
	Err     error
	Attempt int           // dial attempt number, from 1 (Connected, Retrying, Failed)
	Delay   time.Duration // wait before the next attempt (Retrying)
}

// Redialer keeps an SSH link for long-lived use: it dials lazily on the
// first DialContext, and when the link has died (Client.Wait returned) the
// next DialContext redials with exponential backoff and jitter, bounded by
// the caller's ctx. Concurrent callers share one redial. It is safe for
// concurrent use.
//
// Errors that retrying cannot fix are permanent and returned at once rather
// than retried: an unknown, changed or revoked host key (*UnknownHostError,
// *HostKeyChangedError, *RevokedHostKeyError), ErrNoHostKeyCheck, refused
// authentication (ErrAuthFailed, which includes sshd's "Too many
// authentication failures" disconnect after MaxAuthTries), an encrypted key without
// its passphrase (*ssh.PassphraseMissingError), no common algorithm
// (*ssh.AlgorithmNegotiationError) and an unusable Config address. All other
// dial errors (refused or reset TCP connections, timeouts, a server that
// closes during the handshake) are retried.
type Redialer struct {
	rc RedialConfig

	closed chan struct{} // closed by Close
	wg     sync.WaitGroup

	mu         sync.Mutex
	isClosed   bool
	sharedGone bool    // rc.Shared failed once: never again
	cur        *Client // live link, nil when none
	op         *dialOp // redial in progress, nil when none
}

// dialOp is one shared redial: a run of attempts until success, a permanent
// error, Close, or every waiter giving up.
type dialOp struct {
	done    chan struct{}
	cancel  context.CancelFunc
	waiters int
	lastErr error   // last attempt's error, while running (guarded by Redialer.mu)
	client  *Client // result, set before done is closed
	err     error
}

// NewRedialer returns a Redialer for rc. It does not dial.
func NewRedialer(rc RedialConfig) *Redialer {
	if rc.MinBackoff <= 0 {
		rc.MinBackoff = DefaultMinBackoff
	}
	if rc.MaxBackoff <= 0 {
		rc.MaxBackoff = DefaultMaxBackoff
	}
	if rc.MaxBackoff < rc.MinBackoff {
		rc.MaxBackoff = rc.MinBackoff
	}
	if rc.DialTimeout <= 0 {
		rc.DialTimeout = DefaultDialTimeout
	}
	return &Redialer{rc: rc, closed: make(chan struct{})}
}

func (r *Redialer) emit(e Event) {
	if r.rc.OnEvent != nil {
		r.rc.OnEvent(e)
	}
}

// DialContext opens a connection to addr through the current link (see
// Client.DialContext for network and addr), first dialling or redialling
// the link if needed. ctx bounds the whole wait, including backoff.
// Errors: ErrClosed after Close, a permanent dial error (see Redialer),
// *OpenError from the server, or ctx's error joined with the last dial
// attempt's error.
func (r *Redialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	// Bad arguments are refused here, so that any other non-OpenError
	// failure below means the link itself is broken.
	if err := checkDialArgs(network, addr); err != nil {
		return nil, err
	}
	if conn, ok := r.dialShared(ctx, network, addr); ok {
		return conn, nil
	}
	for try := 0; ; try++ {
		c, err := r.client(ctx)
		if err != nil {
			return nil, err
		}
		conn, err := c.DialContext(ctx, network, addr)
		if err == nil {
			return conn, nil
		}
		var oe *OpenError
		if errors.As(err, &oe) || ctx.Err() != nil || errors.Is(err, ErrClosed) && r.isClosedNow() || try >= 2 {
			return nil, err
		}
		// The link broke under us (before keepalive noticed, or it was
		// reported by DialContext): drop it and redial.
		r.drop(c)
	}
}

// dialShared opens the connection through rc.Shared while it works.
func (r *Redialer) dialShared(ctx context.Context, network, addr string) (net.Conn, bool) {
	r.mu.Lock()
	use := r.rc.Shared != nil && !r.sharedGone && !r.isClosed
	r.mu.Unlock()
	if !use {
		return nil, false
	}
	conn, err := r.rc.Shared(ctx, network, addr)
	if err != nil {
		r.mu.Lock()
		r.sharedGone = true
		r.mu.Unlock()
		return nil, false
	}
	return conn, true
}

func (r *Redialer) isClosedNow() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.isClosed
}

// drop closes c and forgets it if it is still the current link.
func (r *Redialer) drop(c *Client) {
	r.mu.Lock()
	if r.cur == c {
		r.cur = nil
	}
	r.mu.Unlock()
	c.Close()
}

// client returns the live link, joining or starting a redial.
func (r *Redialer) client(ctx context.Context) (*Client, error) {
	r.mu.Lock()
	if r.isClosed {
		r.mu.Unlock()
		return nil, ErrClosed
	}
	if r.cur != nil {
		c := r.cur
		r.mu.Unlock()
		return c, nil
	}
	op := r.op
	if op == nil {
		octx, cancel := context.WithCancel(context.Background())
		op = &dialOp{done: make(chan struct{}), cancel: cancel}
		r.op = op
		r.wg.Add(1)
		go r.run(octx, op)
	}
	op.waiters++
	r.mu.Unlock()

	select {
	case <-op.done:
		r.mu.Lock()
		op.waiters--
		r.mu.Unlock()
		return op.client, op.err
	case <-ctx.Done():
		r.mu.Lock()
		op.waiters--
		last := op.lastErr
		if op.waiters == 0 && r.op == op {
			// Nobody wants this redial any more: stop it, and let the
			// next caller start afresh.
			r.op = nil
			op.cancel()
		}
		r.mu.Unlock()
		if last != nil {
			return nil, fmt.Errorf("tunnel: reconnect %s: %w; last attempt: %w", r.rc.Config.Addr, ctx.Err(), last)
		}
		return nil, fmt.Errorf("tunnel: reconnect %s: %w", r.rc.Config.Addr, ctx.Err())
	}
}

// run dials until success, a permanent error, or cancellation, and
// publishes the result.
func (r *Redialer) run(ctx context.Context, op *dialOp) {
	defer r.wg.Done()
	defer op.cancel()
	var (
		c   *Client
		err error
	)
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, r.rc.DialTimeout)
		c, err = Dial(actx, r.rc.Config)
		cancel()
		if err == nil {
			if !r.install(op, c) {
				c = nil
				err = ErrClosed
				break
			}
			r.emit(Event{Kind: EventConnected, Attempt: attempt})
			return
		}
		if ctx.Err() != nil {
			break
		}
		if permanent(err) {
			r.emit(Event{Kind: EventFailed, Err: err, Attempt: attempt})
			break
		}
		d := r.backoff(attempt)
		r.mu.Lock()
		op.lastErr = err
		r.mu.Unlock()
		r.emit(Event{Kind: EventRetrying, Err: err, Attempt: attempt, Delay: d})
		t := time.NewTimer(d)
		select {
		case <-t.C:
			continue
		case <-ctx.Done():
			t.Stop()
		}
		break
	}
	if ctx.Err() != nil && !permanent(err) {
		if r.isClosedNow() {
			err = ErrClosed
		} else if err == nil {
			err = ctx.Err()
		}
	}
	r.mu.Lock()
	if r.op == op {
		r.op = nil
	}
	op.err = err
	close(op.done)
	r.mu.Unlock()
}

// install makes c the current link and finishes op; false if the Redialer
// was closed meanwhile (c is then closed).
func (r *Redialer) install(op *dialOp, c *Client) bool {
	r.mu.Lock()
	if r.isClosed {
		r.mu.Unlock()
		c.Close()
		return false
	}
	if r.cur != nil {
		// An abandoned redial finished after a newer one: keep the older
		// live link, drop this one.
		c.Close()
		c = r.cur
	} else {
		r.cur = c
		r.wg.Add(1)
		go r.watch(c)
	}
	if r.op == op {
		r.op = nil
	}
	op.client = c
	close(op.done)
	r.mu.Unlock()
	return true
}

// watch forgets c when its link ends and reports why.
func (r *Redialer) watch(c *Client) {
	defer r.wg.Done()
	err := c.Wait()
	r.mu.Lock()
	if r.cur == c {
		r.cur = nil
	}
	closing := r.isClosed
	r.mu.Unlock()
	if !closing {
		r.emit(Event{Kind: EventDisconnected, Err: err})
	}
}

// backoff returns the wait after failed attempt n (from 1): MinBackoff
// doubled per attempt, capped at MaxBackoff, randomised into [d/2, d].
func (r *Redialer) backoff(n int) time.Duration {
	d := r.rc.MinBackoff
	for i := 1; i < n && d < r.rc.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, r.rc.MaxBackoff)
	half := d / 2
	return half + rand.N(d-half+1)
}

// permanent reports whether a dial error cannot be fixed by retrying.
func permanent(err error) bool {
	var (
		unknown  *UnknownHostError
		changed  *HostKeyChangedError
		revoked  *RevokedHostKeyError
		pass     *ssh.PassphraseMissingError
		algo     *ssh.AlgorithmNegotiationError
		addrErr  *net.AddrError
		parseErr *net.ParseError
	)
	switch {
	case errors.As(err, &unknown), errors.As(err, &changed), errors.As(err, &revoked),
		errors.As(err, &pass), errors.As(err, &algo), errors.As(err, &addrErr), errors.As(err, &parseErr),
		errors.Is(err, ErrNoHostKeyCheck), errors.Is(err, ErrAuthFailed):
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "tunnel: no address") ||
		strings.Contains(msg, "tunnel: bad address")
}

// Forward accepts connections on l and connects each to remote through the
// current link, redialling when the link is gone, so the forward survives
// link loss. remote is host:port, or an absolute path for a unix socket on
// the server. Each connection's open (including any redial) is bounded by
// DialTimeout; a failure closes that connection, is reported as
// EventForwardError, and Forward goes on.
//
// Forward blocks until ctx is done, l is closed, the Redialer is closed or a
// permanent dial error occurs (see Redialer); it then closes l and every
// forwarded connection and waits for its goroutines. It returns nil when ctx
// is done or l was closed, ErrClosed after Close, the permanent error, or
// another accept error.
func (r *Redialer) Forward(ctx context.Context, l net.Listener, remote string) error {
	network := "tcp"
	if strings.HasPrefix(remote, "/") {
		network = "unix"
	} else if _, _, err := net.SplitHostPort(remote); err != nil {
		l.Close()
		return fmt.Errorf("tunnel: forward to %s: %w", remote, err)
	}
	var (
		fatalMu sync.Mutex
		fatal   error // ErrClosed or a permanent dial error
	)
	setFatal := func(err error) {
		fatalMu.Lock()
		if fatal == nil {
			fatal = err
		}
		fatalMu.Unlock()
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() { // ends when Forward returns, at the latest
		select {
		case <-r.closed:
			setFatal(ErrClosed)
			cancel(ErrClosed)
		case <-ctx.Done():
		}
	}()
	stopListener := context.AfterFunc(ctx, func() { l.Close() })
	defer stopListener()

	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns = map[net.Conn]struct{}{}
	)
	track := func(c net.Conn, add bool) {
		mu.Lock()
		if add {
			conns[c] = struct{}{}
		} else {
			delete(conns, c)
		}
		mu.Unlock()
	}
	defer func() {
		l.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	}()

	for {
		local, err := l.Accept()
		if err != nil {
			fatalMu.Lock()
			defer fatalMu.Unlock()
			switch {
			case fatal != nil:
				return fatal
			case ctx.Err() != nil, errors.Is(err, net.ErrClosed):
				return nil
			}
			return fmt.Errorf("tunnel: forward to %s: accept: %w", remote, err)
		}
		track(local, true)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer track(local, false)
			defer local.Close()
			dctx, dcancel := context.WithTimeout(ctx, r.rc.DialTimeout)
			remoteConn, err := r.DialContext(dctx, network, remote)
			dcancel()
			if err != nil {
				if permanent(err) || errors.Is(err, ErrClosed) && r.isClosedNow() {
					setFatal(err)
					cancel(err)
				}
				if ctx.Err() == nil {
					r.emit(Event{Kind: EventForwardError, Err: err})
				}
				return
			}
			track(remoteConn, true)
			defer track(remoteConn, false)
			pipeConns(local, remoteConn)
		}()
	}
}

// pipeConns copies both ways until both directions are done, half-closing
// the write side when one direction ends, then closes both.
func pipeConns(a, b net.Conn) {
	type closeWriter interface{ CloseWrite() error }
	var wg sync.WaitGroup
	copyHalf := func(dst, src net.Conn) {
		defer wg.Done()
		_, err := io.Copy(dst, src)
		if cw, ok := dst.(closeWriter); ok && err == nil {
			cw.CloseWrite()
		} else {
			dst.Close()
			src.Close()
		}
	}
	wg.Add(2)
	go copyHalf(a, b)
	go copyHalf(b, a)
	wg.Wait()
	a.Close()
	b.Close()
}

// Close stops redialling, closes the current link (cutting forwarded
// connections) and makes DialContext and Forward return ErrClosed. It waits
// for the Redialer's goroutines.
func (r *Redialer) Close() error {
	r.mu.Lock()
	if r.isClosed {
		r.mu.Unlock()
		return nil
	}
	r.isClosed = true
	close(r.closed)
	c := r.cur
	r.cur = nil
	if r.op != nil {
		r.op.cancel()
	}
	r.mu.Unlock()
	if c != nil {
		c.Close()
	}
	r.wg.Wait()
	return nil
}
