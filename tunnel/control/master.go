package control

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/rpcssh/rpcssh/tunnel"
)

// DefaultIdle is how long a master without open streams lives (the
// ControlPersist Ansible uses).
const DefaultIdle = 60 * time.Second

// MasterConfig tunes Serve. The zero value is usable.
type MasterConfig struct {
	// Identity is what the socket is named for; Status reports it.
	Identity Identity
	// Idle is how long the master lives without open streams: 0 means
	// DefaultIdle, negative means until stopped or the link dies.
	Idle time.Duration
	// OpenTimeout bounds each channel open; 0 means 30 s.
	OpenTimeout time.Duration
	// Prefetch keeps one channel to the most recently requested target
	// open ahead of the next request, so a warm request costs no round
	// trip for the channel open. The server sees a connection that waits
	// for its first request; one it closes unused is dropped.
	Prefetch bool
}

// requestTimeout bounds reading a request, so a silent peer cannot hold a
// master's goroutine.
const requestTimeout = 10 * time.Second

// ErrStopped is Serve's result after a stop request.
var ErrStopped = errors.New("control: master stopped on request")

// ErrIdle is Serve's result after the idle time passed without streams.
var ErrIdle = errors.New("control: master idle")

// master is the state of one Serve.
type master struct {
	c       *tunnel.Client
	cfg     MasterConfig
	sock    *Socket
	started time.Time

	mu      sync.Mutex
	streams int
	opened  int64
	idle    *time.Timer // runs while streams == 0
	spare   *spare      // prefetched channel, or nil
	conns   sync.WaitGroup

	linkDone chan struct{} // closed when c's link has ended
	done     chan struct{} // closed to stop accepting
	stopOnce sync.Once
	why      error
}

// Serve serves requests on sock through c until the master has been idle
// for cfg.Idle (ErrIdle), c's link ends (Wait's error, or tunnel.ErrClosed),
// a stop request comes (ErrStopped) or ctx is done (its error). It then
// closes sock, so new requesters dial by themselves, waits for the open
// streams to end and returns; the caller closes c.
func Serve(ctx context.Context, sock *Socket, c *tunnel.Client, cfg MasterConfig) error {
	if cfg.Idle == 0 {
		cfg.Idle = DefaultIdle
	}
	if cfg.OpenTimeout <= 0 {
		cfg.OpenTimeout = 30 * time.Second
	}
	m := &master{c: c, cfg: cfg, sock: sock, started: time.Now(),
		linkDone: make(chan struct{}), done: make(chan struct{})}
	if cfg.Idle > 0 {
		m.idle = time.AfterFunc(cfg.Idle, func() { m.stop(ErrIdle) })
	}
	go func() {
		select {
		case <-ctx.Done():
			m.stop(ctx.Err())
		case <-m.done:
		}
	}()
	go func() {
		err := c.Wait()
		close(m.linkDone)
		if err == nil {
			err = tunnel.ErrClosed
		}
		m.stop(err)
	}()
	go func() {
		<-m.done
		sock.Close() // unblocks Accept
	}()
	for {
		conn, err := sock.ln.AcceptUnix()
		if err != nil {
			select {
			case <-m.done:
			default:
				m.stop(fmt.Errorf("control: accept: %w", err))
			}
			break
		}
		m.conns.Add(1)
		go func() {
			defer m.conns.Done()
			m.handle(ctx, conn)
		}()
	}
	m.conns.Wait()
	m.mu.Lock()
	if m.idle != nil {
		m.idle.Stop()
	}
	if m.spare != nil {
		m.spare.conn.Close()
		m.spare = nil
	}
	m.mu.Unlock()
	return m.why
}

// stop ends accepting with the first reason given.
func (m *master) stop(why error) {
	m.stopOnce.Do(func() {
		m.mu.Lock()
		m.why = why
		m.mu.Unlock()
		close(m.done)
	})
}

func (m *master) status() *Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	return &Status{
		PID:      os.Getpid(),
		Path:     m.sock.path,
		Identity: m.cfg.Identity,
		Started:  m.started,
		Idle:     m.cfg.Idle,
		Streams:  m.streams,
		Opened:   m.opened,
	}
}

