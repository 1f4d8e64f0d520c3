package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/rpcssh/rpcssh/tunnel"
	"github.com/rpcssh/rpcssh/tunnel/inventory"
)

type callCmd struct {
	sshFlags
	remoteFlags
	passwordFlags
	responseFlags
	URL      string        `placeholder:"URL" help:"Call a server directly, without SSH: http://host:port/RPC2 or unix:///path/to.sock."`
	Timeout  time.Duration `default:"5m" help:"Bound on the whole call, SSH set-up included (0: none); with many hosts, on each host's."`
	Output   string        `enum:"text,json" default:"text" help:"text: a string result prints raw, anything else as indented JSON; json: always JSON. Many hosts: one line each (see below)."`
	Out      string        `type:"path" placeholder:"FILE" help:"Write the result to FILE instead (base64 results as raw bytes); one host only."`
	ArgsJSON string        `name:"args-json" placeholder:"FILE|-" help:"Read the whole params array as JSON from FILE, or - for standard input."`

	HostsFile string `name:"hosts-file" placeholder:"FILE|-" help:"Call every SSH destination listed in FILE (- for standard input): one a line, # comments, ranges as in --host; adds to --host."`
	Parallel  int    `default:"32" help:"With many hosts: how many to call at once."`
	fleetFlags
	targets map[string]inventory.Target // inventory hosts, by name (fleet_inventory.go)

	Wait           bool   `help:"For an async method: follow the job's output to its end and exit with its exit code; reconnects when the link drops, and --timeout bounds each call instead of the whole."`
	IdempotencyKey string `placeholder:"KEY" help:"For an async method: a start with a KEY the server already holds returns that job's id instead of starting another (--wait sets a random one)."`

	Method string   `arg:"" help:"The remote method, e.g. echo or system.listMethods."`
	Args   []string `arg:"" optional:"" help:"Its arguments; see below. Put -- before arguments that start with a dash."`
}

func (c *callCmd) Help() string {
	return `Examples:
  rpcssh call --host ec2-ip --key ~/.ssh/id echo hi
  rpcssh call --host lab --port 8001 system.listMethods
  rpcssh call --url http://127.0.0.1:8000/RPC2 echo hi
  rpcssh call --host lab sim.run '{"steps":100}'
  rpcssh call --host lab add -- -3 4          # -- before a negative number
  rpcssh call --host web1,web2 --host db1 system.listMethods
  rpcssh call --hosts-file fleet.txt --parallel 64 --timeout 30s --output json health.check
  rpcssh call --host 'web[01:50].example.com' --group uptime
  rpcssh call --inventory hosts.ini --limit 'web:&prod' --batch 10% --max-fail 2 deploy.run

` + argsHelp + `

Many hosts: with more than one --host (repeated or a comma list) or a
--hosts-file, every host is called at once (at most --parallel), each over
its own SSH connection and within its own --timeout. One line per host is
printed as it finishes:
  text:  HOST: RESULT   (a string raw, anything else as one-line JSON)
         HOST: fault CODE: MESSAGE
         HOST: error: MESSAGE
  json:  {"host":"web1","ok":true,"result":"HI","duration_ms":41}
         {"host":"web2","ok":false,"fault":{"code":42,"message":"..."},"duration_ms":38}
         {"host":"web3","ok":false,"error":"...","hints":["..."],"duration_ms":15000}
--group holds the text lines back and prints each distinct one once, after
its hosts in range form (web[01-48,50]: HI); --output-dir DIR also writes
DIR/HOST.out, .err and .json. --batch and --max-fail pace a rollout: hosts
not started once --max-fail is reached print "HOST: error: skipped: ...";
then a summary on stderr, e.g. "rpcssh: 198 succeeded, 1 faulted, 1 failed
in 3.2s" (and a progress bar there when it is a terminal). Ctrl-C stops the
calls in flight and still prints the summary.

A program method of 'rpcssh serve --methods' prints its stdout and stderr
raw in text mode (--output json: the whole {exit_code, stdout, stderr, ...}).
With one host and --output json, a fault or an error also prints one JSON
object on stdout, shaped like a fan-out line (below).

Exit codes: 0 success, 1 error, 2 a fault from the server, 80 usage, 130
interrupted by Ctrl-C (143 SIGTERM); a program method that exited non-zero:
its exit code, as 'ssh host cmd'.

With many hosts: 0 only if every host succeeded; 1 if any failed (or was not
reached before Ctrl-C; a program's non-zero exit counts as failed); else 2
if any returned a fault; 80 usage.`
}

