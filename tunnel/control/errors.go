package control

import (
	"errors"
	"fmt"
)

// ErrUnsupported is returned where this OS cannot tell who is on the other
// end of a Unix socket (or lacks the other primitives a master needs).
var ErrUnsupported = errors.New("control: connection sharing is not supported on this OS")

// ErrMasterRunning is returned by Listen when a live master already
// serves the socket: use it with Dial.
var ErrMasterRunning = errors.New("control: a master is already running")

// UnavailableError says that no stream could be had through a master
// before it accepted the request: there is no socket, the socket is stale,
// the master does not answer or has lost its link. The caller should dial
// the host itself.
type UnavailableError struct {
	Path string
	Err  error
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("control: no master at %s: %v", e.Path, e.Err)
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// OpenError is a master's refusal to open a channel it was asked for (the
// remote side refused, or forwarding is prohibited). Dialing directly
// would most likely fail the same way; the message is the master's.
type OpenError struct {
	Network, Addr string
	Msg           string
}

func (e *OpenError) Error() string {
	return fmt.Sprintf("control: open %s %s through master: %s", e.Network, e.Addr, e.Msg)
}
