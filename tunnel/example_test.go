package tunnel_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/rpcssh/rpcssh/tunnel"
	"github.com/rpcssh/rpcssh/tunnel/tunneltest"
)

// Dial a host the way ssh would and send HTTP requests to a server bound on
// the remote loopback, all over one SSH connection.
func ExampleDial() {
	home, _ := os.UserHomeDir()
	key, err := tunnel.LoadKey(filepath.Join(home, ".ssh", "id_ed25519"), nil)
	if err != nil {
		fmt.Println(err) // errors.As(err, new(*ssh.PassphraseMissingError)): prompt and retry
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	c, err := tunnel.Dial(ctx, tunnel.Config{
		Addr:            "server.example.org:22",
		User:            "deploy",
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(key)},
		KnownHostsFiles: []string{filepath.Join(home, ".ssh", "known_hosts")},
	})
	if err != nil {
		fmt.Println(err) // *tunnel.UnknownHostError, *tunnel.HostKeyChangedError, ...
		return
	}
	defer c.Close()
	hc := &http.Client{Transport: &http.Transport{DialContext: c.DialContext}}
	resp, err := hc.Get("http://127.0.0.1:8000/")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	fmt.Println(resp.Status)
}

// Forward a local port to a port on the server's side, like ssh -L. Here
// the server is tunneltest's in-process one.
func ExampleClient_Forward() {
	srv, err := tunneltest.Start(tunneltest.Config{Password: "secret"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	knownHosts := filepath.Join(dir, "known_hosts")
	_ = os.WriteFile(knownHosts, []byte(srv.KnownHostsLine()+"\n"), 0o600)

	// A service reachable from the server: it greets and hangs up.
	svc, _ := net.Listen("tcp", "127.0.0.1:0")
	defer svc.Close()
	go func() {
		for {
			conn, err := svc.Accept()
			if err != nil {
				return
			}
			_, _ = io.WriteString(conn, "hello from the far side\n")
			conn.Close()
		}
	}()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, err := tunnel.Dial(ctx, tunnel.Config{
		Addr:            srv.Addr(),
		User:            "me",
		Auth:            []ssh.AuthMethod{ssh.Password("secret")},
		KnownHostsFiles: []string{knownHosts},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	local, _ := net.Listen("tcp", "127.0.0.1:0")
	done := make(chan error, 1)
	go func() { done <- c.Forward(ctx, local, svc.Addr().String()) }()

	conn, err := net.Dial("tcp", local.Addr().String())
	if err != nil {
		fmt.Println(err)
		return
	}
	greeting, _ := io.ReadAll(conn)
	conn.Close()
	fmt.Print(string(greeting))

	cancel()
	fmt.Println("forward ended:", <-done)
	// Output:
	// hello from the far side
	// forward ended: <nil>
}
