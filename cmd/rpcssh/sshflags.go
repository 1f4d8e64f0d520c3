package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/rpcssh/rpcssh/tunnel"
)

// sshFlags are the SSH side of call, tunnel, bench and jobs: how to reach
// and trust the instance, named as OpenSSH users expect (ssh's own short
// flags included). Resolution itself is tunnel.Resolver's.
type sshFlags struct {
	Host                  []string      `short:"H" sep:"none" placeholder:"DEST" help:"SSH destination: host, user@host, host:port, [v6addr]:port or a ~/.ssh/config alias. Without --host, --hosts-file or --url the first argument is the destination, as with ssh."`
	User                  string        `short:"l" help:"SSH user (ssh -l; default: from DEST, ~/.ssh/config, else the local user)."`
	SSHPort               int           `short:"p" name:"ssh-port" placeholder:"PORT" help:"SSH port (ssh -p; default: from DEST, ~/.ssh/config, else 22)."`
	Key                   []string      `short:"i" type:"path" placeholder:"FILE" help:"Private key file (ssh -i), tried first; repeatable. FILE.pub works when the agent holds the key."`
	KnownHosts            []string      `type:"path" placeholder:"FILE" help:"known_hosts file; repeatable (default: UserKnownHostsFile, else ~/.ssh/known_hosts, and /etc/ssh/ssh_known_hosts)."`
	StrictHostKeyChecking string        `enum:",yes,accept-new,no,off,ask" default:"" help:"yes: only known hosts; accept-new (also no, off): trust and record a host seen for the first time (a changed key is always refused). Default: the config's StrictHostKeyChecking, else yes."`
	Jump                  []string      `short:"J" placeholder:"DEST" help:"Jump host(s) to go through (ssh -J); repeatable or a comma list."`
	ConnectTimeout        time.Duration `default:"15s" help:"Bound on TCP connect plus SSH handshake, per hop (the config's ConnectTimeout wins)."`
	Keepalive             time.Duration `default:"15s" help:"Interval of SSH keepalives; after 3 unanswered the link is declared dead (the config's ServerAliveInterval wins)."`
	SSHConfig             string        `short:"F" name:"ssh-config" placeholder:"FILE" help:"OpenSSH client config to read (ssh -F; default: ~/.ssh/config; none reads none)."`
	Option                []string      `short:"o" name:"option" placeholder:"KEY=VALUE" help:"An ssh_config option (ssh -o), applied before the config file; repeatable."`
	Verbose               int           `short:"v" type:"counter" help:"Say what SSH resolution and login try (ssh -v): config files, host, user, port, known_hosts files, keys; -vv adds timings."`
}

// destination is a parsed [user@]host[:port].
type destination struct{ user, host, port string }

// parseDestination reads the forms ssh accepts (see tunnel.ParseDestination).
func parseDestination(s string) (destination, error) {
	d, err := tunnel.ParseDestination(s)
	if err != nil {
		var de *tunnel.DestinationError
		if errors.As(err, &de) {
			return destination{}, fmt.Errorf("SSH destination %q: %s", de.Dest, de.Reason)
		}
		return destination{}, err
	}
	return destination{user: d.User, host: d.Host, port: d.Port}, nil
}

// takeDestination makes the first positional argument the destination, as
// ssh does, when no --host, --hosts-file or --url names one: `rpcssh call
// lab echo hi`. first and rest are the command's positional arguments.
func (f *sshFlags) takeDestination(first *string, rest *[]string, otherTarget bool) error {
	if len(f.Host) > 0 || otherTarget {
		return nil
	}
	if len(*rest) == 0 {
		return usageErrorf("missing destination: give it first (rpcssh call lab echo hi), or --host DEST, or --url for a direct call")
	}
	f.Host = []string{*first}
	*first, *rest = (*rest)[0], (*rest)[1:]
	return nil
}

// singleHost returns the one --host given; commands that reach one host
// refuse a list.
func (f sshFlags) singleHost() (string, error) {
	hosts := splitList(f.Host)
	switch len(hosts) {
	case 0:
		return "", usageErrorf("missing --host: the SSH destination to reach the server through (or --url to call it directly)")
	case 1:
		return hosts[0], nil
	}
	return "", usageErrorf("--host: this command reaches one host, got %d", len(hosts))
}

