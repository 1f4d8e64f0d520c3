package control_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"

	"github.com/rpcssh/rpcssh/tunnel"
	"github.com/rpcssh/rpcssh/tunnel/control"
)

// A master: become the one process serving cfg's connection to others,
// until it has been idle for a minute.
func ExampleServe() {
	ctx := context.Background()
	var cfg tunnel.Config // resolved: Addr, User, Auth, KnownHostsFiles
	id, err := control.IdentityOf(cfg)
	if err != nil {
		return // trust decided by a callback: do not share
	}
	dir := "/run/user/1000/myapp"
	if err := control.MakeDir(dir); err != nil {
		return
	}
	sock, err := control.Listen(ctx, control.SocketPath(dir, id))
	if errors.Is(err, control.ErrMasterRunning) {
		return // another process serves it: use control.Dial
	}
	if err != nil {
		return
	}
	c, err := tunnel.Dial(ctx, cfg)
	if err != nil {
		sock.Close()
		return
	}
	defer c.Close()
	err = control.Serve(ctx, sock, c, control.MasterConfig{Identity: id, Prefetch: true})
	fmt.Println(errors.Is(err, control.ErrIdle))
}

// A caller: a stream through the master if there is one, else dial.
func ExampleDial() {
	ctx := context.Background()
	var cfg tunnel.Config
	id, _ := control.IdentityOf(cfg)
	path := control.SocketPath(filepath.Join("/run/user/1000", "myapp"), id)

	conn, err := control.Dial(ctx, path, "tcp", "127.0.0.1:8000")
	var unavailable *control.UnavailableError
	if errors.As(err, &unavailable) {
		var c *tunnel.Client
		if c, err = tunnel.Dial(ctx, cfg); err == nil {
			defer c.Close()
			conn, err = c.DialContext(ctx, "tcp", "127.0.0.1:8000")
		}
	}
	if err != nil {
		return
	}
	defer conn.Close()
	var _ net.Conn = conn
}

// Through an OpenSSH master started with ssh -M -S ~/.ssh/cm-lab -fN lab.
func ExampleDialOpenSSH() {
	conn, err := control.DialOpenSSH(context.Background(), "/home/me/.ssh/cm-lab", "tcp", "127.0.0.1:8000")
	if err != nil {
		return
	}
	defer conn.Close()
}
