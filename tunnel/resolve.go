package tunnel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// ResolveOptions is what a caller adds to ssh_config when turning a
// destination into a Config: the equivalents of ssh's command-line flags,
// and the outside world the resolver may use. The zero value resolves the
// way a plain `ssh DEST` would for the current user.
type ResolveOptions struct {
	// User (ssh -l) and Port (ssh -p) apply to the destination only, not
	// to jump hosts; they win over user@ and :port in the destination and
	// over ssh_config. 0 and "" mean not given.
	User string
	Port int
	// IdentityFiles (ssh -i) are tried before ssh_config's IdentityFile
	// lines; a "FILE.pub" whose private key is in the agent is used through
	// the agent, as ssh does.
	IdentityFiles []string
	// KnownHostsFiles replace UserKnownHostsFile and the global file.
	KnownHostsFiles []string
	// StrictHostKeyChecking overrides the config: "yes", "accept-new",
	// "no" or "off" (accept-new for unknown hosts; a changed key is always
	// refused), "ask" (yes: the library never prompts). "" reads the
	// config; its default is "ask".
	StrictHostKeyChecking string
	// Jump (ssh -J) lists jump hosts, outermost first; it overrides
	// ssh_config's ProxyJump and ProxyCommand. "none" disables them.
	Jump []string
	// ConfigFile (ssh -F) is the ssh_config to read: "" reads ~/.ssh/config
	// if it exists, then SystemConfigFile; "none" (or /dev/null) reads none.
	// A named file that does not exist is an error; naming one skips the
	// system file, as ssh -F does.
	ConfigFile string
	// SystemConfigFile is read after the user's when ConfigFile is "": ""
	// means /etc/ssh/ssh_config (if it exists), "none" reads none.
	SystemConfigFile string
	// Options (ssh -o) are "Keyword=value" or "Keyword value" lines, parsed
	// like the config file and applied before it (first value wins). A
	// keyword the package does not know is an error naming it.
	Options []string
	// ConnectTimeout bounds the TCP connect and the handshake of each hop
	// when the config's ConnectTimeout is unset; 0 means 15 s.
	ConnectTimeout time.Duration
	// KeepaliveInterval is used when the config's ServerAliveInterval is
	// unset; 0 means 15 s.
	KeepaliveInterval time.Duration

	// Home is the home directory for "~", %d and the default files; ""
	// asks os.UserHomeDir.
	Home string
	// LocalUser is %u and the default login name; "" asks os/user, then
	// $USER.
	LocalUser string
	// Getenv reads the environment ($SSH_AUTH_SOCK, IdentityAgent's
	// ${VAR}); nil is os.Getenv.
	Getenv func(string) string
	// Passphrase is asked for the passphrase of an encrypted key the agent
	// does not hold. nil leaves that key out and, when it was named
	// explicitly, fails with *ssh.PassphraseMissingError; an error it
	// returns is wrapped (%w) into Resolve's error, so a caller can carry
	// its own cause (an interrupt, a wrong passphrase) through.
	Passphrase func(keyFile string) ([]byte, error)
	// LookupHost checks that a name resolves (see UnknownDestinationError);
	// nil uses net.DefaultResolver. It is asked only for a destination that
	// no Host or Match block of the config matched.
	LookupHost func(ctx context.Context, host string) ([]string, error)

	// Verbose receives what ssh -v prints, one line each with a "debug1: "
	// prefix: config files, host, user, port, host key algorithms,
	// known_hosts files, keys offered and why they were refused. Verbosity
	// 2 adds timings. Nil discards. Secrets are never written.
	Verbose   io.Writer
	Verbosity int
	// ProxyStderr receives a ProxyCommand's standard error; nil discards.
	ProxyStderr io.Writer
	// HostKeyAdded is called after accept-new recorded a host (ssh prints
	// "Warning: Permanently added ..."); nil: nothing.
	HostKeyAdded func(host, file string, key ssh.PublicKey)
	// DeferKeys makes Resolve read no key and ask the agent nothing: the
	// Config's Auth stays nil until Resolved.LoadKeys (which Resolved.Dial
	// calls). A caller that may not need to log in (one that reuses a
	// shared connection, see Resolved.Control) thus neither reads keys nor
	// prompts for a passphrase.
	DeferKeys bool
	// ShareKnownHosts makes a Resolver read each list of known_hosts files
	// once and hand the same KnownHosts to every Config it makes, instead
	// of each dial reading the files again: for a fan-out, which dials
	// each host once. A key that accept-new records is then not seen by
	// later dials of Configs from the same Resolver.
	ShareKnownHosts bool
}

