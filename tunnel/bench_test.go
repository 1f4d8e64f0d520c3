package tunnel_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/rpcssh/rpcssh/tunnel"
	"github.com/rpcssh/rpcssh/tunnel/tunneltest"
)

type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

func directDial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// benchTunnel dials an in-process server (Nagle left on, as sshd does).
func benchTunnel(b *testing.B, quickAck bool) *tunnel.Client {
	b.Helper()
	p := newInProc(b, tunneltest.Config{Nagle: true})
	cfg := p.config()
	if !quickAck {
		cfg = tunnel.WithoutQuickAck(cfg)
	}
	return dialOK(b, cfg)
}

// benchSSHD dials a real OpenSSH sshd (skips when it is not installed).
func benchSSHD(b *testing.B, quickAck bool) *tunnel.Client {
	b.Helper()
	s := tunneltest.StartSSHD(b, tunneltest.SSHDConfig{})
	kh := filepath.Join(b.TempDir(), "known_hosts")
	if err := s.WriteKnownHosts(kh, false); err != nil {
		b.Fatal(err)
	}
	key, err := tunnel.LoadKey(s.ClientKeyPath, nil)
	if err != nil {
		b.Fatal(err)
	}
	cfg := tunnel.Config{Addr: s.Addr(), User: s.User, Auth: []ssh.AuthMethod{ssh.PublicKeys(key)}, KnownHostsFiles: []string{kh}}
	if !quickAck {
		cfg = tunnel.WithoutQuickAck(cfg)
	}
	return dialOK(b, cfg)
}

// benchDialer dials directly, through the in-process server, or through a
// real sshd, with TCP_QUICKACK on.
func benchDialer(b *testing.B, path string) dialFunc {
	switch path {
	case "inproc":
		return benchTunnel(b, true).DialContext
	case "sshd":
		return benchSSHD(b, true).DialContext
	}
	return directDial
}

// runConcurrent runs b.N calls of op spread over c workers and reports
// calls/s.
func runConcurrent(b *testing.B, c int, setup func() (op func() error, done func())) {
	var next atomic.Int64
	var wg sync.WaitGroup
	ops := make([]func() error, c)
	dones := make([]func(), c)
	for i := range c {
		ops[i], dones[i] = setup()
	}
	b.ResetTimer()
	start := time.Now()
	for i := range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				if err := ops[i](); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	for _, d := range dones {
		d()
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "calls/s")
}

// BenchmarkEcho: 64-byte request/response on long-lived connections, direct
// and through the tunnel (in-process x/crypto server or OpenSSH sshd), with
// 1 and 8 connections in parallel.
func BenchmarkEcho(b *testing.B) {
	for _, path := range []string{"direct", "inproc", "sshd"} {
		for _, c := range []int{1, 8} {
			b.Run(path+"/c="+strconv.Itoa(c), func(b *testing.B) {
				echo := echoAddr(b, "tcp", "127.0.0.1:0")
				dial := benchDialer(b, path)
				msg := make([]byte, 64)
				runConcurrent(b, c, func() (func() error, func()) {
					conn, err := dial(context.Background(), "tcp", echo)
					if err != nil {
						b.Fatal(err)
					}
					buf := make([]byte, len(msg))
					return func() error {
						if _, err := conn.Write(msg); err != nil {
							return err
						}
						_, err := io.ReadFull(conn, buf)
						return err
					}, func() { conn.Close() }
				})
			})
		}
	}
}

// BenchmarkThroughput: bytes one way into a sink, direct and through the
// tunnel.
func BenchmarkThroughput(b *testing.B) {
	for _, path := range []string{"direct", "inproc", "sshd"} {
		b.Run(path, func(b *testing.B) {
			sink := sinkAddr(b)
			dial := benchDialer(b, path)
			conn, err := dial(context.Background(), "tcp", sink)
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			chunk := make([]byte, 64<<10)
			b.SetBytes(int64(len(chunk)))
			b.ResetTimer()
			for range b.N {
				if _, err := conn.Write(chunk); err != nil {
					b.Fatal(err)
				}
			}
			// Wait until the sink has everything.
			if err := conn.(interface{ CloseWrite() error }).CloseWrite(); err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadFull(conn, make([]byte, 1)); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkClosePerRequest: a new connection per call to a server that
// answers in two small writes and closes (HTTP/1.0 style, like Python's
// http.server), with and without re-arming TCP_QUICKACK on the SSH socket.
// The server side of the SSH link leaves Nagle on, as OpenSSH's sshd does.
func BenchmarkClosePerRequest(b *testing.B) {
	cases := []struct {
		name string
		dial func(b *testing.B) dialFunc
	}{
		{"direct", func(*testing.B) dialFunc { return directDial }},
		{"inproc/quickack", func(b *testing.B) dialFunc { return benchTunnel(b, true).DialContext }},
		{"inproc/no-quickack", func(b *testing.B) dialFunc { return benchTunnel(b, false).DialContext }},
		{"sshd/quickack", func(b *testing.B) dialFunc { return benchSSHD(b, true).DialContext }},
		{"sshd/no-quickack", func(b *testing.B) dialFunc { return benchSSHD(b, false).DialContext }},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			srv := closePerRequestAddr(b)
			dial := tc.dial(b)
			req := []byte("POST /RPC2 HTTP/1.0\r\n\r\n")
			runConcurrent(b, 1, func() (func() error, func()) {
				return func() error {
					conn, err := dial(context.Background(), "tcp", srv)
					if err != nil {
						return err
					}
					defer conn.Close()
					if _, err := conn.Write(req); err != nil {
						return err
					}
					_, err = io.Copy(io.Discard, conn)
					return err
				}, func() {}
			})
		})
	}
}

// sinkAddr reads connections to EOF, then writes one byte.
func sinkAddr(b *testing.B) string {
	return serveLoopback(b, func(c net.Conn) {
		_, _ = io.Copy(io.Discard, c)
		_, _ = c.Write([]byte{1})
	})
}

// closePerRequestAddr reads one request line block, answers with a header
// and a body in separate writes, and closes.
func closePerRequestAddr(b *testing.B) string {
	return serveLoopback(b, func(c net.Conn) {
		r := bufio.NewReader(c)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if line == "\r\n" {
				break
			}
		}
		_, _ = io.WriteString(c, "HTTP/1.0 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 120\r\n\r\n")
		_, _ = io.WriteString(c, "<?xml version=\"1.0\"?><methodResponse><params><param><value><int>42</int></value></param></params></methodResponse>\n")
	})
}

// serveLoopback runs handle for each connection on a loopback listener;
// cleanup closes it and waits for the handlers.
func serveLoopback(b *testing.B, handle func(net.Conn)) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	serveConns(b, l, func(c net.Conn) {
		_ = c.SetDeadline(time.Now().Add(time.Minute))
		handle(c)
	})
	return l.Addr().String()
}
