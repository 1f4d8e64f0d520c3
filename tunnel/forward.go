package tunnel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Forward accepts connections on l and connects each through the SSH server
// to remote: a host:port, or an absolute path naming a unix socket on the
// server. Data flows both ways with half-close passed on. Forward blocks
// until ctx is done, l is closed or the connection is lost; it then closes
// l and every forwarded connection and waits for its goroutines.
//
// It returns nil when ctx is done or l was closed, ErrClosed after Close,
// or the cause of a lost connection. A connection that cannot be opened
// on the server (see DialContext) is closed without ending Forward.
func (c *Client) Forward(ctx context.Context, l net.Listener, remote string) error {
	network := "tcp"
	if strings.HasPrefix(remote, "/") {
		network = "unix"
	} else if _, _, err := net.SplitHostPort(remote); err != nil {
		l.Close()
		return fmt.Errorf("tunnel: forward to %s: %w", remote, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var lost error
	var mu sync.Mutex
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-c.done:
			mu.Lock()
			lost = c.closedErr()
			mu.Unlock()
			cancel()
		case <-ctx.Done():
		}
	}()
	var backoff time.Duration
	for {
		conn, err := l.Accept()
		if err != nil && retryable(err) && ctx.Err() == nil {
			// Out of file descriptors and the like: wait and retry, as
			// net/http does, instead of ending the tunnel.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			c.log.Warn("tunnel: forward accept failed, retrying", "remote", remote, "err", err, "in", backoff)
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
			}
			continue
		}
		backoff = 0
		if err != nil {
			cancel()
			wg.Wait()
			mu.Lock()
			defer mu.Unlock()
			switch {
			case lost != nil:
				return lost
			case ctx.Err() != nil, errors.Is(err, net.ErrClosed):
				return nil
			}
			return fmt.Errorf("tunnel: forward to %s: accept: %w", remote, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.forwardConn(ctx, conn, network, remote)
		}()
	}
}

// forwardConn joins one accepted connection to remote until both
// directions are done or ctx ends.
func (c *Client) forwardConn(ctx context.Context, local net.Conn, network, remote string) {
	defer local.Close()
	rc, err := c.DialContext(ctx, network, remote)
	if err != nil {
		if ctx.Err() == nil {
			c.log.Warn("tunnel: forward failed", "from", local.RemoteAddr().String(), "err", err)
		}
		return
	}
	defer rc.Close()
	stop := context.AfterFunc(ctx, func() {
		local.Close()
		rc.Close()
	})
	defer stop()
	done := make(chan struct{})
	go func() {
		defer close(done)
		pipe(rc, local)
	}()
	pipe(local, rc)
	<-done
}

// retryable reports accept errors that pass: descriptor exhaustion and
// connections aborted before they were accepted.
func retryable(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.ENOBUFS)
}

// pipe copies src to dst, then passes the end of data on as a half-close
// (or a full close when dst cannot half-close). A copy error closes both so
// the other direction ends too.
func pipe(dst, src net.Conn) {
	_, err := io.Copy(dst, src)
	if err != nil {
		dst.Close()
		src.Close()
		return
	}
	if cw, ok := dst.(interface{ CloseWrite() error }); ok {
		if cw.CloseWrite() == nil {
			return
		}
	}
	dst.Close()
}