// validMethodName checks the spec's alphabet for method names.
func validMethodName(m string) bool {
	if m == "" {
		return false
	}
	for _, r := range m {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			r == '_' || r == '.' || r == ':' || r == '/'
		if !ok {
			return false
		}
	}
	return true
}

func (c *callCmd) params(e *env) ([]any, error) {
	if c.ArgsJSON == "" {
		return parseArgs(c.Args, readArgFile)
	}
	if len(c.Args) > 0 {
		return nil, usageErrorf("give arguments either on the command line or with --args-json, not both")
	}
	var data []byte
	var err error
	if c.ArgsJSON == "-" {
		data, err = io.ReadAll(io.LimitReader(e.stdin, maxArgFile))
	} else {
		data, err = readArgFile(c.ArgsJSON)
	}
	if err != nil {
		return nil, fmt.Errorf("--args-json: %w", err)
	}
	return parseArgsJSON(data)
}

func (c *callCmd) Run(ctx context.Context, e *env) error {
	if err := c.takeDestination(&c.Method, &c.Args, c.URL != "" || c.HostsFile != "" || c.Inventory != ""); err != nil {
		return err
	}
	if !validMethodName(c.Method) {
		return usageErrorf("method name %q: use only letters, digits and _ . : /", c.Method)
	}
	if c.Timeout < 0 {
		return usageErrorf("--timeout must not be negative")
	}
	if err := checkURLFlag(c.URL); err != nil {
		return err
	}
	if err := c.responseFlags.check(); err != nil {
		return err
	}
	hosts, fleet, err := c.hosts(ctx, e)
	if err != nil {
		return err
	}
	params, err := c.params(e)
	if err != nil {
		return err
	}
	if !fleet {
		if err := checkTarget(c.URL, c.sshFlags); err != nil {
			return err
		}
	}
	if w := dateWarning(params); w != "" {
		e.warnf("%s", w)
	}
	user, password, err := c.clientCredentials(e, c.URL)
	if err != nil {
		return err
	}
	if c.Wait || c.IdempotencyKey != "" {
		return c.runJob(ctx, e, fleet, params, user, password)
	}
	if fleet {
		return c.runFleet(ctx, e, hosts, params, user, password)
	}
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}

	start := time.Now()
	result, err := c.callOne(ctx, e, params, user, password)
	err = direct(c.URL, err)
	if err != nil {
		if c.Output == "json" {
			return c.printFailure(e, err, time.Since(start))
		}
		return err
	}
	prog, isProgram := asProgramResult(result)
	switch {
	case c.Out != "":
		err = writeOut(c.Out, result)
	case isProgram && c.Output == "text":
		err = prog.printRaw(e)
	default:
		err = printResult(e.stdout, result, c.Output)
	}
	if err != nil || !isProgram {
		return err
	}
	return prog.exitErr()
}

// hosts gathers the destinations of --host and --hosts-file; fleet says
// they are called as a fleet: more than one, or any from a file. With one
// --host and no file the single-host path (and its output) applies.
func (c *callCmd) hosts(ctx context.Context, e *env) (hosts []string, fleet bool, err error) {
	hosts, ranged, err := expandHosts(c.Host)
	if err != nil {
		return nil, false, err
	}
	if c.HostsFile == "" && len(hosts) <= 1 && !ranged && !c.fleetOnly() {
		return hosts, false, nil
	}
	switch {
	case c.URL != "":
		return nil, false, usageErrorf("give --host/--hosts-file (through SSH) or --url (direct), not both")
	case c.Out != "":
		return nil, false, usageErrorf("--out writes one result: it cannot take many hosts (use --output json and split the lines)")
	case c.Parallel < 1:
		return nil, false, usageErrorf("--parallel must be at least 1")
	case c.HostsFile == "-" && c.ArgsJSON == "-":
		return nil, false, usageErrorf("--hosts-file - and --args-json - cannot both read standard input")
	}
	if c.HostsFile != "" {
		listed, err := readHostsFile(c.HostsFile, e.stdin)
		if err != nil {
			return nil, false, err
		}
		if len(listed) == 0 {
			return nil, false, usageErrorf("--hosts-file %s: no destination in it", c.HostsFile)
		}
		if listed, err = expandListed(c.HostsFile, listed); err != nil {
			return nil, false, err
		}
		hosts = append(hosts, listed...)
	}
	invHosts, targets, err := c.inventoryHosts(ctx, e)
	if err != nil {
		return nil, false, err
	}
	hosts, c.targets = append(hosts, invHosts...), targets
	hosts, repeated := uniqueHosts(hosts)
	if len(repeated) > 0 {
		e.warnf("calling each host once; listed more than once: %s", strings.Join(repeated, ", "))
	}
	for _, h := range hosts {
		if _, err := parseDestination(h); err != nil {
			return nil, false, usageErrorf("%v", err)
		}
	}
	return hosts, true, nil
}

