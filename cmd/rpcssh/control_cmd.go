package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/rpcssh/rpcssh/tunnel/control"
)

type controlCmd struct {
	Status controlStatusCmd `cmd:"" help:"List the live masters (background SSH connections shared by later calls)."`
	Stop   controlStopCmd   `cmd:"" help:"Stop the master for a destination; its open calls finish first."`
	Master controlMasterCmd `cmd:"" hidden:"" help:"Run as a master (started by call, jobs, bench and tunnel)."`
}

func (c *controlCmd) Help() string {
	return `The first call, jobs, bench or tunnel to a destination starts a
background master that holds the verified SSH connection; later ones to the
same destination, with the same trust settings, open a channel through it
instead of dialing (and read no key). It exits after --control-persist
(else ssh_config's ControlPersist, else 60s) without use, when its link
dies, or on 'rpcssh control stop'. --control-persist 0, -S none or
ControlPath none turn sharing off; ControlMaster no starts no master. An
OpenSSH master at -S PATH or at ssh_config's ControlPath is used first.`
}

type controlStatusCmd struct{}

func (c *controlStatusCmd) Run(ctx context.Context, e *env) error {
	dir := controlDir(e)
	sts, err := control.List(ctx, dir)
	if err != nil {
		return err
	}
	if len(sts) == 0 {
		e.infof("no masters in %s", dir)
		return nil
	}
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "PID\tDESTINATION\tUP\tSTREAMS\tOPENED\tPERSIST\tSOCKET")
	for _, st := range sts {
		persist := st.Idle.String()
		if st.Idle < 0 {
			persist = "until stopped"
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%d\t%d\t%s\t%s\n", st.PID, st.Identity, time.Since(st.Started).Round(time.Second),
			st.Streams, st.Opened, persist, st.Path)
	}
	return w.Flush()
}

type controlStopCmd struct {
	sshFlags
	Dest string `arg:"" placeholder:"DEST" help:"The destination, with the same SSH flags the calls used (they name the master)."`
}

func (c *controlStopCmd) Run(ctx context.Context, e *env) error {
	setup, err := resolveDeferringKeys(ctx, e, c.sshFlags, c.Dest)
	if err != nil {
		return err
	}
	defer setup.Close()
	path, _, err := controlSocket(e, setup.Config)
	if err != nil {
		return err
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err = control.Stop(sctx, path)
	var ue *control.UnavailableError
	if errors.As(err, &ue) {
		return withHint(fmt.Errorf("no master for %s", c.Dest), "'rpcssh control status' lists the live ones")
	}
	if err != nil {
		return err
	}
	e.infof("stopped the master for %s", c.Dest)
	return nil
}

type controlMasterCmd struct{}

func (c *controlMasterCmd) Run(ctx context.Context, e *env) error {
	return runMaster(ctx, e, os.NewFile(3, "ready"))
}
