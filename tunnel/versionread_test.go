package tunnel_test

import (
	"context"
	"net"
	"sync/atomic"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/rpcssh/rpcssh/tunnel"
)

// countingConn counts Read and Write calls.
type countingConn struct {
	net.Conn
	reads, writes *atomic.Int64
}

func (c countingConn) Read(b []byte) (int, error)  { c.reads.Add(1); return c.Conn.Read(b) }
func (c countingConn) Write(b []byte) (int, error) { c.writes.Add(1); return c.Conn.Write(b) }

// TestHandshakeReadsVersionLineAtOnce checks that the client reads the
// server's version line in one read, not one read per byte as x/crypto
// does on a bare connection: the client reads at most about once per
// server write (fewer when TCP delivers two writes together).
func TestHandshakeReadsVersionLineAtOnce(t *testing.T) {
	hostKey, userKey := genSigner(t), genSigner(t)
	srvCfg := &ssh.ServerConfig{PublicKeyCallback: func(ssh.ConnMetadata, ssh.PublicKey) (*ssh.Permissions, error) { return nil, nil }}
	srvCfg.AddHostKey(hostKey)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var clientReads, serverWrites, unused atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		srvSide, err := ln.Accept()
		if err != nil {
			return
		}
		defer srvSide.Close()
		sc, chans, reqs, err := ssh.NewServerConn(countingConn{srvSide, &unused, &serverWrites}, srvCfg)
		if err != nil {
			return
		}
		go ssh.DiscardRequests(reqs)
		go func() {
			for ch := range chans {
				ch.Reject(ssh.Prohibited, "no")
			}
		}()
		sc.Wait()
	}()
	cfg := tunnel.Config{
		Addr:            ln.Addr().String(),
		User:            "tester",
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(userKey)},
		HostKeyCallback: ssh.FixedHostKey(hostKey.PublicKey()),
	}
	cliSide, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c, err := tunnel.NewClient(context.Background(), countingConn{cliSide, &clientReads, &unused}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Count before Close: closing adds reads and writes of its own.
	reads, writes := clientReads.Load(), serverWrites.Load()
	c.Close()
	<-done
	// The version line alone ("SSH-2.0-Go\r\n") took 12 reads unbuffered.
	if reads > writes+3 {
		t.Errorf("client made %d reads for %d server writes, want at most %d", reads, writes, writes+3)
	}
}
