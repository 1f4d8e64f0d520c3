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
	URL      string        `placeholder:"URL" help:"Call a server directly, without SSH: http://host:port/RPC2 or unix:///path/to.sock."`
	Timeout  time.Duration `default:"5m" help:"Bound on the whole call, SSH set-up included (0: none); with many hosts, on each host's."`
	Output   string        `enum:"text,json" default:"text" help:"text: a string result prints raw, anything else as indented JSON; json: always JSON. Many hosts: one line each (see below)."`
	Out      string        `type:"path" placeholder:"FILE" help:"Write the result to FILE instead (base64 results as raw bytes); one host only."`
	ArgsJSON string        `name:"args-json" placeholder:"FILE|-" help:"Read the whole params array as JSON from FILE, or - for standard input."`

	HostsFile string `name:"hosts-file" placeholder:"FILE|-" help:"Call every SSH destination listed in FILE (- for standard input): one a line, # comments, ranges as in --host; adds to --host."`
	Parallel  int    `default:"32" help:"With many hosts: how many to call at once."`
	fleetFlags
	targets map[string]inventory.Target // inventory hosts, by name (fleet_inventory.go)

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

Exit codes: 0 success, 1 error, 2 a fault from the server, 80 usage.

With many hosts: 0 only if every host succeeded; 1 if any failed (or was not
reached before Ctrl-C); else 2 if any returned a fault; 80 usage.`
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
	if !validMethodName(c.Method) {
		return usageErrorf("method name %q: use only letters, digits and _ . : /", c.Method)
	}
	if c.Timeout < 0 {
		return usageErrorf("--timeout must not be negative")
	}
	hosts, fleet, err := c.hosts(ctx, e)
	if err != nil {
		return err
	}
	params, err := c.params(e)
	if err != nil {
		return err
	}
	password, err := c.password(e)
	if err != nil {
		return err
	}
	if fleet {
		return c.runFleet(ctx, e, hosts, params, password)
	}
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}

	client, link, err := connectRPC(ctx, e, c.sshFlags, c.remoteFlags, c.URL, c.Username, password)
	if err != nil {
		return err
	}
	if link != nil {
		defer link.Close()
	}
	var result any
	if err := client.Call(ctx, c.Method, params, &result); err != nil {
		if errors.Is(err, context.DeadlineExceeded) && c.Timeout > 0 {
			return withHint(err, "the call took longer than --timeout %s", c.Timeout)
		}
		if link != nil {
			err = link.explain(err)
		}
		return err
	}
	if c.Out != "" {
		return writeOut(c.Out, result)
	}
	return printResult(e.stdout, result, c.Output)
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

// runFleet resolves every host first (local files only: ssh_config, keys,
// known_hosts; a problem there stops the run before any connection), then
// calls them all through fanout.
func (c *callCmd) runFleet(ctx context.Context, e *env, hosts []string, params []any, password string) error {
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
	cfgs := make(map[string]tunnel.Config, len(hosts))
	for _, h := range hosts {
		cfg, err := c.resolveFleetHost(res, h)
		if err != nil {
			return fmt.Errorf("host %s: %w", h, err)
		}
		cfgs[h] = cfg
	}
	if err := shareKnownHosts(cfgs); err != nil {
		return err
	}
	f := fanout{
		parallel: c.Parallel,
		timeout:  c.Timeout,
		maxFail:  maxFail,
		batch:    batch,
		out:      &fleetOutput{group: c.Group, dir: c.OutputDir},
		do: func(ctx context.Context, host string) (any, error) {
			link, err := dialConfig(ctx, cfgs[host], c.ConnectTimeout, c.remoteFlags)
			if err != nil {
				if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
					err = fmt.Errorf("--connect-timeout %s: %w", c.ConnectTimeout, err)
				}
				return nil, err
			}
			defer link.Close()
			client, err := newRPCClient(link.url, link.http, c.Username, password)
			if err != nil {
				return nil, err
			}
			var result any
			err = client.Call(ctx, c.Method, params, &result)
			return result, link.explain(err)
		},
	}
	return runFleet(ctx, e, hosts, f, c.Output)
}
