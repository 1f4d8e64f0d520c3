package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rpcssh/rpcssh/tunnel"
	"github.com/rpcssh/rpcssh/tunnel/control"
)

// shareFlags decide whether call, jobs and bench share one SSH connection
// per destination through a background master (as OpenSSH's ControlMaster
// with ControlPersist), and where masters live.
type shareFlags struct {
	ControlPersist *time.Duration `name:"control-persist" env:"RPCSSH_CONTROL_PERSIST" placeholder:"DURATION" help:"Keep a background master holding the SSH connection for this long after its last use, so later calls to the same destination skip the handshake; 0: no master (dial every time); negative: until 'rpcssh control stop'. Default: ssh_config's ControlPersist, else 60s."`
	ControlPath    string         `name:"control-path" short:"S" placeholder:"PATH" help:"'none': never share a connection (as ControlPath none); otherwise the socket of an OpenSSH master (ssh -M -S PATH) to open channels through (default: ssh_config's ControlPath, if a master listens there)."`
	ControlDir     string         `name:"control-dir" type:"path" env:"RPCSSH_CONTROL_DIR" placeholder:"DIR" help:"Private directory of rpcssh's control sockets (default: $XDG_RUNTIME_DIR/rpcssh, else /tmp/rpcssh-UID)."`
}

// controlDir is where this user's masters put their sockets.
func controlDir(e *env) string {
	if e.share.ControlDir != "" {
		return e.share.ControlDir
	}
	if d := e.getenv("XDG_RUNTIME_DIR"); filepath.IsAbs(d) {
		return filepath.Join(d, "rpcssh")
	}
	tmp := e.getenv("TMPDIR")
	if !filepath.IsAbs(tmp) {
		tmp = "/tmp"
	}
	return filepath.Join(tmp, "rpcssh-"+strconv.Itoa(os.Getuid()))
}

// controlSocket is the socket of the master for cfg, in a private
// directory made if missing.
func controlSocket(e *env, cfg tunnel.Config) (string, control.Identity, error) {
	id, err := control.IdentityOf(cfg)
	if err != nil {
		return "", id, err
	}
	dir := controlDir(e)
	if err := control.MakeDir(dir); err != nil {
		return "", id, err
	}
	return control.SocketPath(dir, id), id, nil
}

// sharedLink is the hook into dialSSH: a link whose channels go through
// a master (an OpenSSH one at -S PATH or at ssh_config's ControlPath, else
// rpcssh's own, started in the background if none is running), or nil
// when sharing is off or no master could open the first channel. It needs
// no key: setup may have been resolved with DeferKeys. On nil the caller
// dials exactly as without sharing, so a master never makes a call fail
// that would have succeeded without it.
func sharedLink(ctx context.Context, e *env, f sshFlags, r remoteFlags, dest string, setup *tunnel.Resolved) *sshLink {
	network, addr, err := r.remoteTarget()
	if err != nil {
		return nil
	}
	d := sharedDialer(ctx, e, f, dest, setup, network, addr)
	if d == nil {
		return nil
	}
	link := linkThrough(d.dial, network, addr, r.Path)
	link.shared = d
	if d.masterPath != "" {
		go d.watchMaster(link.lost)
	}
	return link
}

// watchMaster sends on lost why rpcssh's master ended, if it ends while
// the link is in use, so that a failed call says so rather than "EOF".
func (d *masterDialer) watchMaster(lost chan<- error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	w, err := control.Watch(ctx, d.masterPath)
	cancel()
	if err != nil {
		return
	}
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		w.Close()
		return
	}
	d.watcher = w
	d.mu.Unlock()
	<-w.Done()
	d.mu.Lock()
	closed := d.closed
	d.mu.Unlock()
	if !closed {
		lost <- fmt.Errorf("the connection master ended: %v", w.Err())
	}
}

// masterDialer opens channels through a master; when the master goes away
// it dials the host itself, once, and opens the rest of the channels
// there.
type masterDialer struct {
	open          func(ctx context.Context) (net.Conn, error) // through the master
	setup         *tunnel.Resolved                            // to dial by itself (its keys loaded then)
	network, addr string
	masterPath    string // rpcssh's own master's socket, if that is the one

	mu      sync.Mutex
	first   net.Conn         // opened while deciding to use the master
	own     *tunnel.Client   // our own connection, after the master failed
	watcher *control.Watcher // follows rpcssh's master, once set up
	closed  bool
}

