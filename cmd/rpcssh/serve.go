package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/rpcssh/rpcssh/rpc"
	"github.com/rpcssh/rpcssh/rpc/program"
)

type serveCmd struct {
	Host        string `default:"127.0.0.1" help:"Address to listen on; loopback only unless --public."`
	Port        int    `default:"8000" help:"TCP port to listen on (0 picks a free one)."`
	Public      bool   `help:"Allow a non-loopback --host: the server is then reachable without SSH."`
	MaxBodySize int    `name:"max-body-mib" default:"64" placeholder:"MIB" help:"Largest request body accepted, in MiB."`
	Socket      string `type:"path" placeholder:"PATH" help:"Listen on this Unix socket instead of TCP (only users the file mode allows can connect)."`
	SocketMode  string `default:"0600" placeholder:"MODE" help:"Permissions of the --socket file, in octal."`
	TCP         bool   `name:"tcp" help:"With --socket, also listen on --host:--port."`
	Methods     string `type:"path" placeholder:"FILE" help:"Also serve the programs declared in this TOML methods file (see 'Your own programs as methods' in the README)."`
	StateDir    string `type:"path" placeholder:"DIR" help:"Where jobs of async methods keep their state and output (default: $XDG_STATE_HOME/rpcssh, else ~/.local/state/rpcssh)."`
	passwordFlags

	CancelJobsOnExit bool `help:"When serve stops, cancel queued jobs and stop running ones (default: they go on, and the next serve adopts them)."`
}

func (c *serveCmd) Help() string {
	return `Serves echo (uppercases its string, as the seed server did) and the system.*
introspection and multicall methods, with HTTP Basic auth, on 127.0.0.1:8000
by default. Reach it through SSH with 'rpcssh call' or 'rpcssh tunnel'.

Examples:
  RPCSSH_PASSWORD=s3cret rpcssh serve
  rpcssh serve --password-file ~/.config/rpcssh/password --port 8001
  rpcssh serve --socket /run/user/1000/rpcssh.sock      # most locked down
  rpcssh serve --methods ~/sim/methods.toml             # your programs as methods, plus jobs.*`
}

// isLoopback reports whether host names only loopback addresses.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

func (c *serveCmd) Run(ctx context.Context, e *env) error {
	if c.Port < 0 || c.Port > 65535 {
		return usageErrorf("--port %d: not 0-65535", c.Port)
	}
	if c.MaxBodySize < 1 || c.MaxBodySize > 16384 {
		return usageErrorf("--max-body-mib %d: want 1 to 16384 (16 GiB)", c.MaxBodySize)
	}
	if !isLoopback(c.Host) && !c.Public {
		return withHint(usageErrorf("refusing to listen on %q: not a loopback address", c.Host),
			"the server is meant to be reached through SSH on 127.0.0.1; add --public if it must be reachable from the network")
	}
	password, err := c.password(e)
	if err != nil {
		return err
	}
	if password == "" {
		return withHint(errors.New("no password set for the XML-RPC server"),
			"export RPCSSH_PASSWORD=... (or use --password-file FILE) before 'rpcssh serve'")
	}
	srv := rpc.NewServer(rpc.ServerConfig{
		Username: c.Username,
		Password: password,
		Limits:   rpc.Limits{MaxBodyBytes: int64(c.MaxBodySize) << 20},
		Logger:   slog.New(slog.NewTextHandler(e.stderr, nil)),
	})
	if err := registerBuiltins(srv); err != nil {
		return err
	}
	if c.Methods != "" {
		host, err := c.programs(e, srv)
		if err != nil {
			return err
		}
		defer host.Close() // after Serve: calls in flight have finished
	}
	listeners, err := c.listen(e)
	if err != nil {
		return err
	}
	errs := make(chan error, len(listeners))
	for _, l := range listeners {
		go func() { errs <- srv.Serve(ctx, l) }()
	}
	var first error
	for range listeners {
		if err := <-errs; err != nil && first == nil {
			first = fmt.Errorf("serve: %w", err)
		}
	}
	if first != nil {
		return first
	}
	e.infof("stopped")
	return nil
}

// programs loads --methods and registers its methods and jobs.*.
func (c *serveCmd) programs(e *env, srv *rpc.Server) (*program.Host, error) {
	f, err := program.Load(c.Methods)
	if err != nil {
		return nil, withHint(err, "fix the methods file; 'go doc github.com/rpcssh/rpcssh/rpc/program' describes its format")
	}
	dir := c.StateDir
	if dir == "" {
		if dir, err = defaultStateDir(e); err != nil {
			return nil, err
		}
	}
	runner, err := runnerCommand()
	if err != nil {
		return nil, err
	}
	host, err := program.New(f, program.Config{StateDir: dir, Logger: slog.New(slog.NewTextHandler(e.stderr, nil)), RunnerCommand: runner, CancelJobsOnClose: c.CancelJobsOnExit})
	if err != nil {
		return nil, err
	}
	if err := host.Register(srv); err != nil {
		host.Close()
		return nil, err
	}
	e.infof("serving %d methods from %s; jobs in %s", len(f.Methods), c.Methods, dir)
	return host, nil
}

// defaultStateDir is $XDG_STATE_HOME/rpcssh, else ~/.local/state/rpcssh.
func defaultStateDir(e *env) (string, error) {
	if x := e.getenv("XDG_STATE_HOME"); filepath.IsAbs(x) {
		return filepath.Join(x, "rpcssh"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", withHint(fmt.Errorf("no state directory: %w", err), "give one with --state-dir DIR")
	}
	return filepath.Join(home, ".local", "state", "rpcssh"), nil
}

// listen opens the Unix socket and/or the TCP port, printing one ready
// line per address.
func (c *serveCmd) listen(e *env) ([]net.Listener, error) {
	var ls []net.Listener
	closeAll := func() {
		for _, l := range ls {
			l.Close()
		}
	}
	if c.Socket != "" {
		mode, err := parseSocketMode(c.SocketMode)
		if err != nil {
			return nil, err
		}
		l, err := listenUnix(c.Socket, mode)
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		e.infof("serving XML-RPC on unix://%s (mode %04o, user %q); Ctrl-C to stop", c.Socket, mode, c.Username)
	}
	if c.Socket == "" || c.TCP {
		l, err := net.Listen("tcp", net.JoinHostPort(strings.Trim(c.Host, "[]"), strconv.Itoa(c.Port)))
		if err != nil {
			closeAll()
			if strings.Contains(err.Error(), "address already in use") {
				return nil, withHint(fmt.Errorf("listen: %w", err), "another process uses port %d: stop it or pick another --port", c.Port)
			}
			return nil, fmt.Errorf("listen: %w", err)
		}
		ls = append(ls, l)
		if c.Public {
			e.warnf("listening on %s without SSH in front: Basic auth is sent in clear text over the network", l.Addr())
		}
		e.infof("serving XML-RPC on http://%s/RPC2 (user %q); Ctrl-C to stop", l.Addr(), c.Username)
	}
	return ls, nil
}

// registerBuiltins adds the seed's echo: its string, uppercased.
func registerBuiltins(srv *rpc.Server) error {
	return srv.RegisterMethod(rpc.Method{
		Name:       "echo",
		Help:       "echo(msg) returns msg in upper case, as the seed server's echo did.",
		Signatures: [][]string{{"string", "string"}},
		Func:       strings.ToUpper,
	})
}
