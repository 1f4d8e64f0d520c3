package install

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"golang.org/x/crypto/ssh"
)

// Conn is the link to the host: exec sessions and connections opened from
// the host (for the check that serve answers). Its methods may be called
// from several goroutines at once. *tunnel.Client implements it.
type Conn interface {
	// Run runs cmd through the login shell, as `ssh host cmd` does.
	Run(ctx context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer) error
	// DialContext opens a TCP connection from the host to addr.
	DialContext(ctx context.Context, network, addr string) (net.Conn, error)
}

// StepError is a step that failed: Step names it ("probe", "upload",
// "verify", ...), Msg is the host's own message when it gave one (the
// last lines of its stderr), and Err is the underlying error.
type StepError struct {
	Step string
	Msg  string
	Err  error
}

func (e *StepError) Error() string {
	switch {
	case e.Msg != "" && e.Err != nil && !strings.Contains(e.Msg, e.Err.Error()):
		return fmt.Sprintf("install: %s: %s (%v)", e.Step, e.Msg, e.Err)
	case e.Msg != "":
		return fmt.Sprintf("install: %s: %s", e.Step, e.Msg)
	}
	return fmt.Sprintf("install: %s: %v", e.Step, e.Err)
}

func (e *StepError) Unwrap() error { return e.Err }

// ErrChecksum is matched (errors.Is) by the error of an upload whose copy
// on the host does not have the local file's SHA-256.
var ErrChecksum = errors.New("checksum mismatch")

// maxOutput bounds what a script may print back; only the binary goes
// the other way in bulk.
const maxOutput = 1 << 20

// runScript runs script with `sh -s` (so the login shell's dialect does not
// matter) and returns its stdout. A failure is a *StepError with the
// script's stderr.
func runScript(ctx context.Context, c Conn, step, script string) (string, error) {
	var out, errb limitedBuffer
	out.max, errb.max = maxOutput, maxOutput
	err := c.Run(ctx, "sh -s", strings.NewReader(script), &out, &errb)
	if err != nil {
		return out.String(), stepError(step, errb.String(), err)
	}
	return out.String(), nil
}

// stepError makes a *StepError from a failed command: the host's message
// (the last non-empty lines of stderr) and, when that is empty, the exit
// status or transport error.
func stepError(step, stderr string, err error) *StepError {
	msg := lastLines(stderr, 3)
	var exit *ssh.ExitError
	if msg != "" && errors.As(err, &exit) {
		// The host's words say it; the exit status adds nothing.
		return &StepError{Step: step, Msg: msg}
	}
	return &StepError{Step: step, Msg: msg, Err: err}
}

// lastLines returns the last n non-empty lines of s joined by "; ".
func lastLines(s string, n int) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "; ")
}

// quote makes s one word for sh (and for bash, zsh and fish).
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// limitedBuffer keeps the first max bytes written and drops the rest.
type limitedBuffer struct {
	bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