// handle serves one control connection: one request.
func (m *master) handle(ctx context.Context, conn *net.UnixConn) {
	defer conn.Close()
	if err := checkPeer(conn); err != nil {
		return // another user: say nothing
	}
	conn.SetReadDeadline(time.Now().Add(requestTimeout))
	br := bufio.NewReader(conn)
	// A request is a JSON object. Anything else (the mux hello of an
	// OpenSSH client pointed at this socket, say) is dropped at once, so
	// the peer learns now that no master of its kind is here, not when
	// requestTimeout ends.
	if b, err := br.Peek(1); err != nil || b[0] != '{' {
		return
	}
	var req request
	if err := readLine(br, &req); err != nil {
		return
	}
	conn.SetReadDeadline(time.Time{})
	switch req.Op {
	case opStatus:
		writeLine(conn, reply{Status: m.status()})
	case opStop:
		writeLine(conn, reply{})
		m.stop(ErrStopped)
	case opOpen:
		m.open(ctx, conn, br, req)
	case opWatch:
		m.watch(conn, br)
	default:
		writeLine(conn, reply{Error: fmt.Sprintf("unknown request %q", req.Op)})
	}
}

// watch answers, then holds conn until the master stops (and says why)
// or the watcher hangs up.
func (m *master) watch(conn *net.UnixConn, br *bufio.Reader) {
	if err := writeLine(conn, reply{}); err != nil {
		return
	}
	gone := make(chan struct{})
	go func() {
		io.Copy(io.Discard, br)
		close(gone)
	}()
	select {
	case <-m.done:
		m.mu.Lock()
		why := m.why
		m.mu.Unlock()
		writeLine(conn, reply{Error: why.Error(), Lost: true})
		conn.Close()
	case <-gone:
	}
	<-gone
}

// open opens the channel asked for, answers, and splices.
func (m *master) open(ctx context.Context, conn *net.UnixConn, br *bufio.Reader, req request) {
	m.mu.Lock()
	select {
	case <-m.done: // stopping: let the requester dial by itself
		m.mu.Unlock()
		writeLine(conn, reply{Error: "master is stopping", Lost: true})
		return
	default:
	}
	m.streams++
	m.opened++
	if m.idle != nil {
		m.idle.Stop()
	}
	sp := m.takeSpare(req.Network, req.Addr)
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		m.streams--
		if m.streams == 0 && m.idle != nil {
			m.idle.Reset(m.cfg.Idle)
		}
		m.mu.Unlock()
	}()

	var remote net.Conn
	var first <-chan readResult
	if sp != nil {
		remote, first = sp.conn, sp.first
	} else {
		octx, cancel := context.WithTimeout(ctx, m.cfg.OpenTimeout)
		var err error
		remote, err = m.c.DialContext(octx, req.Network, req.Addr)
		cancel()
		if err != nil {
			writeLine(conn, reply{Error: err.Error(), Lost: errors.Is(err, tunnel.ErrClosed) || m.linkDown()})
			return
		}
	}
	if err := writeLine(conn, reply{}); err != nil {
		remote.Close()
		return
	}
	if m.cfg.Prefetch {
		m.conns.Add(1) // this request holds one, so Serve has not returned
		go func() {
			defer m.conns.Done()
			m.prefetch(ctx, req.Network, req.Addr)
		}()
	}
	splice(conn, br, remote, first)
}

// linkDown reports whether the SSH link has ended, without blocking.
func (m *master) linkDown() bool {
	select {
	case <-m.linkDone:
		return true
	default:
		return false
	}
}

// splice copies both ways between the requester and the channel. first,
// when not nil, delivers what a prefetched channel has read already. An
// end of input is passed on as a half close; an error closes both.
func splice(local *net.UnixConn, lr io.Reader, remote net.Conn, first <-chan readResult) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		_, err := io.Copy(remote, lr)
		if err == nil {
			if cw, ok := remote.(interface{ CloseWrite() error }); ok {
				cw.CloseWrite()
				return
			}
		}
		remote.Close()
		local.Close()
	}()
	go func() {
		defer wg.Done()
		var err error
		if first != nil {
			r := <-first
			if len(r.data) > 0 {
				_, err = local.Write(r.data)
			}
			if err == nil {
				err = r.err
			}
		}
		if err == nil {
			_, err = io.Copy(local, remote)
		}
		if err == nil || errors.Is(err, io.EOF) {
			local.CloseWrite()
			return
		}
		remote.Close()
		local.Close()
	}()
	wg.Wait()
	remote.Close()
}