// runFleet reads ssh_config once, then calls every host through fanout;
// each host is resolved in its own turn, so a bad destination fails only
// that host.
func (c *callCmd) runFleet(ctx context.Context, e *env, hosts []string, params []any, user, password string) error {
	res, err := newResolver(e, c.sshFlags)
	if err != nil {
		return err
	}
	defer res.Close()
	if _, _, err := c.remoteTarget(); err != nil {
		return err
	}
	maxFail, batch, err := c.rollout(c.Output)
	if err != nil {
		return err
	}
	if err := prepareOutputDir(c.OutputDir); err != nil {
		return err
	}
	f := fanout{
		parallel: c.Parallel,
		timeout:  c.Timeout,
		maxFail:  maxFail,
		batch:    batch,
		out:      &fleetOutput{group: c.Group, dir: c.OutputDir},
		do: func(ctx context.Context, host string) (any, error) {
			password := password
			link, err := dialFleetHost(ctx, func(ctx context.Context) (*tunnel.Resolved, error) {
				r, err := c.resolveFleetHost(ctx, res, host)
				if err != nil {
					return nil, err
				}
				if password, err = hostPassword(e, password, r); err != nil {
					r.Close()
					return nil, err
				}
				return r, nil
			}, c.remoteFlags)
			if err != nil {
				return nil, err
			}
			defer link.Close()
			client, err := newRPCClient(link.url, link.http, user, password, c.limits())
			if err != nil {
				return nil, err
			}
			var result any
			if err := client.Call(ctx, c.Method, params, &result); err != nil {
				return nil, link.explain(err)
			}
			if prog, ok := asProgramResult(result); ok {
				return result, prog.exitErr() // a non-zero exit: failed
			}
			return result, nil
		},
	}
	return runFleet(ctx, e, hosts, f, c.Output)
}

// callOne connects to the single host (or --url) and makes the call.
func (c *callCmd) callOne(ctx context.Context, e *env, params []any, user, password string) (any, error) {
	client, link, err := connectRPC(ctx, e, c.sshFlags, c.remoteFlags, c.URL, user, password, c.limits())
	if err != nil {
		return nil, err
	}
	if link != nil {
		defer link.Close()
	}
	var result any
	if err := client.Call(ctx, c.Method, params, &result); err != nil {
		if errors.Is(err, context.DeadlineExceeded) && c.Timeout > 0 {
			return nil, withHint(err, "the call took longer than --timeout %s", c.Timeout)
		}
		err = explain404(ctx, client, c.Method, err)
		if link != nil {
			err = link.explain(err)
		}
		return nil, err
	}
	return result, nil
}

// printFailure prints a failed single-host call in --output json: one
// object on stdout shaped like a fan-out line ("ok":false with "fault" or
// "error" and "hints"), and returns err for stderr and the exit code.
// A usage error prints nothing on stdout: no call was made.
func (c *callCmd) printFailure(e *env, err error, elapsed time.Duration) error {
	var usage *usageError
	var arg *argError
	if errors.As(err, &usage) || errors.As(err, &arg) {
		return err
	}
	host := redactedURL(c.URL)
	if host == "" {
		host = strings.Join(c.Host, ",")
	}
	line, ferr := formatHostLine(hostResult{host: host, err: err, elapsed: elapsed}, "json")
	if ferr == nil {
		if _, werr := io.WriteString(e.stdout, line); werr != nil {
			return fmt.Errorf("write output: %w (after: %w)", werr, err)
		}
	}
	return err
}
