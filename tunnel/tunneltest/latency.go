package tunneltest

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// LatencyProxy is a WAN on one machine: it accepts TCP connections on a
// loopback port and forwards each to a target, delivering every chunk of
// bytes a fixed delay after it was read, in each direction. Order and
// bytes are kept; an end of input is passed on (as a half close) after the
// same delay. A round trip through it costs 2 × Delay, and so does a new
// connection before its first bytes flow (TCP's handshake): the proxy
// connects to the target only one round trip after accepting.
//
// Flights counts the round trips the clients started: each time a client
// sends after having received (or first sends on a connection), one more.
// With the handshakes (Accepted), it counts the round trips of a protocol
// exchange without timing it.
type LatencyProxy struct {
	Delay  time.Duration
	ln     net.Listener
	target string

	accepted atomic.Int64
	flights  atomic.Int64
	up, down atomic.Int64 // bytes forwarded

	mu     sync.Mutex
	conns  map[net.Conn]bool
	closed bool
	wg     sync.WaitGroup
}

// NewLatencyProxy starts a proxy to target with delay each way and closes
// it when the test ends.
func NewLatencyProxy(tb TB, target string, delay time.Duration) *LatencyProxy {
	tb.Helper()
	p, err := StartLatencyProxy(target, delay)
	if err != nil {
		tb.Fatalf("latency proxy: %v", err)
	}
	tb.Cleanup(func() { p.Close() })
	return p
}

// StartLatencyProxy is NewLatencyProxy without a test: the caller closes
// the proxy.
func StartLatencyProxy(target string, delay time.Duration) (*LatencyProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &LatencyProxy{Delay: delay, ln: ln, target: target, conns: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the proxy's host:port.
func (p *LatencyProxy) Addr() string { return p.ln.Addr().String() }

// Host and Port split Addr.
func (p *LatencyProxy) Host() string { h, _, _ := net.SplitHostPort(p.Addr()); return h }

// Port is the proxy's TCP port.
func (p *LatencyProxy) Port() int { return p.ln.Addr().(*net.TCPAddr).Port }

// Accepted is the number of connections accepted so far.
func (p *LatencyProxy) Accepted() int64 { return p.accepted.Load() }

// Flights is the number of times a client sent after having received
// (counting each connection's first send), summed over connections.
func (p *LatencyProxy) Flights() int64 { return p.flights.Load() }

// Bytes returns the bytes forwarded so far toward the target (up) and
// back (down).
func (p *LatencyProxy) Bytes() (up, down int64) { return p.up.Load(), p.down.Load() }

// Close stops accepting, cuts every connection and waits for the
// proxy's goroutines.
func (p *LatencyProxy) Close() error {
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	err := p.ln.Close()
	p.wg.Wait()
	return err
}

func (p *LatencyProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.Close()
		return false
	}
	p.conns[c] = true
	return true
}

func (p *LatencyProxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

func (p *LatencyProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.accepted.Add(1)
		if !p.track(c) {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			defer p.untrack(c)
			time.Sleep(2 * p.Delay) // SYN, SYN-ACK
			t, err := net.DialTimeout("tcp", p.target, 10*time.Second)
			if err != nil {
				return
			}
			if !p.track(t) {
				return
			}
			defer p.untrack(t)
			var wg sync.WaitGroup
			var turn flightState
			wg.Add(2)
			go func() { defer wg.Done(); p.pipe(t, c, &p.up, func() { turn.sent(&p.flights) }) }()
			go func() { defer wg.Done(); p.pipe(c, t, &p.down, turn.received) }()
			wg.Wait()
		}()
	}
}

// flightState is one connection's direction of travel: a send after a
// receive (or the first send) starts a flight.
type flightState struct {
	mu      sync.Mutex
	started bool
	sending bool
}

func (f *flightState) sent(count *atomic.Int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.started || !f.sending {
		count.Add(1)
	}
	f.started, f.sending = true, true
}

func (f *flightState) received() {
	f.mu.Lock()
	f.sending = false
	f.mu.Unlock()
}

// chunk is bytes read at one moment, due at another.
type chunk struct {
	data []byte
	due  time.Time
	err  error // io.EOF for an end of input
}

// pipe copies src to dst, each chunk Delay after it was read; onRead is
// called as each chunk is read.
func (p *LatencyProxy) pipe(dst, src net.Conn, count *atomic.Int64, onRead func()) {
	q := make(chan chunk, 1024)
	go func() {
		defer close(q)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			now := time.Now()
			if n > 0 {
				onRead()
				q <- chunk{data: buf[:n], due: now.Add(p.Delay)}
			}
			if err != nil {
				q <- chunk{due: now.Add(p.Delay), err: err}
				return
			}
		}
	}()
	for c := range q {
		if d := time.Until(c.due); d > 0 {
			time.Sleep(d)
		}
		if c.err != nil {
			if errors.Is(c.err, io.EOF) {
				if cw, ok := dst.(interface{ CloseWrite() error }); ok {
					cw.CloseWrite()
					continue // drain: the reader has stopped
				}
			}
			dst.Close()
			src.Close()
			continue
		}
		if _, err := dst.Write(c.data); err != nil {
			dst.Close()
			src.Close()
			continue // the reader ends on the closed src
		}
		count.Add(int64(len(c.data)))
	}
}
