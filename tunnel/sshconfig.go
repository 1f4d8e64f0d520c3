package tunnel

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
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
	HostName string
	User     string
	Port     string
	// IdentityFiles accumulate across all matching blocks, in file order,
	// with "~" and the %d %h %p %r %u %% tokens expanded.
	IdentityFiles []string
	// UserKnownHostsFiles is the first UserKnownHostsFile line that applies
	// (it may name several files), expanded like IdentityFiles.
	UserKnownHostsFiles []string
	// ProxyJump is the raw hop list ("user@host:port,host2"); "none" yields "".
	// ParseProxyJump splits it.
	ProxyJump string
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

// ReadSSHConfig parses the ssh_config file at path. A missing file yields an
// empty config and no error; other I/O errors on the top file are returned.
// Relative Include paths are resolved against the directory of path (which is
// ~/.ssh for a user config, as OpenSSH does). Include paths that start with
// "~" need a home directory: use ReadSSHConfigEnv to give one, otherwise they
// are skipped with a warning.
func ReadSSHConfig(path string) (*SSHConfig, error) {
	return ReadSSHConfigEnv(path, LookupEnv{})
}

// ReadSSHConfigEnv is ReadSSHConfig with the caller's environment, which is
// stored in the result's Env field and used for "~" in Include paths.
func ReadSSHConfigEnv(path string, env LookupEnv) (*SSHConfig, error) {
	c := &SSHConfig{Env: env}
	data, err := readConfigFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("tunnel: read ssh config %s: %w", path, err)
	}
	p := parser{cfg: c, baseDir: filepath.Dir(path), home: env.Home}
	p.parse(path, data, nil, 0)
	return c, nil
}

// maxConfigBytes bounds one config file; real ones are a few KiB.
const maxConfigBytes = 4 << 20

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
	cfg     *SSHConfig
	baseDir string
	home    string
}

func (p *parser) warn(where, format string, args ...any) {
	p.cfg.warnings = append(p.cfg.warnings, where+": "+fmt.Sprintf(format, args...))
}

// parse appends the directives of one file. outer are the conditions of the
// Include site (nil at top level); a Host or Match line inside the file
// replaces only the file's own innermost condition, as OpenSSH does.
func (p *parser) parse(name string, data []byte, outer []*condition, depth int) {
	conds := outer
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	lineNo := 0
	for sc.Scan() {
		lineNo++
		where := name + ":" + strconv.Itoa(lineNo)
		key, args, err := splitLine(sc.Text())
		if err != nil {
			p.warn(where, "%v", err)
			continue
		}
		if key == "" {
			continue
		}
		switch key {
		case "host":
			if len(args) == 0 {
				p.warn(where, "Host without patterns, block never applies")
				args = nil
			}
			conds = appendCond(outer, &condition{host: append([]string{}, args...), skip: len(args) == 0})
		case "match":
			cond, msg := parseMatch(args)
			if msg != "" {
				p.warn(where, "%s, block skipped", msg)
			}
			conds = appendCond(outer, cond)
		case "include":
			p.include(where, args, conds, depth)
		default:
			p.cfg.directives = append(p.cfg.directives, directive{key: key, args: args, where: where, conds: conds})
		}
	}
	if err := sc.Err(); err != nil {
		p.warn(name, "%v", err)
	}
}

func appendCond(outer []*condition, c *condition) []*condition {
	out := make([]*condition, 0, len(outer)+1)
	return append(append(out, outer...), c)
}

func (p *parser) include(where string, args []string, conds []*condition, depth int) {
	if depth+1 > maxIncludeDepth {
		p.warn(where, "Include nested deeper than %d, skipped", maxIncludeDepth)
		return
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
			pat = filepath.Join(p.baseDir, pat)
		}
		matches, err := filepath.Glob(pat)
		if err != nil {
			p.warn(where, "Include %s: %v", arg, err)
			continue
		}
		sort.Strings(matches)
		for _, m := range matches {
			data, err := readConfigFile(m)
			if err != nil {
				p.warn(where, "Include %s: %v", m, err)
				continue
			}
			p.parse(m, data, conds, depth+1)
		}
	}
}

