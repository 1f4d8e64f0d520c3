package tunnel

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// maxIncludeDepth bounds nested Include directives, as OpenSSH does
// (READCONF_MAX_DEPTH).
const maxIncludeDepth = 16

// LookupEnv carries what token and tilde expansion need from the caller.
// The package never reads $HOME or the process user on its own: a CLI fills
// this from os.UserHomeDir and os/user.
type LookupEnv struct {
	Home      string // replaces a leading "~" and %d; empty: left as is, with a warning
	LocalUser string // %u, the default for %r, and the Match localuser / user criteria
	// Exec runs a Match exec command and reports whether it exited 0; nil
	// runs it with /bin/sh -c, as ssh does.
	Exec func(command string) bool
}

// SSHConfig is a parsed ssh_config(5) file, read leniently: keywords this
// package does not use are ignored, and constructs it cannot evaluate
// (Match exec, Match canonical, unreadable Include files) become warnings
// reported by Lookup instead of errors.
type SSHConfig struct {
	// Env is used by Lookup for expansion of "~" and the %d %u %r tokens.
	// Set it before calling Lookup; ReadSSHConfigEnv sets it for you.
	Env LookupEnv

	directives []directive
	warnings   []string
}

// HostConfig is the part of an ssh_config that a tunnel needs, resolved for
// one host alias. A field the config does not set is empty: the caller picks
// the default (the alias itself for HostName, 22 for Port, the local user for
// User, the default key and known_hosts paths).
type HostConfig struct {
	HostName string // lowercased, as ssh dials it
	User     string
	Port     string // decimal, 1-65535
	// IdentityFiles accumulate across all matching blocks, in file order,
	// with "~" and the %d %h %p %r %u %% tokens expanded.
	IdentityFiles []string
	// CertificateFiles accumulate like IdentityFiles.
	CertificateFiles []string
	// UserKnownHostsFiles is the first UserKnownHostsFile line that applies
	// (it may name several files), expanded like IdentityFiles.
	// UserKnownHostsNone is set for "UserKnownHostsFile none".
	UserKnownHostsFiles []string
	UserKnownHostsNone  bool
	// GlobalKnownHostsFiles and GlobalKnownHostsNone: the same for
	// GlobalKnownHostsFile.
	GlobalKnownHostsFiles []string
	GlobalKnownHostsNone  bool
	// ProxyJump is the raw hop list ("user@host:port,host2"); "none" yields "".
	// ParseProxyJump splits it. ProxyCommand is the command line as
	// written, tokens not yet expanded. Only the first of the two that
	// applies is set, as in ssh.
	ProxyJump    string
	ProxyCommand string
	// StrictHostKeyChecking is yes, no, ask, accept-new or off ("" unset).
	StrictHostKeyChecking string
	// HostKeyAlias names the host in known_hosts instead of HostName.
	HostKeyAlias string
	// ConnectTimeout and ServerAliveInterval: 0 when unset.
	ConnectTimeout      time.Duration
	ServerAliveInterval time.Duration
	// ConnectionAttempts and ServerAliveCountMax: 0 when unset.
	ConnectionAttempts  int
	ServerAliveCountMax int
	IdentitiesOnly      bool
	BatchMode           bool
	// IdentityAgent is a socket path (expanded), "none", "SSH_AUTH_SOCK" or
	// "$VAR"; "" when unset.
	IdentityAgent string
	// Control holds ControlMaster, ControlPath (expanded) and
	// ControlPersist.
	Control ControlSettings
	// Ignored lists keywords that were set but have no effect here, as
	// "file:line: keyword ...", for ssh -v style notes.
	Ignored []string
	// Warnings lists what was skipped or could not be evaluated, as
	// "file:line: message".
	Warnings []string
}

// condition is one Host or Match line; a directive applies when all the
// conditions enclosing it (outer Include sites first) are true.
type condition struct {
	host     []string    // Host patterns (nil for Match)
	criteria []criterion // Match criteria (nil for Host)
	skip     bool        // unsupported Match: never true
}

type criterion struct {
	name    string // all, host, originalhost, user, localuser
	negate  bool
	pattern string // comma-separated pattern list
}

type directive struct {
	key   string // lower-case keyword
	args  []string
	where string // file:line
	conds []*condition
}