// HostOptions are what one destination of a Resolver adds to the
// Resolver's options, the way an Ansible inventory's host variables do:
// they win over ResolveOptions and ssh_config alike.
type HostOptions struct {
	// User and Port win over the destination's user@ and :port, the
	// Resolver's User and Port, and ssh_config; "" and 0: not given.
	User string
	Port int
	// IdentityFiles are tried before the Resolver's IdentityFiles.
	IdentityFiles []string
	// Options are ssh -o lines for this destination, applied before the
	// Resolver's Options.
	Options []string
}

// Resolved is a destination resolved the way ssh would: a dialable Config
// plus the resources it uses (an agent connection). Close it when the
// Config is no longer dialled.
type Resolved struct {
	// Config is ready for Dial, NewRedialer or Resolved.Dial.
	Config Config
	// Alias is the host as typed; Host, User, Port what is dialled (Host
	// after HostName, lowercased as ssh does).
	Alias, Host, User, Port string
	// ConnectTimeout bounds each hop's connect and handshake.
	ConnectTimeout time.Duration
	// ConnectionAttempts is how many times Dial tries the connection.
	ConnectionAttempts int
	// Keys describes the keys offered, in order ("path SHA256:..." or
	// "agent: comment SHA256:..."), for error messages.
	Keys []string
	// Warnings lists config constructs that were ignored, as
	// "file:line: message".
	Warnings []string
	// Control is what ssh_config and -o say about connection sharing.
	Control ControlSettings

	verbose  *verboser
	closers  []io.Closer
	loadKeys func() error // DeferKeys: fills Config.Auth and Keys, once
	keysErr  error
}

// Close releases the agent connection the Config's Auth uses. The Config
// must not be dialled afterwards.
func (r *Resolved) Close() error {
	for _, c := range r.closers {
		_ = c.Close()
	}
	r.closers = nil
	return nil
}

// Dial connects with r.Config, each attempt bounded by ConnectTimeout per
// hop, ConnectionAttempts times while the error is a network one. ctx
// bounds the whole. An authentication failure comes back as *AuthError,
// listing the user and every key offered.
func (r *Resolved) Dial(ctx context.Context) (*Client, error) {
	if err := r.LoadKeys(); err != nil {
		return nil, err
	}
	attempts := max(r.ConnectionAttempts, 1)
	// Only for -v: the lookup scans every known_hosts line, and Dial
	// does it again for the handshake.
	if r.verbose.enabled(1) {
		if _, algos, err := hostKeyPolicy(r.Config); err == nil {
			r.verbose.printf("host key algorithms for %s: %s", knownhosts.Normalize(knownHostsName(r.Config)), strings.Join(algos, ","))
		}
	}
	var err error
	for i := range attempts {
		start := time.Now()
		dctx, cancel := context.WithTimeout(ctx, r.ConnectTimeout*time.Duration(1+len(r.Config.Jump)))
		var c *Client
		c, err = Dial(dctx, r.Config)
		cancel()
		r.verbose.timing(start, "dial %s as %s (attempt %d)", r.Config.Addr, r.User, i+1)
		if err == nil {
			r.verbose.printf("Authenticated to %s as %q", r.Config.Addr, r.User)
			return c, nil
		}
		if errors.Is(err, ErrAuthFailed) {
			return nil, &AuthError{Addr: r.Config.Addr, User: r.User, Keys: r.Keys, err: err}
		}
		var op *net.OpError
		if ctx.Err() != nil || !errors.As(err, &op) {
			break
		}
		r.verbose.printf("connect to %s failed: %v", r.Config.Addr, err)
	}
	return nil, err
}

// AuthError is an authentication failure with what was offered: the user
// and each key (file or agent comment, with its fingerprint). It matches
// ErrAuthFailed.
type AuthError struct {
	Addr string
	User string
	Keys []string
	err  error
}

func (e *AuthError) Error() string {
	keys := "no key"
	if len(e.Keys) > 0 {
		keys = "keys offered: " + strings.Join(e.Keys, ", ")
	}
	return fmt.Sprintf("tunnel: %s refused user %q (%s): %v", e.Addr, e.User, keys, e.err)
}
func (e *AuthError) Unwrap() error { return e.err }

