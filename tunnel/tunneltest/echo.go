package tunneltest

import (
	"io"
	"net"
)

// EchoServer listens on network ("tcp" on 127.0.0.1:0 when addr is "",
// or "unix" at the path addr) and writes back what each connection sends
// until that side closes. It returns the address; tb.Cleanup closes it.
func EchoServer(tb TB, network, addr string) string {
	tb.Helper()
	if network == "tcp" && addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := net.Listen(network, addr)
	if err != nil {
		tb.Fatalf("tunneltest: echo server: %v", err)
	}
	tb.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return l.Addr().String()
}