func (d *masterDialer) dial(ctx context.Context) (net.Conn, error) {
	if c := d.takeFirst(); c != nil {
		return c, nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.own == nil {
		c, err := d.open(ctx)
		var ue *control.UnavailableError
		if !errors.As(err, &ue) {
			return c, err
		}
		d.own, err = d.setup.Dial(ctx)
		if err != nil {
			d.own = nil
			return nil, err
		}
	}
	return d.own.DialContext(ctx, d.network, d.addr)
}

// takeFirst hands over the channel opened while deciding to use the
// master, once; nil afterwards.
func (d *masterDialer) takeFirst() net.Conn {
	d.mu.Lock()
	defer d.mu.Unlock()
	c := d.first
	d.first = nil
	return c
}

func (d *masterDialer) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	if d.watcher != nil {
		d.watcher.Close()
	}
	if d.first != nil {
		d.first.Close()
	}
	if d.own != nil {
		return d.own.Close()
	}
	return nil
}

// sharedDialer opens the first channel through a master and returns the
// dialer for the rest, or nil. The flags win over ssh_config: -S PATH
// names an OpenSSH master, -S none turns sharing off, and so does
// ControlPath none. Otherwise an OpenSSH master listening at ControlPath
// is used if there is one, else rpcssh's own master, which is started
// unless ControlMaster is no.
func sharedDialer(ctx context.Context, e *env, f sshFlags, dest string, setup *tunnel.Resolved, network, addr string) *masterDialer {
	s, ctl := e.share, setup.Control
	d := &masterDialer{setup: setup, network: network, addr: addr}
	first := func() *masterDialer {
		c, err := openBounded(ctx, d.open)
		if err != nil {
			return nil
		}
		d.first = c
		return d
	}
	openSSH := func(path string) {
		d.open = func(ctx context.Context) (net.Conn, error) {
			return control.DialOpenSSH(ctx, path, network, addr)
		}
	}
	switch {
	case s.ControlPath == "none", s.ControlPath == "" && !ctl.Sharing():
		return nil
	case s.ControlPath != "":
		openSSH(s.ControlPath)
		return first()
	case ctl.Path != "":
		openSSH(ctl.Path)
		if shared := first(); shared != nil {
			return shared
		}
	}
	persist := s.persist(ctl)
	if persist == 0 || e.self == "" {
		return nil
	}
	path, _, err := controlSocket(e, setup.Config)
	if err != nil {
		return nil
	}
	d.masterPath = path
	d.open = func(ctx context.Context) (net.Conn, error) {
		return control.Dial(ctx, path, network, addr)
	}
	c, err := openBounded(ctx, d.open)
	var ue *control.UnavailableError
	if errors.As(err, &ue) && !wedged(err) && ctl.Master != "no" && startMaster(ctx, e, f, dest, path, persist, setup.Config) {
		c, err = openBounded(ctx, d.open)
	}
	if err != nil {
		return nil
	}
	d.first = c
	return d
}

// defaultControlPersist is a master's idle time when neither
// --control-persist nor ControlPersist says: Ansible's.
const defaultControlPersist = 60 * time.Second

// persist is how long a master outlives its last use: --control-persist
// (or RPCSSH_CONTROL_PERSIST) if given, else ssh_config's ControlPersist,
// else 60 s.
func (s shareFlags) persist(ctl tunnel.ControlSettings) time.Duration {
	switch {
	case s.ControlPersist != nil:
		return *s.ControlPersist
	case ctl.PersistSet:
		return ctl.Persist
	}
	return defaultControlPersist
}

// wedged reports whether a master is there but did not answer in time (it
// is stopped, or stuck): it holds its socket, so no new master can take
// over; the caller just dials by itself.
func wedged(err error) bool {
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded)
}

// openBounded opens a channel through a master within a few seconds: a
// wedged master must not cost the caller its whole timeout.
func openBounded(ctx context.Context, open func(context.Context) (net.Conn, error)) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return open(ctx)
}

