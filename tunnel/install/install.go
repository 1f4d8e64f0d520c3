package install

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"runtime"
	"strings"
	"time"

	"github.com/rpcssh/rpcssh/rpc/program"
)

// Options configures Install.
type Options struct {
	// Binary is the local rpcssh to install; it must be built for the
	// host's OS and architecture. "" means Self, when that matches.
	Binary string
	// Self is the running rpcssh (os.Executable()), installed when Binary
	// is "" and it suits the host.
	Self string
	// Methods is a local methods file to install; "" keeps the one
	// installed before, if any.
	Methods string
	// Port is serve's TCP port on the host's loopback; 0 means 8000.
	Port int
	// Mode is how serve is kept running. ModeAuto: as the install before,
	// if any; else a systemd user unit when `systemctl --user` works on
	// the host, else detached.
	// ModeSystem needs sudo without a password on the host.
	Mode Mode
	// StartTimeout bounds the wait for a started serve to answer; 0 means
	// 20 s. A detached serve that exits ends the wait at once; under
	// systemd (Restart=on-failure) the wait runs its course.
	StartTimeout time.Duration
	// DryRun probes the host (reading only) and returns the plan: nothing
	// is copied, written, started or stopped.
	DryRun bool
	// Progress, when not nil, is called once per step as it starts (with
	// DryRun, as it is planned).
	Progress func(Step)
}

// Step is one step of an install or uninstall.
type Step struct {
	Name   string // probe, binary, methods, upload, verify, secret, link, service, check, record, ...
	Detail string // one line for a person
	Script string // what runs on the host (sh), "" for a step on this machine
}

// Result is what Install (or Uninstall) did, or with DryRun would do.
type Result struct {
	Host      Host
	Binary    Binary
	Mode      Mode
	Copied    bool   // the binary was copied (false: that version was already there)
	Restarted bool   // serve was (re)started
	Password  string // the server's password, to keep with Credentials; "" with DryRun
	Server    ServerInfo
	Plan      []Step   // every step, in order
	Notes     []string // what the user should know: lingering off, no reboot survival
}

// NeedBinaryError says the running binary does not suit the host and no
// other was given. Nothing is ever downloaded: build one with Command.
type NeedBinaryError struct {
	GOOS, GOARCH string // the host's; "" when uname's answer is unknown to Go
	OS, Arch     string // uname -s, -m
	Have         string // what Self is built for, "goos/goarch"
}

func (e *NeedBinaryError) Error() string {
	if e.GOOS == "" || e.GOARCH == "" {
		return fmt.Sprintf("install: binary: the host is %s %s, which Go does not build for under that name", e.OS, e.Arch)
	}
	return fmt.Sprintf("install: binary: the host is %s/%s and this rpcssh is %s (nothing is downloaded); build one with: %s",
		e.GOOS, e.GOARCH, e.Have, e.Command())
}

// Command is the go build line that makes a binary for the host.
func (e *NeedBinaryError) Command() string {
	return BuildCommand(e.GOOS, e.GOARCH, "rpcssh-"+e.GOOS+"-"+e.GOARCH)
}

// DefaultPort is serve's port when Options.Port is 0.
const DefaultPort = 8000

type installer struct {
	c    Conn
	opts Options
	res  *Result
}

// announce records s in the plan and reports it; the caller runs it.
func (in *installer) announce(s Step) {
	in.res.Plan = append(in.res.Plan, s)
	if in.opts.Progress != nil {
		in.opts.Progress(s)
	}
}

// step announces s and runs its script unless this is a dry run.
func (in *installer) step(ctx context.Context, s Step) (string, error) {
	in.announce(s)
	if in.opts.DryRun || s.Script == "" {
		return "", nil
	}
	return runScript(ctx, in.c, s.Name, s.Script)
}

