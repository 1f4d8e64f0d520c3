package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/rpcssh/rpcssh/tunnel"
	"github.com/rpcssh/rpcssh/tunnel/install"
)

type installCmd struct {
	sshFlags
	Dest      string        `arg:"" placeholder:"DEST" help:"SSH destination: host, user@host, host:port or a ~/.ssh/config alias."`
	Binary    string        `type:"existingfile" placeholder:"FILE" help:"The rpcssh binary to install, built for the host (default: this one, when the host's OS and architecture match)."`
	Methods   string        `type:"existingfile" placeholder:"FILE" help:"A methods file to install (checked first, as serve checks it); default: keep the one installed before."`
	Port      int           `default:"8000" help:"serve's TCP port on the host's loopback (as 'rpcssh serve --port' and 'rpcssh call --port')."`
	System    bool          `help:"Run serve under a system unit (needs sudo without a password on the host) instead of a user unit."`
	Detached  bool          `help:"Run serve detached (setsid, pid file) even where a systemd user manager exists; it will not survive a reboot."`
	DryRun    bool          `name:"dry-run" help:"Print the plan (every command it would run on the host) and change nothing."`
	Uninstall bool          `help:"Stop serve and remove everything install created (on the host and the stored password here)."`
	Purge     bool          `help:"With --uninstall, also remove the job state (~/.local/state/rpcssh)."`
	Timeout   time.Duration `default:"5m" help:"Bound on the whole install (0: none)."`
}

func (c *installCmd) Help() string {
	return `Puts rpcssh serve on a host that has nothing but sshd, over one SSH
connection, and keeps it running:

  1. probe     uname -s -m, HOME, systemctl --user, lingering, sudo, the install there
  2. binary    this rpcssh if it suits the host, else --binary FILE (never downloaded)
  3. upload    cat over the SSH channel into ~/.local/lib/rpcssh/VERSION/, SHA-256
               checked on the host before chmod and rename; ~/.local/bin/rpcssh links it.
               The same version again copies nothing.
  4. secret    ~/.config/rpcssh/password (0600) from the host's /dev/urandom, never in
               argv; stored here under $XDG_CONFIG_HOME/rpcssh/credentials/ (0600)
  5. methods   --methods FILE, checked before anything is restarted
  6. service   a systemd user unit (lingering enabled if allowed), --system for a system
               unit, or detached (setsid, pid file, log) where there is no systemd
  7. check     the new serve must answer rpcssh.version, else the previous version is
               put back; then older versions are removed

Afterwards 'rpcssh call --host DEST echo hi' needs no password: the stored one
comes last, after --password-file/--password and RPCSSH_PASSWORD.

Examples:
  rpcssh install ubuntu@ec2-ip
  rpcssh install --dry-run lab                      # the plan, nothing changed
  rpcssh install --binary rpcssh-linux-arm64 pi     # another architecture
  rpcssh install --methods sim.toml lab
  rpcssh install --uninstall lab                    # --purge also removes job state`
}

