package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/language"

	"github.com/rpcssh/rpcssh/rpc"
	"github.com/rpcssh/rpcssh/rpc/program"
)

type serveCmd struct {
	Host         string `default:"127.0.0.1" help:"Address to listen on; loopback only unless --public."`
	Port         int    `default:"8000" help:"TCP port to listen on (0 picks a free one)."`
	Public       bool   `help:"Allow a non-loopback --host: the server is then reachable without SSH."`
	MaxBodySize  int    `name:"max-body-mib" default:"64" placeholder:"MIB" help:"Largest request body accepted, in MiB (default: ${default})."`
	MaxMulticall int    `name:"max-multicall" default:"1000" placeholder:"N" help:"Most calls in one system.multicall (default: ${default}); its response is also cut at --max-body-mib."`
	Socket       string `type:"path" placeholder:"PATH" help:"Listen on this Unix socket instead of TCP (only users the file mode allows can connect)."`
	SocketMode   string `default:"0600" placeholder:"MODE" help:"Permissions of the --socket file, in octal (default: ${default})."`
	TCP          bool   `name:"tcp" help:"With --socket, also listen on --host:--port."`
	Methods      string `type:"path" placeholder:"FILE" help:"Also serve the programs declared in this TOML methods file (see 'Your own programs as methods' in the README)."`
	LogLevel     string `name:"log-level" enum:"debug,info,warn,error" default:"info" placeholder:"LEVEL" help:"Log calls at debug, faults at info, refused requests (bad password, too large) at warn; one logfmt line each, on stderr (default: ${default}; see 'serve's log' in the README)."`
	StateDir     string `type:"path" placeholder:"DIR" help:"Where jobs of async methods keep their state and output (default: $XDG_STATE_HOME/rpcssh, else ~/.local/state/rpcssh)."`
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
	// SIGHUP (the terminal closed, or a service manager's reload) stops
	// serve gracefully, as SIGTERM does, instead of killing it mid-call.
	ctx, stopHUP := signal.NotifyContext(ctx, syscall.SIGHUP)
	defer stopHUP()
	if c.Port < 0 || c.Port > 65535 {
		return usageErrorf("--port %d: not 0-65535", c.Port)
	}
	if c.MaxBodySize < 1 || c.MaxBodySize > 16384 {
		return usageErrorf("--max-body-mib %d: want 1 to 16384 (16 GiB)", c.MaxBodySize)
	}
	if c.MaxMulticall < 1 || c.MaxMulticall > 1<<20 {
		return usageErrorf("--max-multicall %d: want 1 to %d", c.MaxMulticall, 1<<20)
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
	// Before any program starts: no inherited descriptor, no password in
	// the environment, and (Linux) no /proc/PID/{environ,mem} for them.
	if err := program.GuardProcess("RPCSSH_PASSWORD"); err != nil {
		e.warnf("%v", err)
	}
	setMemoryLimit(e, int64(c.MaxBodySize)<<20)
	logger := serveLogger(e.stderr, c.LogLevel)
	srv := rpc.NewServer(rpc.ServerConfig{
		Username:          c.Username,
		Password:          password,
		Limits:            rpc.Limits{MaxBodyBytes: int64(c.MaxBodySize) << 20, MaxMulticallCalls: c.MaxMulticall},
		CollectAfterBytes: collectAfterBytes,
		Logger:            logger,
		Software:          serverSoftware(),
	})
	if err := registerBuiltins(srv); err != nil {
		return err
	}
	if err := registerVersionMethod(srv, c.Methods); err != nil {
		return err
	}
	if c.Methods != "" {
		host, err := c.programs(e, srv, logger)
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

// methodsFileHint points to where the methods file is described: the
// README, as a machine running serve has no Go source for 'go doc'.
const methodsFileHint = "fix the methods file; the README's section \"Your own programs as methods\" describes its format"

// programs loads --methods and registers its methods and jobs.*.
func (c *serveCmd) programs(e *env, srv *rpc.Server, logger *slog.Logger) (*program.Host, error) {
	f, err := program.Load(c.Methods)
	if err != nil {
		if _, ok := errors.AsType[*program.PermError](err); ok {
			return nil, err // it says what to chmod
		}
		return nil, withHint(err, methodsFileHint)
	}
	if err := f.CheckPrograms(); err != nil {
		return nil, withHint(err, methodsFileHint)
	}
	dir := c.StateDir
	if dir == "" {
		if dir, err = defaultStateDir(e); err != nil {
			return nil, err
		}
	}
	if err := program.CheckPath(dir); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	runner, err := runnerCommand()
	if err != nil {
		return nil, err
	}
	host, err := program.New(f, program.Config{StateDir: dir, Logger: logger, RunnerCommand: runner, CancelJobsOnClose: c.CancelJobsOnExit})
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
		Func:       upper,
	})
}

// upper maps s to upper case as Python's str.upper does: full Unicode case
// mapping, so "grüße" becomes "GRÜSSE" (strings.ToUpper maps rune by rune
// and keeps "ß"). A Caser holds state, so each call gets its own. ASCII
// text, where full case mapping is a to z becoming A to Z and nothing
// else, takes a fast path: the Caser runs at about 300 MB/s, which made
// it most of serve's CPU in a 64 MiB echo.
func upper(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return cases.Upper(language.Und).String(s)
		}
	}
	return upperASCII(s)
}

// upperASCII upper-cases ASCII s with one allocation of its size.
func upperASCII(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	var chunk [4096]byte
	for len(s) > 0 {
		n := copy(chunk[:], s)
		for i, c := range chunk[:n] {
			if 'a' <= c && c <= 'z' {
				chunk[i] = c - ('a' - 'A')
			}
		}
		b.Write(chunk[:n])
		s = s[n:]
	}
	return b.String()
}