// UnknownDestinationError reports a destination that is neither a Host or
// Match entry of the config nor a name that resolves.
type UnknownDestinationError struct {
	Host       string
	ConfigFile string // "" when no config was read
	HostName   bool   // Host came from the config's HostName
	Err        error  // the resolver's error
}

func (e *UnknownDestinationError) Error() string {
	where := "no ssh config read"
	switch {
	case e.HostName:
		where = "the HostName given in " + e.ConfigFile
	case e.ConfigFile != "":
		where = "not in " + e.ConfigFile
	}
	return fmt.Sprintf("tunnel: unknown host %q: %s and not resolvable", e.Host, where)
}
func (e *UnknownDestinationError) Unwrap() error { return e.Err }

// DestinationError is a destination string that cannot be parsed.
type DestinationError struct {
	Dest   string
	Reason string
}

func (e *DestinationError) Error() string {
	return fmt.Sprintf("tunnel: SSH destination %q: %s", e.Dest, e.Reason)
}

// ErrNoKey is returned by Resolve when there is no key to log in with: no
// identity file exists and the agent holds none.
var ErrNoKey = errors.New("tunnel: no SSH key to log in with")

// Resolve turns dest (host, user@host, host:port, [v6]:port,
// ssh://user@host:port or a ssh_config alias) into a dialable Config the
// way ssh does: ssh_config (Host and Match blocks, Include), the options,
// the agent, the default keys and known_hosts files. It reads files and the
// agent but opens no network connection, except a DNS lookup for a name
// that no config entry matches. Close the result when done.
//
// Errors: *DestinationError, *ConfigError (a config or -o line ssh would
// refuse), *UnknownDestinationError, ErrNoKey, key loading errors.
func Resolve(ctx context.Context, dest string, opts ResolveOptions) (*Resolved, error) {
	r, err := NewResolver(opts)
	if err != nil {
		return nil, err
	}
	res, err := r.Resolve(ctx, dest)
	if err != nil {
		r.Close()
		return nil, err
	}
	res.closers = append(res.closers, r)
	return res, nil
}

// DialDestination resolves dest as ssh would for the current user (see
// Resolve with zero options) and connects. Closing the Client also releases
// what the resolution opened.
func DialDestination(ctx context.Context, dest string) (*Client, error) {
	res, err := Resolve(ctx, dest, ResolveOptions{})
	if err != nil {
		return nil, err
	}
	c, err := res.Dial(ctx)
	if err != nil {
		res.Close()
		return nil, err
	}
	c.onClose = append(c.onClose, res)
	return c, nil
}

// Resolver resolves many destinations with one reading of ssh_config and
// one agent connection, loading each key once (so a fleet asks for a
// passphrase at most once per key). It is safe for concurrent use.
type Resolver struct {
	opts       ResolveOptions
	sc         *SSHConfig
	configFile string // "" when none was read
	cmdline    []directive
	verbose    *verboser

	mu      sync.Mutex
	agent   *agentConn
	keys    map[string]keyResult
	closers []io.Closer
	known   map[string]*KnownHosts // ShareKnownHosts: by file list
}

type keyResult struct {
	signer ssh.Signer
	desc   string
	err    error
}