// Install puts the binary on the host, makes the server's password there,
// installs the methods file and (re)starts serve as the package doc
// describes, then checks that it answers. Running it again with the same
// binary copies nothing and leaves a serve that answers alone.
//
// Errors: *NeedBinaryError, *StepError (errors.Is ErrChecksum for a
// corrupted upload; ErrWrongPlatform for an unsuitable Options.Binary);
// ctx's error.
func Install(ctx context.Context, c Conn, opts Options) (Result, error) {
	if opts.Port == 0 {
		opts.Port = DefaultPort
	}
	if opts.Port < 1 || opts.Port > 65535 {
		return Result{}, fmt.Errorf("install: port %d: not 1-65535", opts.Port)
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 20 * time.Second
	}
	res := &Result{}
	in := &installer{c: c, opts: opts, res: res}
	err := in.install(ctx)
	return *res, err
}

func (in *installer) install(ctx context.Context) error {
	opts := in.opts
	in.announce(Step{Name: "probe", Detail: "reading the host: uname, HOME, systemd, sudo, the install there"})
	host, err := Probe(ctx, in.c)
	if err != nil {
		return err
	}
	in.res.Host = host
	l := host.Layout

	bin, err := chooseBinary(host, opts)
	if err != nil {
		return err
	}
	in.res.Binary = bin
	in.announce(Step{Name: "binary", Detail: fmt.Sprintf("%s: version %s for %s/%s, %.1f MB", bin.Path, bin.Version, host.GOOS, host.GOARCH, float64(bin.Size)/1e6)})

	var methods []byte
	if opts.Methods != "" {
		if methods, err = checkMethods(opts.Methods, l); err != nil {
			return err
		}
		in.announce(Step{Name: "methods", Detail: fmt.Sprintf("%s is valid (%s on the host)", opts.Methods, l.MethodsFile())})
	}
	withMethods := opts.Methods != "" || host.Installed.Methods

	mode, err := chooseMode(host, opts.Mode)
	if err != nil {
		return err
	}
	in.res.Mode = mode

	old := host.Installed
	if err := in.upload(ctx, l, bin); err != nil {
		return err
	}
	out, err := in.step(ctx, Step{Name: "secret", Detail: "the server's password in " + l.PasswordFile() + " (0600; made from the host's /dev/urandom if absent)", Script: secretScript(l)})
	if err != nil {
		return err
	}
	if !opts.DryRun {
		in.res.Password = strings.TrimSpace(out)
		if len(in.res.Password) < 16 {
			return &StepError{Step: "secret", Msg: fmt.Sprintf("%s holds a password shorter than 16 characters", l.PasswordFile())}
		}
	}
	if methods != nil {
		if err := in.copyFile(ctx, "methods", l.MethodsFile(), methods); err != nil {
			return err
		}
	}

	unchanged := old.ID == bin.ID && old.Mode == mode && old.Port == opts.Port && old.Methods == withMethods && opts.Methods == ""
	if unchanged && !opts.DryRun {
		if info, err := QueryServer(ctx, in.c, opts.Port, in.res.Password); err == nil && runsBinary(info, l, bin.ID, bin.Version) {
			in.res.Server = info
			in.announce(Step{Name: "check", Detail: fmt.Sprintf("serve %s already answers on 127.0.0.1:%d (pid %d): nothing to restart", info.Version, opts.Port, info.PID)})
			return nil
		}
	}
	if err := in.start(ctx, l, bin, mode, withMethods, old); err != nil {
		return err
	}
	_, err = in.step(ctx, Step{Name: "record", Detail: "noting the install in " + l.Record() + "; removing other versions",
		Script: recordScript(l, Record{ID: bin.ID, Version: bin.Version, Mode: mode, Port: opts.Port, Methods: withMethods})})
	return err
}

