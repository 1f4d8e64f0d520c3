package main

import (
	"context"
	"errors"
	"runtime/debug"

	"github.com/alecthomas/kong"
)

// Exit codes, documented in --help and the README.
const (
	exitOK    = 0
	exitError = 1
	exitFault = 2
	exitUsage = 80
)

const description = `Run procedures on a remote machine over XML-RPC inside an SSH tunnel.

  On the instance:  RPCSSH_PASSWORD=... rpcssh serve
  On the laptop:    rpcssh call --host ec2-ip --key ~/.ssh/id echo hi
  Without a host:   rpcssh demo

Exit codes: 0 success, 1 error, 2 a fault from the server, 80 usage.`

// CLI is the command line; each command is its own type in its own file.
type CLI struct {
	Serve   serveCmd   `cmd:"" help:"Run the XML-RPC server on this machine, bound to loopback."`
	Call    callCmd    `cmd:"" help:"Make one XML-RPC call through SSH (or --url direct)."`
	Tunnel  tunnelCmd  `cmd:"" help:"Keep a local port forwarded to the remote server, for any XML-RPC client."`
	Bench   benchCmd   `cmd:"" help:"Measure calls/s and latency of one method over one SSH connection (or --url direct)."`
	Jobs    jobsCmd    `cmd:"" help:"Follow, list, inspect or cancel the jobs of async methods (serve --methods)."`
	Demo    demoCmd    `cmd:"" help:"Show the whole path on this machine: SSH server, serve, and a call through the tunnel."`
	Version versionCmd `cmd:"" help:"Print the version."`
	Control controlCmd `cmd:"" help:"List or stop the background masters that share SSH connections."`

	shareFlags
}

func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok || info.Main.Version == "" {
		return "(devel)"
	}
	return info.Main.Version
}

// run parses args, runs the chosen command and returns the exit code.
func run(ctx context.Context, args []string, e *env) int {
	var cli CLI
	k, err := kong.New(&cli,
		kong.Name("rpcssh"),
		kong.Description(description),
		kong.Writers(e.stdout, e.stderr),
		kong.Vars{"version": version()},
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
		kong.Bind(e),
		kong.BindTo(ctx, (*context.Context)(nil)),
	)
	if err != nil {
		e.errorLine("%v", err)
		return exitError
	}
	kctx, err := k.Parse(args)
	if err != nil {
		e.errorLine("%v", err)
		var pe *kong.ParseError
		if errors.As(err, &pe) && pe.Context != nil && pe.Context.Selected() != nil {
			e.hintf("see 'rpcssh %s --help'", pe.Context.Selected().Name)
		} else {
			e.hintf("see 'rpcssh --help'")
		}
		return exitUsage
	}
	e.share = cli.shareFlags
	if err := kctx.Run(); err != nil {
		return report(e, err)
	}
	return exitOK
}