// NewResolver reads ssh_config and checks the options that apply to every
// destination. Close it when the Configs it made are no longer dialled.
func NewResolver(opts ResolveOptions) (*Resolver, error) {
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.Home == "" {
		opts.Home, _ = os.UserHomeDir()
	}
	if opts.LocalUser == "" {
		opts.LocalUser = localUserName(opts.Getenv)
	}
	if opts.Port < 0 || opts.Port > 65535 {
		return nil, &DestinationError{Dest: strconv.Itoa(opts.Port), Reason: "port is not 1-65535"}
	}
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = 15 * time.Second
	}
	if opts.KeepaliveInterval == 0 {
		opts.KeepaliveInterval = DefaultKeepaliveInterval
	}
	switch strings.ToLower(opts.StrictHostKeyChecking) {
	case "", "yes", "accept-new", "no", "off", "ask":
	default:
		return nil, &ConfigError{Where: "StrictHostKeyChecking", Msg: fmt.Sprintf("unsupported value %q (want yes, accept-new, no, off or ask)", opts.StrictHostKeyChecking)}
	}
	v := &verboser{w: opts.Verbose, level: opts.Verbosity}
	r := &Resolver{opts: opts, verbose: v, keys: map[string]keyResult{}}
	defer v.timing(time.Now(), "read ssh config")

	env := LookupEnv{Home: opts.Home, LocalUser: opts.LocalUser}
	path := opts.ConfigFile
	explicit := path != ""
	if !explicit && opts.Home != "" {
		path = filepath.Join(opts.Home, ".ssh", "config")
	}
	switch {
	case path == "" || strings.EqualFold(path, "none") || path == os.DevNull:
		r.sc = &SSHConfig{Env: env}
	default:
		if _, err := os.Stat(path); err != nil && !explicit {
			r.sc, r.configFile = &SSHConfig{Env: env}, path // named in "not in ~/.ssh/config"
			break
		} else if err != nil {
			return nil, &ConfigError{Where: path, Msg: "can't open user config file", Err: err}
		}
		sc, err := readSSHConfig(path, env, userConfig)
		if err != nil {
			return nil, err
		}
		r.sc, r.configFile = sc, path
		v.printf("Reading configuration data %s", path)
	}
	if !explicit && !strings.EqualFold(opts.SystemConfigFile, "none") {
		sys := firstNonEmpty(opts.SystemConfigFile, "/etc/ssh/ssh_config")
		if _, err := os.Stat(sys); err == nil {
			sc, err := readSSHConfig(sys, env, systemConfig)
			if err != nil {
				return nil, err
			}
			r.sc.directives = append(r.sc.directives, sc.directives...)
			r.sc.warnings = append(r.sc.warnings, sc.warnings...)
			v.printf("Reading configuration data %s", sys)
		}
	}
	cmd, err := parseCommandLine(opts.Options, env)
	if err != nil {
		return nil, err
	}
	r.cmdline = cmd
	return r, nil
}

// Close releases the agent connection.
func (r *Resolver) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.closers {
		_ = c.Close()
	}
	r.closers = nil
	return nil
}

// Resolve resolves one destination; see the package function Resolve. The
// result's Close is a no-op: the Resolver owns the resources.
func (r *Resolver) Resolve(ctx context.Context, dest string) (*Resolved, error) {
	return r.ResolveHost(ctx, dest, HostOptions{})
}