// resolveOptions turns the flags into tunnel.ResolveOptions; the passphrase
// comes from RPCSSH_PASSPHRASE or a prompt, -v lines go to stderr.
func (f sshFlags) resolveOptions(e *env) (tunnel.ResolveOptions, error) {
	if f.SSHPort < 0 || f.SSHPort > 65535 {
		return tunnel.ResolveOptions{}, usageErrorf("--ssh-port %d: not 0-65535", f.SSHPort)
	}
	if f.ConnectTimeout <= 0 {
		return tunnel.ResolveOptions{}, usageErrorf("--connect-timeout must be positive")
	}
	if f.Keepalive <= 0 {
		return tunnel.ResolveOptions{}, usageErrorf("--keepalive must be positive")
	}
	var verbose io.Writer
	if f.Verbose > 0 {
		verbose = e.stderr
	}
	return tunnel.ResolveOptions{
		User:                  f.User,
		Port:                  f.SSHPort,
		IdentityFiles:         f.Key,
		KnownHostsFiles:       f.KnownHosts,
		StrictHostKeyChecking: f.StrictHostKeyChecking,
		Jump:                  splitList(f.Jump),
		ConfigFile:            f.SSHConfig,
		Options:               f.Option,
		ConnectTimeout:        f.ConnectTimeout,
		KeepaliveInterval:     f.Keepalive,
		Getenv:                e.getenv,
		Passphrase: func(file string) ([]byte, error) {
			return askPassphrase(e, file)
		},
		Verbose:     verbose,
		Verbosity:   f.Verbose,
		ProxyStderr: e.stderr,
		HostKeyAdded: func(host, file string, key ssh.PublicKey) {
			fmt.Fprintf(e.stderr, "Warning: Permanently added '%s' (%s) to the list of known hosts (%s).\n", host, keyTypeName(key), file)
		},
	}, nil
}

// keyTypeName is how ssh names a key type in its messages (ED25519, RSA).
func keyTypeName(k ssh.PublicKey) string {
	t := strings.TrimPrefix(k.Type(), "ssh-")
	if strings.HasPrefix(t, "ecdsa") {
		return "ECDSA"
	}
	return strings.ToUpper(t)
}

// newResolver checks the flags that apply to every host and reads
// ssh_config. Close it when the configs are no longer in use.
func newResolver(e *env, f sshFlags) (*tunnel.Resolver, error) {
	opts, err := f.resolveOptions(e)
	if err != nil {
		return nil, err
	}
	opts.ShareKnownHosts = true // a fan-out dials each host once
	r, err := tunnel.NewResolver(opts)
	if err != nil {
		return nil, resolveError(err)
	}
	return r, nil
}

// resolveHost resolves one destination from the flags and ssh_config;
// close the result when done.
func (f sshFlags) resolveHost(ctx context.Context, e *env, dest string) (*tunnel.Resolved, error) {
	opts, err := f.resolveOptions(e)
	if err != nil {
		return nil, err
	}
	res, err := tunnel.Resolve(ctx, dest, opts)
	if err != nil {
		return nil, resolveError(err)
	}
	return res, nil
}

// resolveError words resolution errors for the command line: a bad
// destination or option is a usage error, and a missing key gets its hint.
func resolveError(err error) error {
	var de *tunnel.DestinationError
	var ce *tunnel.ConfigError
	var ue *tunnel.UnprotectedKeyError
	switch {
	case errors.As(err, &de):
		return usageErrorf("SSH destination %q: %s", de.Dest, de.Reason)
	case errors.As(err, &ce):
		return usageErrorf("%s", strings.TrimPrefix(ce.Error(), "tunnel: "))
	case errors.As(err, &ue):
		return withHint(err, "make it private with: chmod 600 %s", ue.File)
	case errors.Is(err, tunnel.ErrNoKey):
		return withHint(errors.New("no SSH key to log in with"),
			"give -i FILE, add an IdentityFile to ~/.ssh/config, or load a key into ssh-agent (ssh-add)")
	}
	return err
}

func closeQuietly(c io.Closer) {
	if c != nil {
		_ = c.Close()
	}
}

func splitList(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}