// masterJob is what a caller hands the master it starts, on the master's
// standard input: the flags and destination to resolve again (the master
// loads the keys itself; no secret crosses) and the socket expected.
type masterJob struct {
	Flags   sshFlags      `json:"flags"`
	Dest    string        `json:"dest"`
	Path    string        `json:"path"`
	Persist time.Duration `json:"persist"`
}

// Words a starting master writes on its readiness pipe.
const (
	masterReady   = "ready"   // serving
	masterRunning = "running" // another master serves the socket
)

// startMaster starts `rpcssh control master` detached in its own session
// and waits until it serves path or fails; it reports whether a master
// now serves path. The master is this executable re-executed, not a
// fork: Go cannot fork a running process, and a separate process outlives
// the caller without keeping its terminal or its output open.
func startMaster(ctx context.Context, e *env, f sshFlags, dest, path string, persist time.Duration, cfg tunnel.Config) bool {
	job, err := json.Marshal(masterJob{Flags: f, Dest: dest, Path: path, Persist: persist})
	if err != nil {
		return false
	}
	rd, wr, err := os.Pipe()
	if err != nil {
		return false
	}
	defer rd.Close()
	cmd := exec.Command(e.self, "control", "master")
	cmd.Args[0] = "rpcssh" // what the binary answers to (tests run it under another name)
	cmd.Env = masterEnv(os.Environ())
	cmd.Stdin = strings.NewReader(string(job))
	cmd.ExtraFiles = []*os.File{wr} // fd 3
	cmd.SysProcAttr = detached()
	err = cmd.Start()
	wr.Close()
	if err != nil {
		return false
	}
	go cmd.Wait() // reap it if it exits while we run; else init does
	wait := f.ConnectTimeout*time.Duration(1+len(cfg.Jump)) + 5*time.Second
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(io.LimitReader(rd, 4096)).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case s := <-line:
		return s == masterReady || s == masterRunning
	case <-time.After(wait):
	case <-ctx.Done():
	}
	rd.Close()
	return false
}

// masterEnv is the environment a master gets: the caller's, without the
// XML-RPC password (a master never needs it) and the key passphrase (no
// secret goes to a child; a master that needs one fails, and the caller
// dials by itself).
func masterEnv(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if strings.HasPrefix(kv, "RPCSSH_PASSWORD=") || strings.HasPrefix(kv, "RPCSSH_PASSPHRASE=") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// runMaster is the hidden `rpcssh control master`: it reads a masterJob on
// stdin, becomes the master for it and reports on fd 3.
func runMaster(ctx context.Context, e *env, ready io.WriteCloser) error {
	report := func(word string) {
		if ready != nil {
			fmt.Fprintln(ready, word)
			ready.Close()
			ready = nil
		}
	}
	defer report("failed")
	var job masterJob
	if err := json.NewDecoder(io.LimitReader(e.stdin, 1<<20)).Decode(&job); err != nil {
		return fmt.Errorf("control master: read job: %w", err)
	}
	setup, err := job.Flags.resolveHost(ctx, e, job.Dest)
	if err != nil {
		return err
	}
	defer setup.Close()
	path, id, err := controlSocket(e, setup.Config)
	if err != nil {
		return err
	}
	if path != job.Path {
		return fmt.Errorf("control master: %s resolves to %s, not %s", job.Dest, path, job.Path)
	}
	wait := job.Flags.ConnectTimeout*time.Duration(1+len(setup.Config.Jump)) + 5*time.Second
	lctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	sock, err := control.Listen(lctx, path)
	if errors.Is(err, control.ErrMasterRunning) {
		report(masterRunning)
		return nil
	}
	if err != nil {
		return err
	}
	defer sock.Close()
	c, err := setup.Dial(lctx)
	if err != nil {
		return err
	}
	defer c.Close()
	report(masterReady)
	err = control.Serve(ctx, sock, c, control.MasterConfig{Identity: id, Idle: job.Persist, Prefetch: true})
	if errors.Is(err, control.ErrIdle) || errors.Is(err, control.ErrStopped) || errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// executable is this program's path, for starting a master; empty when
// it cannot be known.
func executable() string {
	p, err := os.Executable()
	if err != nil {
		return ""
	}
	return p
}