// chooseBinary picks Options.Binary, else Self when it suits the host.
func chooseBinary(h Host, opts Options) (Binary, error) {
	if h.GOOS == "" || h.GOARCH == "" {
		return Binary{}, &NeedBinaryError{OS: h.OS, Arch: h.Arch}
	}
	if opts.Binary != "" {
		b, err := CheckBinary(opts.Binary, h.GOOS, h.GOARCH)
		if err != nil {
			return Binary{}, &StepError{Step: "binary", Err: err}
		}
		return b, nil
	}
	b, err := CheckBinary(opts.Self, h.GOOS, h.GOARCH)
	if errors.Is(err, ErrWrongPlatform) {
		have, perr := platformOf(opts.Self)
		if perr != nil {
			have = runtime.GOOS + "/" + runtime.GOARCH // a PE (Windows) or other: Self is the running program
		}
		return Binary{}, &NeedBinaryError{GOOS: h.GOOS, GOARCH: h.GOARCH, OS: h.OS, Arch: h.Arch, Have: have}
	}
	if err != nil {
		return Binary{}, &StepError{Step: "binary", Err: err}
	}
	return b, nil
}

// checkMethods reads and validates a methods file as serve will on the
// host (relative paths taken from the host's config directory).
func checkMethods(file string, l Layout) ([]byte, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, &StepError{Step: "methods", Err: err}
	}
	if _, err := program.Parse(file, l.ConfigDir(), data); err != nil {
		return nil, &StepError{Step: "methods", Err: err}
	}
	return data, nil
}

func chooseMode(h Host, want Mode) (Mode, error) {
	switch want {
	case ModeAuto:
		switch prev := h.Installed.Mode; {
		case prev == ModeSystem && h.Sudo, prev == ModeUser && h.SystemdUser, prev == ModeDetached:
			return prev, nil // as the install before
		}
		if h.SystemdUser {
			return ModeUser, nil
		}
		return ModeDetached, nil
	case ModeUser:
		if !h.SystemdUser {
			return "", &StepError{Step: "service", Msg: "`systemctl --user` does not work on the host (no user manager for this login)"}
		}
	case ModeSystem:
		if !h.Sudo {
			return "", &StepError{Step: "service", Msg: "a system unit needs sudo without a password on the host (`sudo -n true` failed)"}
		}
	case ModeDetached:
	default:
		return "", fmt.Errorf("install: unknown mode %q", want)
	}
	return want, nil
}

// upload copies bin to its version directory unless it is there with the
// right checksum, and verifies it on the host before it is made
// executable and given its name.
func (in *installer) upload(ctx context.Context, l Layout, bin Binary) error {
	target := l.Binary(bin.ID)
	have, err := runScript(ctx, in.c, "upload", checksumScript(target))
	if err != nil {
		return err
	}
	if strings.TrimSpace(have) == bin.SHA256 {
		in.announce(Step{Name: "upload", Detail: fmt.Sprintf("%s is already on the host: copying nothing", bin.ID)})
		return nil
	}
	tmp := path.Join(l.VersionDir(bin.ID), fmt.Sprintf(".rpcssh.upload.%d", time.Now().UnixNano()))
	cmd := "sh -c " + quote("umask 077 && mkdir -p "+quote(l.VersionDir(bin.ID))+" && cat > "+quote(tmp))
	in.announce(Step{Name: "upload", Detail: fmt.Sprintf("copying %.1f MB to %s/", float64(bin.Size)/1e6, l.VersionDir(bin.ID)), Script: cmd})
	if !in.opts.DryRun {
		f, err := os.Open(bin.Path)
		if err != nil {
			return &StepError{Step: "upload", Err: err}
		}
		var errb limitedBuffer
		errb.max = maxOutput
		err = in.c.Run(ctx, cmd, f, nil, &errb)
		f.Close()
		if err != nil {
			return stepError("upload", errb.String(), err)
		}
		in.res.Copied = true
	}
	_, err = in.step(ctx, Step{Name: "verify", Detail: "SHA-256 " + bin.SHA256[:16] + "... checked on the host, then chmod 755 and rename", Script: verifyScript(tmp, target, bin.SHA256)})
	var se *StepError
	if errors.As(err, &se) && strings.HasPrefix(se.Msg, ErrChecksum.Error()) {
		se.Err = ErrChecksum
	}
	return err
}

