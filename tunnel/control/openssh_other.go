//go:build !(linux || darwin)

package control

import (
	"context"
	"net"
)

// DialOpenSSH needs descriptor passing over Unix sockets; see the Unix
// version. Here it returns an *UnavailableError wrapping ErrUnsupported.
func DialOpenSSH(ctx context.Context, path, network, addr string) (net.Conn, error) {
	return nil, &UnavailableError{Path: path, Err: ErrUnsupported}
}
