package install

import (
	"context"
	"fmt"
	"strings"
)

// UninstallOptions configures Uninstall.
type UninstallOptions struct {
	// Purge also removes the job state (~/.local/state/rpcssh).
	Purge bool
	// DryRun probes the host and returns the plan, changing nothing.
	DryRun bool
	// Progress, when not nil, is called once per step.
	Progress func(Step)
}

// Uninstall stops serve (whichever way an install runs it) and removes
// what Install created on the host: the unit, the binaries and their
// link, the password and methods file, the record, and the directories
// left empty. Job state stays unless opts.Purge. The laptop's stored
// credential is the caller's (see Credentials.Delete).
//
// Errors: *StepError; ctx's error.
func Uninstall(ctx context.Context, c Conn, opts UninstallOptions) (Result, error) {
	res := &Result{}
	in := &installer{c: c, opts: Options{DryRun: opts.DryRun, Progress: opts.Progress}, res: res}
	in.announce(Step{Name: "probe", Detail: "reading the host: HOME, the install there"})
	host, err := Probe(ctx, c)
	if err != nil {
		return *res, err
	}
	res.Host = host
	res.Mode = host.Installed.Mode
	l := host.Layout
	if _, err := in.step(ctx, Step{Name: "stop", Detail: "stopping serve and removing its unit, if any", Script: stopAllScript(l, host.Sudo)}); err != nil {
		return *res, err
	}
	detail := "removing " + l.LibDir() + ", " + l.Link() + ", " + l.PasswordFile() + ", " + l.MethodsFile()
	if opts.Purge {
		detail += ", " + l.StateDir()
	} else {
		detail += "; keeping the job state in " + l.StateDir()
	}
	_, err = in.step(ctx, Step{Name: "remove", Detail: detail, Script: removeScript(l, opts.Purge)})
	return *res, err
}

// stopAllScript stops serve in every mode an install may have used: the
// record may be missing after an interrupted install.
func stopAllScript(l Layout, sudo bool) string {
	var b strings.Builder
	b.WriteString("set -e\n")
	b.WriteString(stopScript(l, ModeDetached))
	fmt.Fprintf(&b, "if [ -f %s ]; then\n%sfi\n", quote(l.UserUnit()), stopScript(l, ModeUser))
	if sudo {
		fmt.Fprintf(&b, "if [ -f %s ]; then\n%sfi\n", quote(l.SystemUnit()), stopScript(l, ModeSystem))
	}
	return b.String()
}

func removeScript(l Layout, purge bool) string {
	var b strings.Builder
	b.WriteString("set -e\n")
	fmt.Fprintf(&b, "link=%s\n", quote(l.Link()))
	fmt.Fprintf(&b, "case \"$(readlink \"$link\" 2>/dev/null)\" in %s/*) rm -f \"$link\";; esac\n", quote(l.LibDir()))
	fmt.Fprintf(&b, "rm -f \"$link.tmp\"\nrm -rf %s\n", quote(l.LibDir()))
	fmt.Fprintf(&b, "rm -f %s %s %s %s %s\n", quote(l.PasswordFile()), quote(l.PasswordFile()+".tmp"),
		quote(l.MethodsFile()), quote(l.MethodsFile()+".tmp"), quote(l.MethodsFile()+".prev"))
	if purge {
		fmt.Fprintf(&b, "rm -rf %s\n", quote(l.StateDir()))
	}
	for _, d := range l.createdDirs() {
		fmt.Fprintf(&b, "rmdir %s 2>/dev/null || true\n", quote(d))
	}
	return b.String()
}
