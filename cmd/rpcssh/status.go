package main

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/rpcssh/rpcssh/tunnel/install"
)

type statusCmd struct {
	sshFlags
	passwordFlags
	Dest    string        `arg:"" placeholder:"DEST" help:"SSH destination, as for install."`
	Timeout time.Duration `default:"1m" help:"Bound on the whole command (0: none)."`
}

func (c *statusCmd) Help() string {
	return `Prints this rpcssh's version and the host's: how serve runs there (systemd
user or system unit, detached), since when, its methods file and how many
jobs run. The password is found as for call (the one 'rpcssh install' stored,
last).

Example:
  rpcssh status ubuntu@ec2-ip`
}

func (c *statusCmd) Run(ctx context.Context, e *env) error {
	if len(c.Host) > 0 {
		return usageErrorf("give the destination as DEST, not --host")
	}
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	password, err := c.password(e)
	if err != nil {
		return err
	}
	client, cfg, done, err := dialDestination(ctx, e, c.sshFlags, c.Dest)
	if err != nil {
		return err
	}
	defer done()
	if password == "" {
		if password, err = storedPassword(e, cfg); err != nil {
			return err
		}
	}
	st, err := install.GetStatus(ctx, client, password)
	if err != nil {
		return err
	}
	w := e.stdout
	fmt.Fprintf(w, "client:  rpcssh %s %s/%s %s\n", version(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	if st.Host.Installed.ID != "" {
		fmt.Fprintf(w, "host:    %s %s, installed %s (%s)\n", st.Host.OS, st.Host.Arch, st.Host.Installed.Version, st.Host.Installed.ID)
	} else {
		fmt.Fprintf(w, "host:    %s %s, nothing installed by rpcssh install\n", st.Host.OS, st.Host.Arch)
	}
	fmt.Fprintf(w, "runs:    %s\n", st.How)
	if st.Err != nil {
		fmt.Fprintf(w, "server:  no answer\n")
		if st.Host.Installed.ID != "" && !st.Running {
			return withHint(st.Err, "serve is not running: 'rpcssh install %s' starts it again", c.Dest)
		}
		return st.Err
	}
	s := st.Server
	fmt.Fprintf(w, "server:  rpcssh %s %s/%s %s, pid %d, up %s (since %s)\n", s.Version, s.OS, s.Arch, s.GoVersion, s.PID,
		(time.Duration(s.UptimeS) * time.Second).String(), s.Started.Format(time.RFC3339))
	methods := s.MethodsFile
	if methods == "" {
		methods = "none"
	}
	fmt.Fprintf(w, "methods: %s\n", methods)
	fmt.Fprintf(w, "jobs:    %d running\n", st.Jobs)
	if s.Version != version() {
		e.warnf("the server runs rpcssh %s and this is %s: run 'rpcssh install %s' to bring it to this version", s.Version, version(), c.Dest)
	}
	return nil
}
