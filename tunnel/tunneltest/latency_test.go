package tunneltest_test

import (
	"bytes"
	"crypto/rand"
	"io"
	"net"
	"testing"
	"time"

	"github.com/rpcssh/rpcssh/tunnel/tunneltest"
)

func TestLatencyProxyDelaysEachWayAndKeepsBytes(t *testing.T) {
	const delay = 100 * time.Millisecond
	p := tunneltest.NewLatencyProxy(t, tunneltest.EchoServer(t, "tcp", ""), delay)
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))

	// A connection's first round trip costs two delays, plus two for the
	// handshake (the proxy may accept a moment before Dial returns).
	start := time.Now()
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	if rtt := time.Since(start); rtt < 7*delay/2 {
		t.Errorf("first round trip took %v, want about %v", rtt, 4*delay)
	}
	start = time.Now()
	c.Write([]byte("y"))
	io.ReadFull(c, make([]byte, 1))
	if rtt := time.Since(start); rtt < 2*delay {
		t.Errorf("round trip took %v, want at least %v", rtt, 2*delay)
	}

	// Many writes in a row arrive whole and in order.
	want := make([]byte, 1<<20)
	rand.Read(want)
	go func() {
		for i := 0; i < len(want); i += 1000 {
			c.Write(want[i:min(i+1000, len(want))])
		}
		c.(*net.TCPConn).CloseWrite()
	}()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("got %d bytes back, want the %d sent, in order", len(got), len(want))
	}
	if up, down := p.Bytes(); up != int64(len(want))+2 || down != up {
		t.Errorf("Bytes() = %d up, %d down, want %d each", up, down, len(want)+2)
	}
	if p.Accepted() != 1 {
		t.Errorf("Accepted() = %d, want 1", p.Accepted())
	}
	// Each one-byte exchange was a flight, and the stream that followed
	// at least one more (another each time an echo came back between two
	// of its writes).
	if f := p.Flights(); f < 3 {
		t.Errorf("Flights() = %d, want at least 3", f)
	}
}

func TestLatencyProxyCloseCutsConnections(t *testing.T) {
	p, err := tunneltest.StartLatencyProxy(tunneltest.EchoServer(t, "tcp", ""), 10*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("hi"))
	io.ReadFull(c, make([]byte, 2))
	done := make(chan struct{})
	go func() { p.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return with a connection open")
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Error("read after Close succeeded")
	}
}