// ConfigError is an ssh_config line (or -o option) that ssh would refuse:
// an unknown keyword without IgnoreUnknown, a keyword with no value, a bad
// value, or Include nested too deeply. Where is "file:line".
type ConfigError struct {
	Where string
	Msg   string
	Err   error // the I/O error, if any
}

func (e *ConfigError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("tunnel: ssh config %s: %s: %v", e.Where, e.Msg, e.Err)
	}
	return fmt.Sprintf("tunnel: ssh config %s: %s", e.Where, e.Msg)
}
func (e *ConfigError) Unwrap() error { return e.Err }

// configKind says where relative Include paths are resolved: ~/.ssh for a
// user config (even one given with ssh -F), /etc/ssh for the system one.
type configKind int

const (
	userConfig configKind = iota
	systemConfig
)

// ReadSSHConfig parses the ssh_config file at path. A missing file yields an
// empty config and no error; other I/O errors, and lines ssh would refuse
// (*ConfigError, with file:line), are returned. Relative Include paths are
// resolved against ~/.ssh, as OpenSSH does for a user config: use
// ReadSSHConfigEnv to give the home directory, otherwise they are skipped
// with a warning.
func ReadSSHConfig(path string) (*SSHConfig, error) {
	return ReadSSHConfigEnv(path, LookupEnv{})
}

// ReadSSHConfigEnv is ReadSSHConfig with the caller's environment, which is
// stored in the result's Env field and used for "~" and relative Include
// paths.
func ReadSSHConfigEnv(path string, env LookupEnv) (*SSHConfig, error) {
	c, err := readSSHConfig(path, env, userConfig)
	if errors.Is(err, fs.ErrNotExist) {
		return &SSHConfig{Env: env}, nil
	}
	return c, err
}

func readSSHConfig(path string, env LookupEnv, kind configKind) (*SSHConfig, error) {
	c := &SSHConfig{Env: env}
	data, err := readConfigFile(path)
	if err != nil {
		return nil, fmt.Errorf("tunnel: read ssh config %s: %w", path, err)
	}
	p := parser{cfg: c, home: env.Home}
	switch {
	case kind == systemConfig:
		p.baseDir = "/etc/ssh"
	case env.Home != "":
		p.baseDir = filepath.Join(env.Home, ".ssh")
	}
	if err := p.parse(path, data, nil, 0); err != nil {
		return nil, err
	}
	return c, nil
}

// parseCommandLine parses ssh -o options ("Key=Value" or "Key Value") with
// the config file's rules; Host, Match and Include are refused there.
func parseCommandLine(options []string, env LookupEnv) ([]directive, error) {
	c := &SSHConfig{Env: env}
	p := parser{cfg: c, home: env.Home}
	for i, o := range options {
		where := fmt.Sprintf("-o %q", o)
		key, args, err := splitLine(o)
		if err != nil {
			return nil, &ConfigError{Where: where, Msg: err.Error()}
		}
		switch key {
		case "":
			return nil, &ConfigError{Where: where, Msg: "empty option"}
		case "host", "match", "include":
			return nil, &ConfigError{Where: where, Msg: "not allowed on the command line"}
		}
		if err := p.directive(where, key, args, nil, i); err != nil {
			return nil, err
		}
	}
	return c.directives, nil
}

// maxConfigBytes bounds one config file; real ones are a few KiB.
const maxConfigBytes = 4 << 20

// maxIncludedFiles bounds the files one config may read through Include,
// so that includes fanning out to each other cannot take exponential work.
const maxIncludedFiles = 256

// readConfigFile reads a regular file of at most maxConfigBytes, so that an
// Include of /dev/zero, a FIFO or a directory cannot hang or exhaust memory.
func readConfigFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxConfigBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxConfigBytes)
	}
	return data, nil
}

type parser struct {
	cfg      *SSHConfig
	baseDir  string
	home     string
	included int
	ignore   []string // IgnoreUnknown patterns seen so far
}

func (p *parser) warn(where, format string, args ...any) {
	p.cfg.warnings = append(p.cfg.warnings, where+": "+fmt.Sprintf(format, args...))
}

