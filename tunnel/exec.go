package tunnel

import (
	"context"
	"fmt"
	"io"
)

// Run runs cmd on the server in a new exec session (as `ssh host cmd`
// does: the login shell of the user interprets cmd), with stdin, stdout
// and stderr connected to the given streams; nil streams are empty or
// discarded. It returns when cmd has exited and its output is read.
//
// ctx bounds the whole run: when it is done the session is closed, which
// hangs up on cmd. Errors: *ssh.ExitError (errors.As) when cmd exited
// non-zero or by a signal, ErrClosed or the cause of a lost link, ctx's
// error (errors.Is), or the session error wrapped.
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
	s.Stdin, s.Stdout, s.Stderr = stdin, stdout, stderr
	stop := context.AfterFunc(ctx, func() { s.Close() })
	err = s.Run(cmd)
	if !stop() {
		return fmt.Errorf("tunnel: exec on %s: %w", c.addr, context.Cause(ctx))
	}
	if err != nil {
		if e := c.ended(); e != nil {
			return e
		}
		return err
	}
	return nil
}
