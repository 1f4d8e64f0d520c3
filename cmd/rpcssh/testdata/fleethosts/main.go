// Command fleethosts serves a fleet of SSH hosts on loopback for the
// fan-out scale benchmark (cmd/rpcssh BenchmarkFleetScale), in its own
// process so that the benchmark measures the client alone.
//
//	fleethosts -n 1000 -dir DIR
//
// It reads DIR/id_ed25519.pub (the one user key accepted), starts n SSH
// servers on 127.0.0.1:0 sharing one host key, each forwarding every
// direct-tcpip channel to one XML-RPC server (user "user", password from
// $FLEET_PASSWORD) whose echo method upper-cases its argument. It writes
// DIR/known_hosts and DIR/hosts, prints "ready RPC_PORT", and on each
// line "peak" read from stdin prints (and resets) the highest number of
// SSH connections open at once. It exits when stdin closes.
package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/rpcssh/rpcssh/rpc"
)

func main() {
	n := flag.Int("n", 100, "hosts")
	dir := flag.String("dir", ".", "where to read the user key and write known_hosts and hosts")
	flag.Parse()
	if err := run(*n, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "fleethosts:", err)
		os.Exit(1)
	}
}

// conns counts the SSH connections open now and the most at once.
type conns struct {
	open, peak atomic.Int64
}

func (c *conns) add(d int64) {
	n := c.open.Add(d)
	for p := c.peak.Load(); n > p && !c.peak.CompareAndSwap(p, n); p = c.peak.Load() {
	}
}

func run(n int, dir string) error {
	pubText, err := os.ReadFile(filepath.Join(dir, "id_ed25519.pub"))
	if err != nil {
		return err
	}
	userKey, _, _, _, err := ssh.ParseAuthorizedKey(pubText)
	if err != nil {
		return err
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	hostKey, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return err
	}
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
			if string(k.Marshal()) == string(userKey.Marshal()) {
				return nil, nil
			}
			return nil, errors.New("key not authorized")
		},
	}
	cfg.AddHostKey(hostKey)

	backend, err := startBackend()
	if err != nil {
		return err
	}
	var known, hosts strings.Builder
	var c conns
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		addr := ln.Addr().String()
		known.WriteString(knownhosts.Line([]string{knownhosts.Normalize(addr)}, hostKey.PublicKey()) + "\n")
		hosts.WriteString(addr + "\n")
		go accept(ln, cfg, backend, &c)
	}
	if err := os.WriteFile(filepath.Join(dir, "known_hosts"), []byte(known.String()), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "hosts"), []byte(hosts.String()), 0o600); err != nil {
		return err
	}
	_, port, _ := net.SplitHostPort(backend)
	fmt.Printf("ready %s\n", port)
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		if sc.Text() == "peak" {
			fmt.Printf("peak %d\n", c.peak.Swap(c.open.Load()))
		}
	}
	return nil
}

func startBackend() (string, error) {
	srv := rpc.NewServer(rpc.ServerConfig{Username: "user", Password: os.Getenv("FLEET_PASSWORD")})
	err := srv.RegisterMethod(rpc.Method{Name: "echo", Func: func(s string) string { return strings.ToUpper(s) }})
	if err != nil {
		return "", err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	go srv.Serve(context.Background(), l)
	return l.Addr().String(), nil
}

func accept(ln net.Listener, cfg *ssh.ServerConfig, backend string, c *conns) {
	for {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		c.add(1)
		go func() {
			defer c.add(-1)
			serve(nc, cfg, backend)
		}()
	}
}

// serve runs one SSH connection: direct-tcpip to the backend, whatever
// address is asked; global requests (keepalives) answered with failure.
func serve(nc net.Conn, cfg *ssh.ServerConfig, backend string) {
	defer nc.Close()
	sc, chans, reqs, err := ssh.NewServerConn(nc, cfg)
	if err != nil {
		return
	}
	defer sc.Close()
	go ssh.DiscardRequests(reqs)
	var wg sync.WaitGroup
	defer wg.Wait()
	// The backend keeps idle HTTP connections open: close them when the
	// SSH connection ends, so that the count of open connections drops.
	var mu sync.Mutex
	var backends []net.Conn
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, bc := range backends {
			bc.Close()
		}
	}()
	for nch := range chans {
		if nch.ChannelType() != "direct-tcpip" {
			nch.Reject(ssh.UnknownChannelType, "only direct-tcpip")
			continue
		}
		ch, creqs, err := nch.Accept()
		if err != nil {
			continue
		}
		go ssh.DiscardRequests(creqs)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer ch.Close()
			bc, err := net.Dial("tcp", backend)
			if err != nil {
				return
			}
			defer bc.Close()
			mu.Lock()
			backends = append(backends, bc)
			mu.Unlock()
			done := make(chan struct{})
			go func() { io.Copy(bc, ch); bc.(*net.TCPConn).CloseWrite(); close(done) }()
			io.Copy(ch, bc)
			ch.CloseWrite()
			<-done
		}()
	}
}
