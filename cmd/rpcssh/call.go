package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

type callCmd struct {
	sshFlags
	remoteFlags
	passwordFlags
	URL      string        `placeholder:"URL" help:"Call a server directly, without SSH: http://host:port/RPC2 or unix:///path/to.sock."`
	Timeout  time.Duration `default:"5m" help:"Bound on the whole call, SSH set-up included (0: none)."`
	Output   string        `enum:"text,json" default:"text" help:"text: a string result prints raw, anything else as indented JSON; json: always JSON."`
	Out      string        `type:"path" placeholder:"FILE" help:"Write the result to FILE instead (base64 results as raw bytes)."`
	ArgsJSON string        `name:"args-json" placeholder:"FILE|-" help:"Read the whole params array as JSON from FILE, or - for standard input."`

	Method string   `arg:"" help:"The remote method, e.g. echo or system.listMethods."`
	Args   []string `arg:"" optional:"" help:"Its arguments; see below. Put -- before arguments that start with a dash."`
}

func (c *callCmd) Help() string {
	return `Examples:
  rpcssh call --host ec2-ip --key ~/.ssh/id echo hi
  rpcssh call --host lab --port 8001 system.listMethods
  rpcssh call --url http://127.0.0.1:8000/RPC2 echo hi
  rpcssh call --host lab sim.run '{"steps":100}' -- -3

` + argsHelp + `

Exit codes: 0 success, 1 error, 2 a fault from the server, 80 usage.`
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
	params, err := c.params(e)
	if err != nil {
		return err
	}
	password, err := c.password(e)
	if err != nil {
		return err
	}
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}

	url, hc := c.URL, (*http.Client)(nil)
	switch {
	case c.URL != "" && len(c.Host) > 0:
		return usageErrorf("give --host (through SSH) or --url (direct), not both")
	case c.URL == "":
		link, err := dialSSH(ctx, e, c.sshFlags, c.remoteFlags)
		if err != nil {
			return err
		}
		defer link.Close()
		url, hc = link.url, link.http
	}
	client, err := newRPCClient(url, hc, c.Username, password)
	if err != nil {
		return err
	}
	var result any
	if err := client.Call(ctx, c.Method, params, &result); err != nil {
		if errors.Is(err, context.DeadlineExceeded) && c.Timeout > 0 {
			return withHint(err, "the call took longer than --timeout %s", c.Timeout)
		}
		return err
	}
	if c.Out != "" {
		return writeOut(c.Out, result)
	}
	return printResult(e.stdout, result, c.Output)
}