// parse appends the directives of one file. outer are the conditions of the
// Include site (nil at top level); a Host or Match line inside the file
// replaces only the file's own innermost condition, as OpenSSH does. Lines
// of any length are read.
func (p *parser) parse(name string, data []byte, outer []*condition, depth int) error {
	conds := outer
	lineNo := 0
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		lineNo++
		where := name + ":" + strconv.Itoa(lineNo)
		key, args, err := splitLine(string(line))
		if err != nil {
			return &ConfigError{Where: where, Msg: err.Error()}
		}
		if key == "" {
			continue
		}
		switch key {
		case "host":
			if len(args) == 0 {
				return &ConfigError{Where: where, Msg: "Host directive with no patterns"}
			}
			conds = appendCond(outer, &condition{host: append([]string{}, args...)})
		case "match":
			cond, msg := parseMatch(args)
			if cond == nil {
				return &ConfigError{Where: where, Msg: msg}
			}
			if msg != "" {
				p.warn(where, "%s, block skipped", msg)
			}
			conds = appendCond(outer, cond)
		case "include":
			if len(args) == 0 {
				return &ConfigError{Where: where, Msg: "Include: missing argument"}
			}
			if err := p.include(where, args, conds, depth); err != nil {
				return err
			}
		default:
			if err := p.directive(where, key, args, conds, lineNo); err != nil {
				return err
			}
		}
	}
	return nil
}

// directive checks one keyword line as ssh does and records it.
func (p *parser) directive(where, key string, args []string, conds []*condition, _ int) error {
	kw, known := keywords[key]
	if !known {
		for _, pat := range p.ignore {
			if matchPatternList(key, strings.Split(pat, ",")) {
				return nil
			}
		}
		return &ConfigError{Where: where, Msg: fmt.Sprintf("bad configuration option: %s", key)}
	}
	if len(args) == 0 || (len(args) == 1 && args[0] == "" && kw.single) {
		return &ConfigError{Where: where, Msg: fmt.Sprintf("%s: missing argument", key)}
	}
	if kw.single && len(args) > 1 {
		return &ConfigError{Where: where, Msg: fmt.Sprintf("%s: garbage at end of line", key)}
	}
	if kw.check != nil {
		if msg := kw.check(args); msg != "" {
			return &ConfigError{Where: where, Msg: key + ": " + msg}
		}
	}
	if key == "ignoreunknown" {
		p.ignore = append(p.ignore, strings.ToLower(args[0]))
	}
	p.cfg.directives = append(p.cfg.directives, directive{key: key, args: args, where: where, conds: conds})
	return nil
}

func appendCond(outer []*condition, c *condition) []*condition {
	out := make([]*condition, 0, len(outer)+1)
	return append(append(out, outer...), c)
}

