package install

import (
	"context"
	"fmt"
	"strings"
)

// Status is how serve runs on a host.
type Status struct {
	Host    Host
	Running bool   // the service manager (or pid file) says serve runs
	How     string // one line: "systemd user unit rpcssh.service (active)", "detached, pid 1234", ...
	Server  ServerInfo
	Jobs    int   // jobs running
	Err     error // why the server did not answer rpcssh.version, nil when it did
}

// GetStatus probes the host, asks its service manager about serve and,
// with the password, asks serve itself (rpcssh.version, jobs.list).
// Errors: *StepError from the probe; a server that does not answer is
// Status.Err, not an error.
func GetStatus(ctx context.Context, c Conn, password string) (Status, error) {
	h, err := Probe(ctx, c)
	if err != nil {
		return Status{}, err
	}
	st := Status{Host: h}
	l := h.Layout
	rec := h.Installed
	var script string
	switch rec.Mode {
	case ModeUser:
		script = fmt.Sprintf("systemctl --user is-active %s 2>&1 || true\n", UserUnitName)
	case ModeSystem:
		script = fmt.Sprintf("systemctl is-active %s 2>&1 || true\n", l.SystemUnitName())
	default:
		script = stopDetachedFunc(l) + fmt.Sprintf("pid=$(cat %s 2>/dev/null || true)\nif [ -n \"$pid\" ] && alive \"$pid\"; then echo \"active $pid\"; else echo inactive; fi\n", quote(l.PidFile()))
	}
	out, err := runScript(ctx, c, "status", script)
	if err != nil {
		return st, err
	}
	out = strings.TrimSpace(out)
	st.Running = strings.HasPrefix(out, "active")
	switch rec.Mode {
	case ModeUser:
		st.How = fmt.Sprintf("systemd user unit %s (%s)", UserUnitName, out)
	case ModeSystem:
		st.How = fmt.Sprintf("systemd system unit %s (%s)", l.SystemUnitName(), out)
	case ModeDetached:
		st.How = "detached (" + out + ", pid file " + l.PidFile() + ")"
	default:
		st.How = "not installed by rpcssh install"
	}
	port := rec.Port
	if port == 0 {
		port = DefaultPort
	}
	if st.Server, st.Err = QueryServer(ctx, c, port, password); st.Err == nil {
		st.Jobs, st.Err = RunningJobs(ctx, c, port, password)
	}
	return st, nil
}