// parseMatch turns the arguments of a Match line into a condition. Criteria
// it cannot evaluate make the block inapplicable and return a message.
func parseMatch(args []string) (*condition, string) {
	c := &condition{criteria: []criterion{}}
	if len(args) == 0 {
		c.skip = true
		return c, "Match without criteria"
	}
	for i := 0; i < len(args); i++ {
		name := strings.ToLower(args[i])
		neg := strings.HasPrefix(name, "!")
		name = strings.TrimPrefix(name, "!")
		switch name {
		case "all":
			c.criteria = append(c.criteria, criterion{name: "all", negate: neg})
		case "host", "originalhost", "user", "localuser":
			if i+1 >= len(args) {
				c.skip = true
				return c, fmt.Sprintf("Match %s without an argument", name)
			}
			i++
			c.criteria = append(c.criteria, criterion{name: name, negate: neg, pattern: args[i]})
		default:
			c.skip = true
			return c, fmt.Sprintf("Match %s is not supported", name)
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
// IdentityFile accumulates. Host patterns match the alias; Match host
// matches the HostName obtained so far (or the alias). Patterns support
// "*", "?" and "!negation" and are matched case-insensitively.
func (c *SSHConfig) Lookup(alias string) HostConfig {
	var hc HostConfig
	if c == nil {
		return hc
	}
	alias = strings.ToLower(alias)
	hc.Warnings = append(hc.Warnings, c.warnings...)
	l := lookup{env: c.Env, alias: alias, hc: &hc, memo: map[*condition]bool{}}
	var identities, knownHosts []string
	var knownHostsWhere string
	var identitiesWhere []string
	proxySet := false
	for _, d := range c.directives {
		if !l.applies(d.conds) {
			continue
		}
		switch d.key {
		case "hostname":
			if hc.HostName == "" && len(d.args) > 0 {
				hc.HostName = expandHostName(d.args[0], alias)
			}
		case "user":
			if hc.User == "" && len(d.args) > 0 {
				hc.User = d.args[0]
			}
		case "port":
			if hc.Port == "" && len(d.args) > 0 {
				if n, err := strconv.Atoi(d.args[0]); err != nil || n < 1 || n > 65535 {
					hc.Warnings = append(hc.Warnings, d.where+": bad Port "+strconv.Quote(d.args[0])+", ignored")
				} else {
					hc.Port = d.args[0]
				}
			}
		case "identityfile":
			for _, a := range d.args {
				identities = append(identities, a)
				identitiesWhere = append(identitiesWhere, d.where)
			}
		case "userknownhostsfile":
			if knownHosts == nil && len(d.args) > 0 {
				knownHosts = d.args
				knownHostsWhere = d.where
			}
		case "proxyjump":
			if !proxySet && len(d.args) > 0 {
				proxySet = true
				if !strings.EqualFold(d.args[0], "none") {
					hc.ProxyJump = strings.Join(d.args, ",")
				}
			}
		case "proxycommand":
			if !proxySet && len(d.args) > 0 {
				proxySet = true
				if !strings.EqualFold(d.args[0], "none") {
					hc.Warnings = append(hc.Warnings, d.where+": ProxyCommand is not supported, ignored")
				}
			}
		}
	}
	// Tokens are expanded once everything is known, as OpenSSH does.
	for i, f := range identities {
		hc.IdentityFiles = append(hc.IdentityFiles, l.expandPath(f, identitiesWhere[i]))
	}
	if !(len(knownHosts) == 1 && strings.EqualFold(knownHosts[0], "none")) {
		for _, f := range knownHosts {
			hc.UserKnownHostsFiles = append(hc.UserKnownHostsFiles, l.expandPath(f, knownHostsWhere))
		}
	}
	return hc
}

type lookup struct {
	env   LookupEnv
	alias string
	hc    *HostConfig
	memo  map[*condition]bool
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
		return matchPatternList(l.alias, c.host)
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
		}
		if ok == cr.negate {
			return false
		}
	}
	return true
}

func (l *lookup) hostName() string {
	if l.hc.HostName != "" {
		return strings.ToLower(l.hc.HostName)
	}
	return l.alias
}

func (l *lookup) remoteUser() string {
	if l.hc.User != "" {
		return l.hc.User
	}
	return l.env.LocalUser
}

// matchPatternList reports whether s matches at least one positive pattern
// and no negated one.
func matchPatternList(s string, patterns []string) bool {
	s = strings.ToLower(s)
	matched := false
	for _, p := range patterns {
		p = strings.ToLower(strings.TrimSpace(p))
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
		case 'd':
			if home == "" {
				l.hc.Warnings = append(l.hc.Warnings, where+": no home directory given to expand %d")
			}
			b.WriteString(home)
		default:
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