func (c *installCmd) Run(ctx context.Context, e *env) error {
	switch {
	case len(c.Host) > 0:
		return usageErrorf("give the destination as DEST, not --host")
	case c.Purge && !c.Uninstall:
		return usageErrorf("--purge goes with --uninstall")
	case c.Uninstall && (c.Binary != "" || c.Methods != "" || c.System || c.Detached):
		return usageErrorf("--uninstall takes no --binary, --methods, --system or --detached")
	case c.System && c.Detached:
		return usageErrorf("give one of --system and --detached")
	case c.Port < 1 || c.Port > 65535:
		return usageErrorf("--port %d: not 1-65535", c.Port)
	case c.Timeout < 0:
		return usageErrorf("--timeout must not be negative")
	}
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	started := time.Now()
	client, cfg, done, err := dialDestination(ctx, e, c.sshFlags, c.Dest)
	if err != nil {
		return err
	}
	defer done()
	creds, err := credentials(e)
	if err != nil {
		return err
	}
	key := credentialKey(cfg)
	if c.Uninstall {
		_, err := install.Uninstall(ctx, client, install.UninstallOptions{Purge: c.Purge, DryRun: c.DryRun, Progress: c.progress(e)})
		if err != nil || c.DryRun {
			return installError(err)
		}
		if err := creds.Delete(key); err != nil {
			return err
		}
		e.infof("uninstalled from %s in %s", c.Dest, time.Since(started).Round(time.Millisecond))
		return nil
	}
	self, err := os.Executable()
	if err != nil && c.Binary == "" {
		return fmt.Errorf("cannot find this rpcssh's own file: %w; give --binary FILE", err)
	}
	mode := install.ModeAuto
	switch {
	case c.System:
		mode = install.ModeSystem
	case c.Detached:
		mode = install.ModeDetached
	}
	res, err := install.Install(ctx, client, install.Options{
		Binary:   c.Binary,
		Self:     self,
		Methods:  c.Methods,
		Port:     c.Port,
		Mode:     mode,
		DryRun:   c.DryRun,
		Progress: c.progress(e),
	})
	for _, n := range res.Notes {
		e.warnf("%s", n)
	}
	if err != nil {
		return installError(err)
	}
	if c.DryRun {
		return nil
	}
	if err := creds.Save(key, res.Password); err != nil {
		return err
	}
	copied := "copied"
	if !res.Copied {
		copied = "nothing copied"
	}
	e.infof("installed rpcssh %s on %s (%s, serve pid %d, %s) in %s", res.Binary.Version, c.Dest, res.Mode, res.Server.PID, copied, time.Since(started).Round(time.Millisecond))
	port := ""
	if c.Port != install.DefaultPort {
		port = fmt.Sprintf(" --port %d", c.Port)
	}
	e.infof("password stored in %s; try: rpcssh call --host %s%s echo hi", creds.Path(key), c.Dest, port)
	return nil
}

// progress prints one line per step on stderr; with --dry-run, the plan
// (each step and the commands it would run) on stdout.
func (c *installCmd) progress(e *env) func(install.Step) {
	return func(s install.Step) {
		if !c.DryRun {
			e.infof("%s: %s", s.Name, s.Detail)
			return
		}
		fmt.Fprintf(e.stdout, "%s: %s\n", s.Name, s.Detail)
		for _, line := range strings.Split(strings.TrimRight(s.Script, "\n"), "\n") {
			if line != "" {
				fmt.Fprintf(e.stdout, "    %s\n", line)
			}
		}
	}
}

// installError adds what the user can do about an install's error.
func installError(err error) error {
	var need *install.NeedBinaryError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &need) && need.GOOS != "":
		return withHint(err, "then: rpcssh install --binary rpcssh-%s-%s DEST", need.GOOS, need.GOARCH)
	case strings.Contains(err.Error(), "address already in use"):
		return withHint(err, "another program (an older serve, perhaps the README's old rpcssh.service?) holds that port on the host: stop it, or install with another --port")
	case errors.Is(err, install.ErrChecksum):
		return withHint(err, "the copy was damaged on the way; the version installed before is untouched: run the install again")
	}
	return err
}

// dialDestination resolves dest the way call does (flags, ssh_config,
// defaults) and connects. done closes the connection and the resolver.
func dialDestination(ctx context.Context, e *env, f sshFlags, dest string) (*tunnel.Client, tunnel.Config, func(), error) {
	setup, err := f.resolveHost(ctx, e, dest)
	if err != nil {
		return nil, tunnel.Config{}, nil, err
	}
	client, err := setup.Dial(ctx)
	if err != nil {
		closeQuietly(setup)
		return nil, tunnel.Config{}, nil, err
	}
	return client, setup.Config, func() { client.Close(); closeQuietly(setup) }, nil
}
