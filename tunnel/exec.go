package tunnel

import (
	"context"
	"fmt"
	"io"
	"sync"

	"golang.org/x/crypto/ssh"
)

// Run runs cmd on the server in a new exec session (as `ssh host cmd`
// does: the login shell of the user interprets cmd), with stdin, stdout
// and stderr connected to the given streams; nil streams are empty or
// discarded. It returns when cmd has exited and its output is read.
//
// ctx bounds the whole run: when it is done, cmd is sent SIGKILL (where
// the server supports signals), the session is closed, and Run returns
// at once; stdout and stderr are not written after that.
//
// Errors: *ssh.ExitError (errors.As) when cmd exited non-zero or by a
// signal, ErrClosed or the cause of a lost link, ctx's error (errors.Is),
// or the session error wrapped.
func (c *Client) Run(ctx context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer) error {
	if err := c.ended(); err != nil {
		return err
	}
	s, err := c.ssh.NewSession()
	if err != nil {
		if err := c.ended(); err != nil {
			return err
		}
		return fmt.Errorf("tunnel: exec on %s: %w", c.addr, err)
	}
	defer s.Close()
	g := &gate{}
	if stdin != nil {
		s.Stdin = gatedReader{g, stdin}
	}
	if stdout != nil {
		s.Stdout = gatedWriter{g, stdout}
	}
	if stderr != nil {
		s.Stderr = gatedWriter{g, stderr}
	}
	if err := s.Start(cmd); err != nil {
		return fmt.Errorf("tunnel: exec on %s: %w", c.addr, err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Wait() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		g.shut()
		_ = s.Signal(ssh.SIGKILL)
		return fmt.Errorf("tunnel: exec on %s: %w", c.addr, context.Cause(ctx))
	}
	if err != nil {
		if e := c.ended(); e != nil {
			return e
		}
		return fmt.Errorf("tunnel: exec on %s: %w", c.addr, err)
	}
	return nil
}

// gate cuts a session's goroutines off the caller's streams once Run has
// returned early.
type gate struct {
	mu     sync.Mutex
	closed bool
}

func (g *gate) shut() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
}

type gatedWriter struct {
	g *gate
	w io.Writer
}

func (w gatedWriter) Write(p []byte) (int, error) {
	w.g.mu.Lock()
	defer w.g.mu.Unlock()
	if w.g.closed {
		return 0, io.ErrClosedPipe
	}
	return w.w.Write(p)
}

type gatedReader struct {
	g *gate
	r io.Reader
}

// Read does not hold the gate while it reads (stdin may block): a read
// already under way when Run returns early may still finish.
func (r gatedReader) Read(p []byte) (int, error) {
	r.g.mu.Lock()
	closed := r.g.closed
	r.g.mu.Unlock()
	if closed {
		return 0, io.EOF
	}
	return r.r.Read(p)
}
