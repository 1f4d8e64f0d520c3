package tunnel_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/rpcssh/rpcssh/tunnel"
	"github.com/rpcssh/rpcssh/tunnel/tunneltest"
)

// Dial "lab" as ssh would (~/.ssh/config, the agent, ~/.ssh/id_*,
// ~/.ssh/known_hosts) and send an HTTP request to a server on its
// loopback.
func ExampleDialDestination() {
	ctx := context.Background()
	c, err := tunnel.DialDestination(ctx, "lab")
	if err != nil {
		fmt.Println(err) // *tunnel.UnknownHostError, *tunnel.AuthError, ...
		return
	}
	defer c.Close()
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return c.DialContext(ctx, "tcp", "127.0.0.1:8000")
	}}}
	resp, err := hc.Get("http://lab/RPC2")
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println(resp.Status)
}

// Resolve a destination through an ssh_config, with ssh's command-line
// options (-l, -o), then dial it. The server here is tunneltest's
// in-process one; the files live in a temporary home.
func ExampleResolve() {
	home, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(home)

	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	block, _ := ssh.MarshalPrivateKey(priv, "")
	_ = os.MkdirAll(filepath.Join(home, ".ssh"), 0o700)
	_ = os.WriteFile(filepath.Join(home, ".ssh", "id_ed25519"), pem.EncodeToMemory(block), 0o600)
	sshPub, _ := ssh.NewPublicKey(pub)
	srv, err := tunneltest.Start(tunneltest.Config{User: "deploy", AuthorizedKeys: []ssh.PublicKey{sshPub}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	host, port, _ := net.SplitHostPort(srv.Addr())
	_ = os.WriteFile(filepath.Join(home, ".ssh", "known_hosts"), []byte(srv.KnownHostsLine()+"\n"), 0o600)
	config := "Host lab\n  HostName " + host + "\n  Port " + port + "\n  User nobody\n"
	_ = os.WriteFile(filepath.Join(home, ".ssh", "config"), []byte(config), 0o600)

	ctx := context.Background()
	res, err := tunnel.Resolve(ctx, "lab", tunnel.ResolveOptions{
		Home:    home,
		Options: []string{"User=deploy"}, // ssh -o: wins over the config
		Getenv:  func(string) string { return "" },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer res.Close()
	fmt.Println(res.User, res.Port == port, strings.Contains(res.Keys[0], ssh.FingerprintSHA256(sshPub)))

	c, err := res.Dial(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	fmt.Println("connected")
	// Output:
	// deploy true true
	// connected
}