func (p *parser) include(where string, args []string, conds []*condition, depth int) error {
	if depth+1 > maxIncludeDepth {
		return &ConfigError{Where: where, Msg: "too many recursive configuration includes"}
	}
	for _, arg := range args {
		pat := arg
		switch {
		case pat == "~" || strings.HasPrefix(pat, "~/"):
			if p.home == "" {
				p.warn(where, "Include %s: no home directory given, skipped", arg)
				continue
			}
			pat = filepath.Join(p.home, pat[1:])
		case strings.HasPrefix(pat, "~"):
			p.warn(where, "Include %s: ~user is not supported, skipped", arg)
			continue
		case !filepath.IsAbs(pat):
			if p.baseDir == "" {
				p.warn(where, "Include %s: no home directory given, skipped", arg)
				continue
			}
			pat = filepath.Join(p.baseDir, pat)
		}
		matches, err := filepath.Glob(pat)
		if err != nil {
			p.warn(where, "Include %s: %v", arg, err)
			continue
		}
		sort.Strings(matches)
		for _, m := range matches {
			p.included++
			if p.included > maxIncludedFiles {
				return &ConfigError{Where: where, Msg: fmt.Sprintf("Include: more than %d files included in all", maxIncludedFiles)}
			}
			data, err := readConfigFile(m)
			if err != nil {
				p.warn(where, "Include %s: %v", m, err)
				continue
			}
			if err := p.parse(m, data, conds, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// parseMatch turns the arguments of a Match line into a condition. A
// syntax ssh refuses returns nil and the message; criteria this package
// cannot evaluate (canonical, final) make the block inapplicable and
// return a warning.
func parseMatch(args []string) (*condition, string) {
	c := &condition{criteria: []criterion{}}
	if len(args) == 0 {
		return nil, "Match: missing criteria"
	}
	for i := 0; i < len(args); i++ {
		name := strings.ToLower(args[i])
		neg := strings.HasPrefix(name, "!")
		name = strings.TrimPrefix(name, "!")
		switch name {
		case "all":
			c.criteria = append(c.criteria, criterion{name: "all", negate: neg})
		case "canonical", "final":
			c.skip = true
			return c, fmt.Sprintf("Match %s is not supported", name)
		case "host", "originalhost", "user", "localuser", "exec":
			if i+1 >= len(args) {
				return nil, fmt.Sprintf("Match %s: missing argument", name)
			}
			i++
			c.criteria = append(c.criteria, criterion{name: name, negate: neg, pattern: args[i]})
		default:
			return nil, fmt.Sprintf("Match: unsupported attribute %q", args[i])
		}
	}
	return c, ""
}

// splitLine splits one config line into a lower-case keyword and its
// arguments. It accepts "Key value", "Key=value" and "Key = value", double
// and single quotes, and comments (a "#" that starts a token).
func splitLine(line string) (string, []string, error) {
	s := strings.TrimSpace(line)
	if s == "" || s[0] == '#' {
		return "", nil, nil
	}
	end := strings.IndexAny(s, " \t=")
	if end < 0 {
		return strings.ToLower(s), nil, nil
	}
	key := strings.ToLower(s[:end])
	rest := strings.TrimLeft(s[end:], " \t")
	if strings.HasPrefix(rest, "=") {
		rest = strings.TrimLeft(rest[1:], " \t")
	}
	switch key {
	case "proxycommand", "localcommand", "remotecommand", "knownhostscommand":
		// ssh keeps the rest of the line as it is: a shell command.
		if rest == "" {
			return key, nil, nil
		}
		return key, []string{rest}, nil
	}
	args, err := splitArgs(rest)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", key, err)
	}
	return key, args, nil
}

func splitArgs(s string) ([]string, error) {
	var args []string
	var cur strings.Builder
	inArg := false
	var quote byte
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case quote != 0:
			if ch == quote {
				quote = 0
				continue
			}
			if ch == '\\' && i+1 < len(s) && (s[i+1] == quote || s[i+1] == '\\') {
				i++
				ch = s[i]
			}
			cur.WriteByte(ch)
		case ch == ' ' || ch == '\t':
			if inArg {
				args = append(args, cur.String())
				cur.Reset()
				inArg = false
			}
		case ch == '#' && !inArg:
			return args, nil
		case ch == '"' || ch == '\'':
			quote = ch
			inArg = true
		case ch == '\\' && i+1 < len(s) && strings.IndexByte(`"' \`, s[i+1]) >= 0:
			i++
			cur.WriteByte(s[i])
			inArg = true
		default:
			cur.WriteByte(ch)
			inArg = true
		}
	}
	if quote != 0 {
		return nil, errors.New("unterminated quote")
	}
	if inArg {
		args = append(args, cur.String())
	}
	return args, nil
}

// Lookup resolves the settings for alias (what the user typed as the host)
// with OpenSSH semantics: directives apply in file order when their Host or
// Match conditions hold, the first value obtained for a keyword wins, and
// IdentityFile and CertificateFile accumulate. Host patterns match the
// alias as typed, case-sensitively; Match host (against the HostName
// obtained so far) and Match originalhost ignore case. Patterns support
// "*", "?" and "!negation". HostName is returned lowercased, as ssh dials
// and looks it up.
func (c *SSHConfig) Lookup(alias string) HostConfig {
	hc, _ := c.lookup(alias, nil)
	return hc
}

// lookup is Lookup with directives that come before the file's (the
// command line's, first value wins).
func (c *SSHConfig) lookup(alias string, pre []directive) (HostConfig, error) {
	var hc HostConfig
	if c == nil {
		c = &SSHConfig{}
	}
	hc.Warnings = append(hc.Warnings, c.warnings...)
	l := lookup{env: c.Env, alias: alias, hc: &hc, memo: map[*condition]bool{}}
	var identities, certs, knownHosts, globalKnownHosts []string
	var knownHostsWhere, globalWhere string
	var identitiesWhere, certsWhere []string
	var controlPath, controlWhere string
	seen := map[string]bool{}
	proxySet := false
	all := append(append([]directive(nil), pre...), c.directives...)
	for _, d := range all {
		if !l.applies(d.conds) {
			continue
		}
		first := !seen[d.key]
		seen[d.key] = true
		arg := d.args[0]
		switch d.key {
		case "hostname":
			if first {
				hc.HostName = strings.ToLower(expandHostName(arg, alias))
			}
		case "user":
			if first {
				hc.User = arg
			}
		case "port":
			if first {
				n, _ := parsePort(arg)
				hc.Port = strconv.Itoa(n)
			}
		case "identityfile":
			identities = append(identities, arg)
			identitiesWhere = append(identitiesWhere, d.where)
		case "certificatefile":
			certs = append(certs, arg)
			certsWhere = append(certsWhere, d.where)
		case "userknownhostsfile":
			if first {
				knownHosts, knownHostsWhere = d.args, d.where
			}
		case "globalknownhostsfile":
			if first {
				globalKnownHosts, globalWhere = d.args, d.where
			}
		case "proxyjump":
			if !proxySet {
				proxySet = true
				if !strings.EqualFold(arg, "none") {
					hc.ProxyJump = arg
				}
			}
		case "proxycommand":
			if !proxySet {
				proxySet = true
				if !strings.EqualFold(arg, "none") {
					hc.ProxyCommand = arg
				}
			}
		case "stricthostkeychecking":
			if first {
				hc.StrictHostKeyChecking = strings.ToLower(arg)
				switch hc.StrictHostKeyChecking {
				case "true":
					hc.StrictHostKeyChecking = "yes"
				case "false":
					hc.StrictHostKeyChecking = "no"
				}
			}
		case "hostkeyalias":
			if first {
				hc.HostKeyAlias = strings.ToLower(arg)
			}
		case "connecttimeout":
			if first {
				hc.ConnectTimeout, _ = parseSeconds(arg)
			}
		case "connectionattempts":
			if first {
				hc.ConnectionAttempts, _ = strconv.Atoi(arg)
			}
		case "serveraliveinterval":
			if first {
				hc.ServerAliveInterval, _ = parseSeconds(arg)
			}
		case "serveralivecountmax":
			if first {
				hc.ServerAliveCountMax, _ = strconv.Atoi(arg)
			}
		case "identitiesonly":
			if first {
				hc.IdentitiesOnly = isYes(arg)
			}
		case "batchmode":
			if first {
				hc.BatchMode = isYes(arg)
			}
		case "identityagent":
			if first {
				hc.IdentityAgent = arg
			}
		case "controlmaster":
			if first {
				hc.Control.Master = controlMaster(arg)
			}
		case "controlpath":
			if first {
				controlPath, controlWhere = arg, d.where
			}
		case "controlpersist":
			if first {
				hc.Control.Persist, hc.Control.PersistSet = controlPersist(arg), true
			}
		default:
			if first && keywords[d.key].status == KeywordIgnored {
				hc.Ignored = append(hc.Ignored, d.where+": "+d.key+" is read but has no effect here")
			}
		}
	}
	// Tokens are expanded once everything is known, as OpenSSH does.
	for i, f := range identities {
		hc.IdentityFiles = append(hc.IdentityFiles, l.expandPath(f, identitiesWhere[i]))
	}
	for i, f := range certs {
		hc.CertificateFiles = append(hc.CertificateFiles, l.expandPath(f, certsWhere[i]))
	}
	if len(knownHosts) == 1 && strings.EqualFold(knownHosts[0], "none") {
		hc.UserKnownHostsNone = true
	} else {
		for _, f := range knownHosts {
			hc.UserKnownHostsFiles = append(hc.UserKnownHostsFiles, l.expandPath(f, knownHostsWhere))
		}
	}
	if len(globalKnownHosts) == 1 && strings.EqualFold(globalKnownHosts[0], "none") {
		hc.GlobalKnownHostsNone = true
	} else {
		for _, f := range globalKnownHosts {
			hc.GlobalKnownHostsFiles = append(hc.GlobalKnownHostsFiles, l.expandPath(f, globalWhere))
		}
	}
	if hc.IdentityAgent != "" && !strings.EqualFold(hc.IdentityAgent, "none") && hc.IdentityAgent != "SSH_AUTH_SOCK" && !strings.HasPrefix(hc.IdentityAgent, "$") {
		hc.IdentityAgent = l.expandPath(hc.IdentityAgent, "IdentityAgent")
	}
	if controlPath != "" {
		hc.Control.Path = l.expandControlPath(controlPath, controlWhere)
	}
	return hc, nil
}

func isYes(s string) bool {
	return strings.EqualFold(s, "yes") || strings.EqualFold(s, "true")
}

type lookup struct {
	env   LookupEnv
	alias string
	hc    *HostConfig
	memo  map[*condition]bool
	extra map[byte]string // more tokens, while expanding a ControlPath
}

// applies evaluates conditions the first time a directive under them is
// reached, so Match host sees the HostName obtained by earlier lines.
func (l *lookup) applies(conds []*condition) bool {
	for _, c := range conds {
		v, ok := l.memo[c]
		if !ok {
			v = l.eval(c)
			l.memo[c] = v
		}
		if !v {
			return false
		}
	}
	return true
}

func (l *lookup) eval(c *condition) bool {
	if c.skip {
		return false
	}
	if c.criteria == nil {
		return matchPatternListCase(l.alias, c.host)
	}
	for _, cr := range c.criteria {
		var ok bool
		switch cr.name {
		case "all":
			ok = true
		case "host":
			ok = matchPatternList(l.hostName(), strings.Split(cr.pattern, ","))
		case "originalhost":
			ok = matchPatternList(l.alias, strings.Split(cr.pattern, ","))
		case "user":
			ok = matchPatternList(l.remoteUser(), strings.Split(cr.pattern, ","))
		case "localuser":
			ok = matchPatternList(l.env.LocalUser, strings.Split(cr.pattern, ","))
		case "exec":
			ok = l.exec(cr.pattern)
		}
		if ok == cr.negate {
			return false
		}
	}
	return true
}

func (l *lookup) hostName() string {
	if l.hc.HostName != "" {
		return l.hc.HostName
	}
	return strings.ToLower(l.alias)
}

// exec runs a Match exec command through /bin/sh -c, tokens expanded as
// ssh does; it matches when the command exits 0.
func (l *lookup) exec(command string) bool {
	command = l.expandTokens(command, "Match exec")
	if l.env.Exec != nil {
		return l.env.Exec(command)
	}
	return exec.Command("/bin/sh", "-c", command).Run() == nil
}

func (l *lookup) remoteUser() string {
	if l.hc.User != "" {
		return l.hc.User
	}
	return l.env.LocalUser
}

// matchPatternList reports whether s matches at least one positive pattern
// and no negated one, ignoring case (Match host, originalhost, user).
func matchPatternList(s string, patterns []string) bool {
	lower := make([]string, len(patterns))
	for i, p := range patterns {
		lower[i] = strings.ToLower(p)
	}
	return matchPatternListCase(strings.ToLower(s), lower)
}

// matchPatternListCase is matchPatternList with case significant, as ssh
// matches Host patterns against the destination as typed.
func matchPatternListCase(s string, patterns []string) bool {
	matched := false
	for _, p := range patterns {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if neg, ok := strings.CutPrefix(p, "!"); ok {
			if matchPattern(s, neg) {
				return false
			}
			continue
		}
		if matchPattern(s, p) {
			matched = true
		}
	}
	return matched
}

// matchPattern implements ssh's "*" and "?" wildcards (no character classes).
func matchPattern(s, p string) bool {
	// Iterative glob with backtracking on the last "*".
	si, pi := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == s[si]):
			si++
			pi++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// expandHostName expands the tokens HostName allows: %h (the alias) and %%.
func expandHostName(v, alias string) string {
	if !strings.Contains(v, "%") {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '%' && i+1 < len(v) {
			switch v[i+1] {
			case 'h':
				b.WriteString(alias)
				i++
				continue
			case '%':
				b.WriteByte('%')
				i++
				continue
			}
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// expandPath expands a leading "~" and the tokens %d %h %n %p %r %u %% in an
// IdentityFile or UserKnownHostsFile value. Unknown tokens and a "~" without
// a home directory are left as they are, with a warning.
func (l *lookup) expandPath(v, where string) string {
	home := l.env.Home
	if v == "~" || strings.HasPrefix(v, "~/") {
		if home == "" {
			l.hc.Warnings = append(l.hc.Warnings, where+": no home directory given to expand "+v)
		} else {
			v = filepath.Join(home, v[1:])
		}
	}
	return l.expandTokens(v, where)
}

// expandTokens expands %d %h %n %p %r %u %% (and %L, %l: the local host
// name) in v.
func (l *lookup) expandTokens(v, where string) string {
	home := l.env.Home
	if !strings.Contains(v, "%") {
		return v
	}
	port := l.hc.Port
	if port == "" {
		port = "22"
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] != '%' || i+1 >= len(v) {
			b.WriteByte(v[i])
			continue
		}
		i++
		switch v[i] {
		case '%':
			b.WriteByte('%')
		case 'h':
			b.WriteString(l.hostName())
		case 'n':
			b.WriteString(l.alias)
		case 'p':
			b.WriteString(port)
		case 'r':
			b.WriteString(l.remoteUser())
		case 'u':
			b.WriteString(l.env.LocalUser)
		case 'l', 'L':
			name, _ := os.Hostname()
			if v[i] == 'L' {
				name, _, _ = strings.Cut(name, ".")
			}
			b.WriteString(name)
		case 'd':
			if home == "" {
				l.hc.Warnings = append(l.hc.Warnings, where+": no home directory given to expand %d")
			}
			b.WriteString(home)
		default:
			if t, ok := l.extra[v[i]]; ok {
				b.WriteString(t)
				continue
			}
			l.hc.Warnings = append(l.hc.Warnings, where+": token %"+string(v[i])+" is not supported, left as is")
			b.WriteByte('%')
			b.WriteByte(v[i])
		}
	}
	return b.String()
}

// JumpHost is one hop of a ProxyJump list.
type JumpHost struct {
	User string // empty: not given
	Host string // without brackets, e.g. "::1"
	Port string // empty: not given
}

// ParseProxyJump splits a ProxyJump value (or an ssh -J argument) into hops,
// outermost first: a comma-separated list of [user@]host[:port] or
// ssh://[user@]host[:port], with IPv6 addresses in brackets. "none" and ""
// yield no hops.
func ParseProxyJump(spec string) ([]JumpHost, error) {
	if spec == "" || strings.EqualFold(spec, "none") {
		return nil, nil
	}
	var hops []JumpHost
	for _, part := range strings.Split(spec, ",") {
		h, err := parseJumpHost(strings.TrimSpace(part))
		if err != nil {
			return nil, fmt.Errorf("tunnel: proxy jump %q: %w", spec, err)
		}
		hops = append(hops, h)
	}
	return hops, nil
}

func parseJumpHost(s string) (JumpHost, error) {
	var h JumpHost
	orig := s
	s = strings.TrimPrefix(s, "ssh://")
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		h.User, s = s[:i], s[i+1:]
		if h.User == "" {
			return h, fmt.Errorf("empty user in %q", orig)
		}
	}
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return h, fmt.Errorf("missing ] in %q", orig)
		}
		h.Host, s = s[1:end], s[end+1:]
		if s != "" {
			if !strings.HasPrefix(s, ":") {
				return h, fmt.Errorf("junk after ] in %q", orig)
			}
			h.Port = s[1:]
		}
	case strings.Count(s, ":") > 1:
		return h, fmt.Errorf("IPv6 address must be in brackets in %q", orig)
	default:
		h.Host, h.Port, _ = strings.Cut(s, ":")
		if strings.HasSuffix(s, ":") {
			return h, fmt.Errorf("empty port in %q", orig)
		}
	}
	if h.Host == "" || strings.ContainsAny(h.Host, "/ \t") {
		return h, fmt.Errorf("bad host in %q", orig)
	}
	if h.Port != "" {
		if n, err := strconv.Atoi(h.Port); err != nil || n < 1 || n > 65535 {
			return h, fmt.Errorf("bad port in %q", orig)
		}
	}
	return h, nil
}