// ResolveHost resolves one destination with options of its own (see
// HostOptions). An error in h.Options is a *ConfigError.
func (r *Resolver) ResolveHost(ctx context.Context, dest string, h HostOptions) (*Resolved, error) {
	d, err := ParseDestination(dest)
	if err != nil {
		return nil, err
	}
	o := r.opts
	var pre []directive
	if h.User != "" {
		pre = append(pre, directive{key: "user", args: []string{h.User}, where: "host options"})
	}
	if h.Port != 0 {
		if h.Port < 0 || h.Port > 65535 {
			return nil, &DestinationError{Dest: dest, Reason: fmt.Sprintf("port %d is not 1-65535", h.Port)}
		}
		pre = append(pre, directive{key: "port", args: []string{strconv.Itoa(h.Port)}, where: "host options"})
	}
	if len(h.Options) > 0 {
		hostOpts, err := parseCommandLine(h.Options, LookupEnv{Home: o.Home, LocalUser: o.LocalUser})
		if err != nil {
			return nil, err
		}
		pre = append(pre, hostOpts...)
	}
	if o.User != "" {
		pre = append(pre, directive{key: "user", args: []string{o.User}, where: "command line"})
	}
	if o.Port != 0 {
		pre = append(pre, directive{key: "port", args: []string{strconv.Itoa(o.Port)}, where: "command line"})
	}
	pre = append(pre, r.cmdline...)
	if d.User != "" {
		pre = append(pre, directive{key: "user", args: []string{d.User}, where: "destination"})
	}
	if d.Port != "" {
		pre = append(pre, directive{key: "port", args: []string{d.Port}, where: "destination"})
	}
	hc, err := r.sc.lookup(d.Host, pre)
	if err != nil {
		return nil, err
	}
	res := &Resolved{Alias: d.Host, verbose: r.verbose, Warnings: hc.Warnings}
	for _, w := range append(hc.Warnings, hc.Ignored...) {
		r.verbose.printf("%s", w)
	}
	host := d.Host
	if hc.HostName != "" {
		host = hc.HostName
	}
	host = strings.ToLower(host)
	res.Host, res.Port = host, firstNonEmpty(hc.Port, "22")
	res.User = firstNonEmpty(hc.User, o.LocalUser)
	r.verbose.printf("Connecting to %s [%s] port %s as %q (alias %q)", host, host, res.Port, res.User, d.Host)

	if net.ParseIP(host) == nil && hc.ProxyCommand == "" && hc.ProxyJump == "" && len(o.Jump) == 0 {
		start := time.Now()
		if err := r.checkResolvable(ctx, host, hc.HostName != ""); err != nil {
			return nil, err
		}
		r.verbose.timing(start, "resolve %s", host)
	}

	res.ConnectTimeout = o.ConnectTimeout
	if hc.ConnectTimeout > 0 {
		res.ConnectTimeout = hc.ConnectTimeout
	}
	res.ConnectionAttempts = max(hc.ConnectionAttempts, 1)

	known, err := r.knownHostsFiles(hc)
	if err != nil {
		return nil, err
	}
	strict := strings.ToLower(firstNonEmpty(o.StrictHostKeyChecking, hc.StrictHostKeyChecking, "ask"))
	res.Control = hc.Control
	res.loadKeys = func() error {
		start := time.Now()
		auth, keys, err := r.auth(hc, h.IdentityFiles)
		r.verbose.timing(start, "load keys and agent")
		if err != nil {
			return err
		}
		res.Keys = keys
		res.Config.Auth = auth
		for i := range res.Config.Jump {
			res.Config.Jump[i].Auth = auth
		}
		return nil
	}
	if !o.DeferKeys {
		if err := res.LoadKeys(); err != nil {
			return nil, err
		}
	}
	cfg := Config{
		Addr:              net.JoinHostPort(host, res.Port),
		User:              res.User,
		Auth:              res.Config.Auth,
		KnownHostsFiles:   known,
		HostKeyAlias:      hc.HostKeyAlias,
		AcceptNew:         strict == "accept-new" || strict == "no" || strict == "off",
		KeepaliveInterval: o.KeepaliveInterval,
		KeepaliveMax:      hc.ServerAliveCountMax,
		HostKeyAdded:      o.HostKeyAdded,
	}
	if hc.ServerAliveInterval > 0 {
		cfg.KeepaliveInterval = hc.ServerAliveInterval
	}
	r.verbose.printf("StrictHostKeyChecking %s; known_hosts files: %s", strict, strings.Join(known, " "))

	jumps := o.Jump
	proxy := hc.ProxyCommand
	if len(jumps) == 0 && hc.ProxyJump != "" {
		jumps = []string{hc.ProxyJump}
	} else if len(jumps) > 0 {
		proxy = "" // -J wins over the config's ProxyCommand, as in ssh
	}
	hops, err := ParseProxyJump(strings.Join(jumps, ","))
	if err != nil {
		return nil, &DestinationError{Dest: strings.Join(jumps, ","), Reason: err.Error()}
	}
	for _, j := range hops {
		hop, err := r.hop(j, cfg)
		if err != nil {
			return nil, fmt.Errorf("tunnel: jump host %s: %w", j.Host, err)
		}
		cfg.Jump = append(cfg.Jump, hop)
	}
	if proxy != "" && len(hops) == 0 {
		cfg.ProxyCommand = expandProxyCommand(proxy, host, res.Port, res.User, d.Host)
		cfg.ProxyStderr = o.ProxyStderr
		r.verbose.printf("Executing proxy command: %s", cfg.ProxyCommand)
	}
	if o.ShareKnownHosts {
		if err := r.shareKnownHosts(&cfg); err != nil {
			return nil, err
		}
	}
	res.Config = cfg
	return res, nil
}

// LoadKeys reads the keys and asks the agent, once, for a Resolved made
// with ResolveOptions.DeferKeys; otherwise it does nothing. Its errors
// are Resolve's: ErrNoKey, key loading errors; a failure is kept and
// returned again. Not safe for concurrent use with Dial.
func (r *Resolved) LoadKeys() error {
	if r.loadKeys != nil {
		r.keysErr = r.loadKeys()
		r.loadKeys = nil
	}
	return r.keysErr
}

// shareKnownHosts gives cfg and its hops the Resolver's one reading of
// their known_hosts files.
func (r *Resolver) shareKnownHosts(cfg *Config) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	share := func(c *Config) error {
		if c.KnownHosts != nil || c.HostKeyCallback != nil || len(c.KnownHostsFiles) == 0 {
			return nil
		}
		key := strings.Join(c.KnownHostsFiles, "\x00")
		kh, ok := r.known[key]
		if !ok {
			var err error
			if kh, err = ReadKnownHosts(c.KnownHostsFiles...); err != nil {
				return err
			}
			if r.known == nil {
				r.known = map[string]*KnownHosts{}
			}
			r.known[key] = kh
		}
		c.KnownHosts = kh
		return nil
	}
	if err := share(cfg); err != nil {
		return err
	}
	for i := range cfg.Jump {
		if err := share(&cfg.Jump[i]); err != nil {
			return err
		}
	}
	return nil
}

