package main

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/alecthomas/kong"

	"github.com/rpcssh/rpcssh/rpc/program"
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

Exit codes: 0 success, 1 error, 2 a fault from the server, 80 usage,
130 interrupted (Ctrl-C; 143 SIGTERM); 'call' of a program method
(serve --methods): the program's own exit code.`

// CLI is the command line; each command is its own type in its own file,
// and the commands a run builds are its plugins (see commandsFor).
type CLI struct {
	VersionFlag kong.VersionFlag `name:"version" help:"Print the version and exit."`

	kong.Plugins

	shareFlags
}

// One struct per command, so that kong builds only the commands it is
// given: building the model of every command took a third of each
// process's start (17 of 47 ms for 'rpcssh version'), and a warm call
// through a shared connection is little more than that start.
type (
	serveCommand struct {
		Serve serveCmd `cmd:"" help:"Run the XML-RPC server on this machine, bound to loopback."`
	}
	callCommand struct {
		Call callCmd `cmd:"" help:"Make one XML-RPC call through SSH (or --url direct)."`
	}
	tunnelCommand struct {
		Tunnel tunnelCmd `cmd:"" help:"Keep a local port forwarded to the remote server, for any XML-RPC client."`
	}
	benchCommand struct {
		Bench benchCmd `cmd:"" help:"Measure calls/s and latency of one method over one SSH connection (or --url direct)."`
	}
	jobsCommand struct {
		Jobs jobsCmd `cmd:"" help:"Follow, list, inspect or cancel the jobs of async methods (serve --methods)."`
	}
	demoCommand struct {
		Demo demoCmd `cmd:"" help:"Show the whole path on this machine: SSH server, serve, and a call through the tunnel."`
	}
	installCommand struct {
		Install installCmd `cmd:"" help:"Put rpcssh serve on a host over SSH and keep it running (or --uninstall)."`
	}
	statusCommand struct {
		Status statusCmd `cmd:"" help:"Show the client's and the host's versions, how serve runs there, its uptime and jobs."`
	}
	versionCommand struct {
		Version versionCmd `cmd:"" help:"Print the version."`
	}
	jobRunnerCommand struct {
		JobRunner jobRunnerCmd `cmd:"" name:"__job-runner" hidden:"" help:"Supervise one job (started by serve)."`
	}
	controlCommand struct {
		Control controlCmd `cmd:"" help:"List or stop the background masters that share SSH connections."`
	}
)

// commandsFor returns the command that args start with, or every command
// (in the order --help lists them) when args start with none: a flag,
// a typo, nothing.
func commandsFor(args []string) kong.Plugins {
	all := []struct {
		name string
		cmd  any
	}{
		{"serve", &serveCommand{}},
		{"call", &callCommand{}},
		{"tunnel", &tunnelCommand{}},
		{"bench", &benchCommand{}},
		{"jobs", &jobsCommand{}},
		{"demo", &demoCommand{}},
		{"install", &installCommand{}},
		{"status", &statusCommand{}},
		{"version", &versionCommand{}},
		{program.RunnerArg, &jobRunnerCommand{}},
		{"control", &controlCommand{}},
	}
	var plugins kong.Plugins
	for _, c := range all {
		if len(args) > 0 && args[0] == c.name {
			return kong.Plugins{c.cmd}
		}
		plugins = append(plugins, c.cmd)
	}
	return plugins
}

func version() string {
	if releaseVersion != "" {
		return releaseVersion
	}
	info, ok := debug.ReadBuildInfo()
	if !ok || info.Main.Version == "" {
		return "(devel)"
	}
	return info.Main.Version
}

// exitRequest is how kong's --help and --version end run: kong calls its
// Exit function, which must not end the process (run is also called in
// tests), so it unwinds to run's recover with the code.
type exitRequest int

// run parses args, runs the chosen command and returns the exit code. A
// panic anywhere below it becomes one "internal error" line and exit 1,
// never a stack trace.
func run(ctx context.Context, args []string, e *env) (code int) {
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		if req, ok := r.(exitRequest); ok {
			code = int(req)
			return
		}
		e.errorLine("internal error: %v", r)
		e.hintf("this is a bug in rpcssh %s; please report it with the command that caused it", version())
		code = exitError
	}()
	return runCLI(ctx, args, e)
}

func runCLI(ctx context.Context, args []string, e *env) int {
	if _, ok := e.stderr.(*lockedWriter); !ok {
		e.stderr = &lockedWriter{w: e.stderr}
	}
	ctx = watchVersions(ctx, e)
	cli := CLI{Plugins: commandsFor(args)}
	k, err := kong.New(&cli,
		kong.Name("rpcssh"),
		kong.Description(description),
		kong.Writers(e.stdout, e.stderr),
		kong.Exit(func(code int) { panic(exitRequest(code)) }),
		kong.Vars{"version": "rpcssh " + version()},
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
		kong.ValueFormatter(helpWithDefault),
		kong.Bind(e),
		kong.BindTo(ctx, (*context.Context)(nil)),
	)
	if err != nil {
		e.errorLine("%v", err)
		return exitError
	}
	if len(args) == 0 {
		args = []string{"--help"} // rpcssh alone: the help, exit 0
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
	err = kctx.Run()
	if ie, ok := interrupted(ctx); ok && err != nil {
		// Ctrl-C or SIGTERM cancelled the command (serve and tunnel stop
		// cleanly instead: nil, exit 0). The cancelled call's own error
		// is noise, except a fan-out's summary.
		var fe *fleetError
		if errors.As(err, &fe) {
			report(e, err)
		} else {
			e.errorLine("%v", ie)
		}
		return ie.ExitCode()
	}
	if err != nil {
		return report(e, err)
	}
	return exitOK
}

// helpWithDefault is kong's help text of a flag plus its default when the
// flag's placeholder hides it (-n=N shows no 1000), so --help shows every
// default.
func helpWithDefault(v *kong.Value) string {
	help := kong.DefaultHelpValueFormatter(v)
	if !v.HasDefault || v.Default == "" || v.Tag == nil || v.Tag.PlaceHolder == "" || strings.Contains(help, "default") {
		return help
	}
	return fmt.Sprintf("%s (default: %s)", help, v.Default)
}
