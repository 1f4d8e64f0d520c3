package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/rpcssh/rpcssh/rpc"
	"github.com/rpcssh/rpcssh/tunnel/tunneltest"
)

type demoCmd struct{}

func (demoCmd) Help() string {
	return `Needs no remote host and no set-up: starts an in-process SSH server and
'rpcssh serve' on loopback with throwaway keys and password, then makes the
'echo hi' call through a real SSH tunnel exactly as 'rpcssh call' would, and
prints HI. Nothing is left behind.`
}

func (demoCmd) Run(ctx context.Context, e *env) error {
	dir, err := os.MkdirTemp("", "rpcssh-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	// A throwaway client key, written as ssh-keygen would.
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	block, err := ssh.MarshalPrivateKey(priv, "rpcssh demo")
	if err != nil {
		return err
	}
	keyPath := filepath.Join(dir, "id_ed25519")
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(block), 0o600); err != nil {
		return err
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return err
	}

	sshd, err := tunneltest.Start(tunneltest.Config{AuthorizedKeys: []ssh.PublicKey{sshPub}})
	if err != nil {
		return fmt.Errorf("start the SSH server: %w", err)
	}
	defer sshd.Close()
	e.infof("1/4 SSH server on %s, host key %s", sshd.Addr(), ssh.FingerprintSHA256(sshd.HostKey()))

	secret := make([]byte, 18)
	if _, err := rand.Read(secret); err != nil {
		return err
	}
	password := base64.RawURLEncoding.EncodeToString(secret)
	srv := rpc.NewServer(rpc.ServerConfig{Username: "user", Password: password})
	if err := registerBuiltins(srv); err != nil {
		return err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	sctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(sctx, l) }()
	defer func() {
		stop()
		select {
		case <-served:
		case <-time.After(5 * time.Second):
		}
	}()
	rpcPort := l.Addr().(*net.TCPAddr).Port
	e.infof("2/4 rpcssh serve on 127.0.0.1:%d with a throwaway password (user \"user\")", rpcPort)

	knownHosts := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(knownHosts, []byte(sshd.KnownHostsLine()+"\n"), 0o600); err != nil {
		return err
	}
	e.infof("3/4 known_hosts holds the server's key, so it is verified as ssh would")

	host, port, err := net.SplitHostPort(sshd.Addr())
	if err != nil {
		return err
	}
	sshPort, _ := strconv.Atoi(port)
	call := callCmd{
		sshFlags: sshFlags{
			Host:                  []string{host},
			SSHPort:               sshPort,
			Key:                   []string{keyPath},
			KnownHosts:            []string{knownHosts},
			StrictHostKeyChecking: "yes",
			ConnectTimeout:        15 * time.Second,
			Keepalive:             15 * time.Second,
			SSHConfig:             "none",
		},
		remoteFlags:   remoteFlags{Port: rpcPort, Path: "/RPC2"},
		passwordFlags: passwordFlags{Username: "user"},
		responseFlags: responseFlags{MaxResponseMiB: 128},
		Timeout:       time.Minute,
		Output:        "text",
		Method:        "echo",
		Args:          []string{"hi"},
	}
	e.infof("4/4 rpcssh call --host %s --ssh-port %d --key %s --port %d echo hi", host, sshPort, keyPath, rpcPort)
	callEnv := *e
	callEnv.getenv = func(k string) string {
		if k == "RPCSSH_PASSWORD" {
			return password
		}
		return "" // no agent, no passphrase: only the demo's own key
	}
	if err := call.Run(ctx, &callEnv); err != nil {
		return fmt.Errorf("demo call: %w", err)
	}
	e.infof("done: that HI came back through a real SSH tunnel; see 'rpcssh call --help' to do it with your own host")
	return nil
}