// copyFile writes a small file on the host (0600) through a temporary
// name, keeping the file it replaces as dst.prev (none: no dst.prev) for
// a rollback.
func (in *installer) copyFile(ctx context.Context, step, dst string, data []byte) error {
	tmp, prev := dst+".tmp", dst+".prev"
	cmd := "sh -c " + quote("umask 077 && mkdir -p "+quote(dirOf(dst))+
		" && { if [ -f "+quote(dst)+" ]; then cp -p "+quote(dst)+" "+quote(prev)+"; else rm -f "+quote(prev)+"; fi; }"+
		" && cat > "+quote(tmp)+" && chmod 600 "+quote(tmp)+" && mv -f "+quote(tmp)+" "+quote(dst))
	in.announce(Step{Name: step, Detail: "copying to " + dst, Script: cmd})
	if in.opts.DryRun {
		return nil
	}
	var errb limitedBuffer
	errb.max = maxOutput
	if err := in.c.Run(ctx, cmd, strings.NewReader(string(data)), nil, &errb); err != nil {
		return stepError(step, errb.String(), err)
	}
	return nil
}

// start points the link at bin, (re)starts serve in mode and waits for it
// to answer; if it does not, the previous install is put back.
func (in *installer) start(ctx context.Context, l Layout, bin Binary, mode Mode, methods bool, old Record) error {
	if old.Mode != "" && old.Mode != mode {
		if _, err := in.step(ctx, Step{Name: "service", Detail: fmt.Sprintf("stopping the %s serve of the previous install", old.Mode), Script: stopScript(l, old.Mode)}); err != nil {
			return err
		}
	}
	if _, err := in.step(ctx, Step{Name: "link", Detail: l.Link() + " -> " + l.Binary(bin.ID), Script: linkScript(l, bin.ID)}); err != nil {
		return err
	}
	detail := map[Mode]string{
		ModeDetached: "starting serve detached (setsid; pid in " + l.PidFile() + ", log in " + l.LogFile() + ")",
		ModeUser:     "starting serve under the systemd user unit " + l.UserUnit(),
		ModeSystem:   "starting serve under the system unit " + l.SystemUnit() + " (sudo)",
	}[mode]
	out, err := in.step(ctx, Step{Name: "service", Detail: detail, Script: startScript(l, mode, in.opts.Port, methods, in.res.Host.Linger)})
	for _, line := range strings.Split(out, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			in.res.Notes = append(in.res.Notes, line)
		}
	}
	if mode == ModeDetached {
		in.res.Notes = append(in.res.Notes, "serve runs detached: it survives logout but not a reboot (no systemd user manager on the host; with sudo, --system installs a system unit)")
	}
	if err == nil {
		in.res.Restarted = !in.opts.DryRun
		in.announce(Step{Name: "check", Detail: fmt.Sprintf("waiting for serve %s to answer %s on 127.0.0.1:%d", bin.Version, VersionMethod, in.opts.Port)})
		if in.opts.DryRun {
			return nil
		}
		in.res.Server, err = in.waitServer(ctx, l, mode, in.opts.Port, bin.ID, bin.Version)
		if err == nil {
			return nil
		}
	}
	return in.rollback(ctx, l, bin, mode, old, err)
}

