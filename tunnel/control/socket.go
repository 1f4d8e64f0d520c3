package control

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Socket is a control socket this process owns: it holds the lock beside
// the socket and listens on it. Close it to give both up.
type Socket struct {
	path string
	ln   *net.UnixListener
	lock *os.File
}

// lockPoll is how often Listen retries a lock another process holds.
const lockPoll = 50 * time.Millisecond

// Listen becomes the master for path: it takes the lock file path+".lock",
// removes a stale socket and listens. The directory must be private (see
// MakeDir). When another process holds the lock, Listen waits for it
// until ctx is done, returning ErrMasterRunning as soon as a master
// answers on path. Errors: ErrMasterRunning, ErrUnsupported, ctx's error,
// or the cause wrapped.
func Listen(ctx context.Context, path string) (*Socket, error) {
	if len(path) > maxSocketPath {
		return nil, fmt.Errorf("control: socket path %s: longer than %d bytes", path, maxSocketPath)
	}
	if err := checkDir(filepath.Dir(path)); err != nil {
		return nil, err
	}
	lock, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("control: lock %s: %w", path, err)
	}
	for {
		ok, err := lockFile(lock)
		if err != nil {
			lock.Close()
			return nil, fmt.Errorf("control: lock %s: %w", path, err)
		}
		if ok {
			break
		}
		if alive(ctx, path) {
			lock.Close()
			return nil, ErrMasterRunning
		}
		select {
		case <-ctx.Done():
			lock.Close()
			return nil, fmt.Errorf("control: lock %s: %w", path, ctx.Err())
		case <-time.After(lockPoll):
		}
	}
	// With the lock held, no other master of ours can be listening; a
	// socket file left there is stale. Anything else is not ours to remove.
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode().Type() != os.ModeSocket {
			lock.Close()
			return nil, fmt.Errorf("control: %s exists and is not a socket", path)
		}
		if alive(ctx, path) { // a foreign master that took no lock
			lock.Close()
			return nil, ErrMasterRunning
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			lock.Close()
			return nil, fmt.Errorf("control: remove stale %s: %w", path, err)
		}
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("control: listen %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		lock.Close()
		return nil, fmt.Errorf("control: %w", err)
	}
	ln.SetUnlinkOnClose(true)
	return &Socket{path: path, ln: ln, lock: lock}, nil
}

// Path is the socket's path.
func (s *Socket) Path() string { return s.path }

// Close stops listening, removes the socket and releases the lock, in that
// order, so that the next master never sees this one's socket.
func (s *Socket) Close() error {
	err := s.ln.Close()
	s.lock.Close()
	return err
}

// alive reports whether a master answers a status request on path.
func alive(ctx context.Context, path string) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	_, err := Query(ctx, path)
	return err == nil
}