// hop resolves one jump host through ssh_config: its own HostName, User,
// Port; the target's keys and known_hosts files.
func (r *Resolver) hop(j JumpHost, target Config) (Config, error) {
	var pre []directive
	if j.User != "" {
		pre = append(pre, directive{key: "user", args: []string{j.User}, where: "jump"})
	}
	if j.Port != "" {
		pre = append(pre, directive{key: "port", args: []string{j.Port}, where: "jump"})
	}
	hc, err := r.sc.lookup(j.Host, pre)
	if err != nil {
		return Config{}, err
	}
	host := strings.ToLower(firstNonEmpty(hc.HostName, j.Host))
	cfg := target
	cfg.Jump, cfg.ProxyCommand = nil, ""
	cfg.Addr = net.JoinHostPort(host, firstNonEmpty(hc.Port, "22"))
	cfg.User = firstNonEmpty(hc.User, r.opts.LocalUser)
	cfg.HostKeyAlias = hc.HostKeyAlias
	r.verbose.printf("jump host %s as %q", cfg.Addr, cfg.User)
	return cfg, nil
}

func (r *Resolver) checkResolvable(ctx context.Context, host string, fromConfig bool) error {
	lookup := r.opts.LookupHost
	if lookup == nil {
		lookup = net.DefaultResolver.LookupHost
	}
	lctx, cancel := context.WithTimeout(ctx, r.opts.ConnectTimeout)
	defer cancel()
	if _, err := lookup(lctx, host); err != nil {
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
			return &UnknownDestinationError{Host: host, ConfigFile: r.configFile, HostName: fromConfig, Err: err}
		}
	}
	return nil
}

// knownHostsFiles picks the files as ssh does: the option, else
// UserKnownHostsFile, else ~/.ssh/known_hosts; then GlobalKnownHostsFile
// (default /etc/ssh/ssh_known_hosts). Under accept-new a missing first
// file is created (empty, 0600) on the first write.
func (r *Resolver) knownHostsFiles(hc HostConfig) ([]string, error) {
	if len(r.opts.KnownHostsFiles) > 0 {
		return r.opts.KnownHostsFiles, nil
	}
	var files []string
	switch {
	case hc.UserKnownHostsNone:
	case len(hc.UserKnownHostsFiles) > 0:
		files = append(files, hc.UserKnownHostsFiles...)
	case r.opts.Home != "":
		files = append(files, filepath.Join(r.opts.Home, ".ssh", "known_hosts"), filepath.Join(r.opts.Home, ".ssh", "known_hosts2"))
	}
	switch {
	case hc.GlobalKnownHostsNone:
	case len(hc.GlobalKnownHostsFiles) > 0:
		files = append(files, hc.GlobalKnownHostsFiles...)
	default:
		files = append(files, "/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2")
	}
	if len(files) == 0 {
		return nil, &ConfigError{Where: "UserKnownHostsFile", Msg: "no known_hosts file left (none and none): host keys cannot be verified"}
	}
	return files, nil
}

// verboser writes ssh -v lines.
type verboser struct {
	w     io.Writer
	level int
	mu    sync.Mutex
}

// enabled reports whether lines of the given level are written.
func (v *verboser) enabled(level int) bool {
	return v != nil && v.w != nil && v.level >= level
}

func (v *verboser) printf(format string, a ...any) {
	if v == nil || v.w == nil || v.level < 1 {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	fmt.Fprintf(v.w, "debug1: "+format+"\n", a...)
}

func (v *verboser) timing(start time.Time, format string, a ...any) {
	if v == nil || v.w == nil || v.level < 2 {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	fmt.Fprintf(v.w, "debug2: "+format+": %s\n", append(a, time.Since(start).Round(time.Millisecond))...)
}

func localUserName(getenv func(string) string) string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		name := u.Username
		if i := strings.LastIndex(name, `\`); i >= 0 { // DOMAIN\user on Windows
			name = name[i+1:]
		}
		return name
	}
	if u := getenv("USER"); u != "" {
		return u
	}
	return getenv("USERNAME")
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