// waitServer polls rpcssh.version on port until the binary of version
// directory id answers, for at most Options.StartTimeout. A serve started
// detached that is gone (it exited at once, say on a busy port) fails the
// wait at once: the pid file names it, and the host is asked about it only
// when a call fails or has had no answer within the poll interval (a busy
// port's owner may take the call and never answer it).
func (in *installer) waitServer(ctx context.Context, l Layout, mode Mode, port int, id, version string) (ServerInfo, error) {
	const poll = 200 * time.Millisecond
	wctx, cancel := context.WithTimeout(ctx, in.opts.StartTimeout)
	defer cancel()
	exited := func() string {
		if mode != ModeDetached || wctx.Err() != nil {
			return ""
		}
		return in.exitedPID(wctx, l)
	}
	var last error
	for {
		type answer struct {
			info ServerInfo
			err  error
		}
		cctx, ccancel := context.WithTimeout(wctx, 5*time.Second)
		done := make(chan answer, 1)
		go func() {
			info, err := QueryServer(cctx, in.c, port, in.res.Password)
			done <- answer{info, err}
		}()
		var a answer
		pid, checked := "", false
		select {
		case a = <-done:
		case <-time.After(poll):
			pid, checked = exited(), true
			if pid != "" {
				ccancel() // no answer is coming from a serve that is gone
			}
			a = <-done
		}
		ccancel()
		switch {
		case a.err == nil && runsBinary(a.info, l, id, version):
			return a.info, nil
		case a.err == nil:
			last = fmt.Errorf("127.0.0.1:%d is answered by %s (%s), not %s", port, a.info.Executable, a.info.Version, id)
		case pid == "":
			last = a.err
		}
		if !checked {
			pid = exited()
		}
		if pid != "" {
			if last == nil {
				return ServerInfo{}, fmt.Errorf("serve (pid %s) exited before it answered on 127.0.0.1:%d", pid, port)
			}
			return ServerInfo{}, fmt.Errorf("serve (pid %s) exited before it answered on 127.0.0.1:%d: %w", pid, port, last)
		}
		select {
		case <-wctx.Done():
			if ctx.Err() != nil {
				return ServerInfo{}, ctx.Err()
			}
			return ServerInfo{}, fmt.Errorf("serve did not answer within %s: %w", in.opts.StartTimeout, last)
		case <-time.After(poll):
		}
	}
}

// exitedPID returns the pid of the detached serve when it no longer runs,
// and "" when it runs or that is not known (the host could not be asked,
// or the pid file is gone).
func (in *installer) exitedPID(ctx context.Context, l Layout) string {
	out, err := runScript(ctx, in.c, "check", exitedScript(l))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(out)
}

// runsBinary reports whether the serve that answered runs the binary of
// version directory id.
func runsBinary(info ServerInfo, l Layout, id, version string) bool {
	if path.Base(path.Dir(info.Executable)) == id {
		return true
	}
	return info.Executable == l.Link() && info.Version == version
}

// rollback puts the previous install back after a failed start and
// returns the start's error with serve's last log lines.
func (in *installer) rollback(ctx context.Context, l Layout, bin Binary, mode Mode, old Record, cause error) error {
	logs, _ := runScript(ctx, in.c, "service", logScript(l, mode))
	msg := "the new serve did not start"
	if tail := lastLines(logs, 3); tail != "" {
		msg += "; its log: " + tail
	}
	var undo strings.Builder
	if in.opts.Methods != "" {
		// Put the methods file back as it was before this install.
		m := quote(l.MethodsFile())
		fmt.Fprintf(&undo, "if [ -f %s.prev ]; then mv -f %s.prev %s; else rm -f %s; fi\n", m, m, m, m)
	}
	if old.ID == "" {
		undo.WriteString(stopScript(l, mode)) // nothing to go back to
	} else {
		if mode != old.Mode {
			undo.WriteString(stopScript(l, mode))
		}
		if old.ID != bin.ID {
			undo.WriteString(linkScript(l, old.ID))
			fmt.Fprintf(&undo, "rm -rf %s\n", quote(l.VersionDir(bin.ID)))
		}
		undo.WriteString(startScript(l, old.Mode, old.Port, old.Methods, true))
		msg += fmt.Sprintf("; the previous install (%s) was put back", old.ID)
	}
	if _, err := runScript(ctx, in.c, "rollback", undo.String()); err != nil {
		msg += fmt.Sprintf("; the rollback failed too: %v", err)
	} else if old.ID != "" {
		if _, err := in.waitServer(ctx, l, old.Mode, old.Port, old.ID, old.Version); err != nil {
			msg += fmt.Sprintf("; but it does not answer: %v", err)
		}
	}
	return &StepError{Step: "start", Msg: msg, Err: cause}
}
