package control

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// DefaultHandshakeTimeout bounds the exchange with a master when the
// context has no deadline, so a stopped or wedged master costs at most
// this long before the caller dials by itself.
const DefaultHandshakeTimeout = 5 * time.Second

// Dial opens a stream to network/addr on the remote side through the
// master at path: network "tcp" with addr host:port, or "unix" with a
// socket path on the remote host. ctx bounds the exchange with the master
// and the channel open; once Dial returns, ctx no longer matters.
//
// Errors: *UnavailableError when no master could serve the request (dial
// the host yourself), *OpenError when the master could not open the
// channel.
func Dial(ctx context.Context, path, network, addr string) (net.Conn, error) {
	conn, br, rep, err := exchange(ctx, path, request{Op: opOpen, Network: network, Addr: addr})
	if err != nil {
		return nil, err
	}
	if rep.Error != "" {
		conn.Close()
		if rep.Lost {
			return nil, &UnavailableError{Path: path, Err: errors.New(rep.Error)}
		}
		return nil, &OpenError{Network: network, Addr: addr, Msg: rep.Error}
	}
	return &streamConn{UnixConn: conn, r: br}, nil
}

// Query asks the master at path for its status. Errors: *UnavailableError.
func Query(ctx context.Context, path string) (Status, error) {
	conn, _, rep, err := exchange(ctx, path, request{Op: opStatus})
	if err != nil {
		return Status{}, err
	}
	conn.Close()
	if rep.Status == nil {
		return Status{}, &UnavailableError{Path: path, Err: fmt.Errorf("no status in reply: %s", rep.Error)}
	}
	return *rep.Status, nil
}

// Stop asks the master at path to stop: it stops accepting at once and
// exits when its open streams have ended. Errors: *UnavailableError.
func Stop(ctx context.Context, path string) error {
	conn, _, rep, err := exchange(ctx, path, request{Op: opStop})
	if err != nil {
		return err
	}
	conn.Close()
	if rep.Error != "" {
		return &UnavailableError{Path: path, Err: errors.New(rep.Error)}
	}
	return nil
}

// Watcher follows a master's life; see Watch.
type Watcher struct {
	conn *net.UnixConn
	done chan struct{}
	err  error
}

// ErrMasterGone is the reason a Watcher gives for a master that went away
// without saying why (it was killed).
var ErrMasterGone = errors.New("control: the master exited")

// Watch follows the master at path: Done is closed when it stops, and
// Err then says why (its Serve result, or ErrMasterGone). Close the
// Watcher when no longer interested. Errors: *UnavailableError.
func Watch(ctx context.Context, path string) (*Watcher, error) {
	conn, br, rep, err := exchange(ctx, path, request{Op: opWatch})
	if err != nil {
		return nil, err
	}
	if rep.Error != "" {
		conn.Close()
		return nil, &UnavailableError{Path: path, Err: errors.New(rep.Error)}
	}
	w := &Watcher{conn: conn, done: make(chan struct{}), err: ErrMasterGone}
	go func() {
		defer close(w.done)
		var last reply
		if readLine(br, &last) == nil && last.Error != "" {
			w.err = errors.New(last.Error)
		}
	}()
	return w, nil
}

// Done is closed when the master has stopped (or the Watcher was closed).
func (w *Watcher) Done() <-chan struct{} { return w.done }

// Err is why the master stopped; valid once Done is closed.
func (w *Watcher) Err() error {
	<-w.done
	return w.err
}

// Close stops watching.
func (w *Watcher) Close() error { return w.conn.Close() }

// List returns the status of every live master with a socket in dir,
// ordered by path. Sockets nobody answers on are skipped.
func List(ctx context.Context, dir string) ([]Status, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("control: list %s: %w", dir, err)
	}
	var out []Status
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".sock") || e.Type() != os.ModeSocket {
			continue
		}
		qctx, cancel := context.WithTimeout(ctx, time.Second)
		st, err := Query(qctx, filepath.Join(dir, e.Name()))
		cancel()
		if err == nil {
			out = append(out, st)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// exchange connects to path, sends req and reads the reply, bounded by
// ctx's deadline or DefaultHandshakeTimeout.
func exchange(ctx context.Context, path string, req request) (*net.UnixConn, *bufio.Reader, reply, error) {
	var rep reply
	unavailable := func(err error) error { return &UnavailableError{Path: path, Err: err} }
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, nil, rep, unavailable(err)
	}
	conn := c.(*net.UnixConn)
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(DefaultHandshakeTimeout)
	}
	conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if err := writeLine(conn, req); err != nil {
		conn.Close()
		return nil, nil, rep, unavailable(err)
	}
	br := bufio.NewReader(conn)
	if err := readLine(br, &rep); err != nil {
		conn.Close()
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, nil, rep, unavailable(err)
	}
	if !stop() {
		conn.Close()
		return nil, nil, rep, unavailable(ctx.Err())
	}
	conn.SetDeadline(time.Time{})
	return conn, br, rep, nil
}

// streamConn is a stream through a master: reads first drain what the
// reply's reader buffered.
type streamConn struct {
	*net.UnixConn
	r *bufio.Reader
}

func (c *streamConn) Read(p []byte) (int, error) { return c.r.Read(p) }
