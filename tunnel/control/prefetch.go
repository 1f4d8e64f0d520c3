package control

import (
	"context"
	"net"
)

// spare is a channel opened ahead of the request that will use it. A
// goroutine reads from it from the start, so that a channel the server
// closes (or writes to) while it waits is noticed; what it read is
// delivered first when the channel is handed out.
type spare struct {
	network, addr string
	conn          net.Conn
	first         chan readResult // one result, buffered
}

type readResult struct {
	data []byte
	err  error
}

func newSpare(network, addr string, conn net.Conn) *spare {
	s := &spare{network: network, addr: addr, conn: conn, first: make(chan readResult, 1)}
	go func() {
		buf := make([]byte, 32<<10)
		n, err := conn.Read(buf)
		s.first <- readResult{data: buf[:n], err: err}
	}()
	return s
}

// usable reports whether the server has neither closed nor written to the
// spare yet. A spare the server wrote to is still usable (its greeting is
// kept), one it closed is not.
func (s *spare) usable() bool {
	select {
	case r := <-s.first:
		s.first <- r
		return r.err == nil
	default:
		return true
	}
}

// takeSpare returns the spare for network/addr if it is still usable, and
// drops any other. Called with m.mu held.
func (m *master) takeSpare(network, addr string) *spare {
	sp := m.spare
	m.spare = nil
	if sp == nil {
		return nil
	}
	if sp.network != network || sp.addr != addr || !sp.usable() {
		sp.conn.Close()
		return nil
	}
	return sp
}

// prefetch opens a spare channel to network/addr unless one is there.
func (m *master) prefetch(ctx context.Context, network, addr string) {
	m.mu.Lock()
	have := m.spare != nil && m.spare.network == network && m.spare.addr == addr
	m.mu.Unlock()
	if have {
		return
	}
	octx, cancel := context.WithTimeout(ctx, m.cfg.OpenTimeout)
	conn, err := m.c.DialContext(octx, network, addr)
	cancel()
	if err != nil {
		return
	}
	sp := newSpare(network, addr, conn)
	m.mu.Lock()
	defer m.mu.Unlock()
	select {
	case <-m.done:
		conn.Close()
		return
	default:
	}
	if m.spare != nil {
		m.spare.conn.Close()
	}
	m.spare = sp
}
