package tunnel

import (
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// TestSSHConfigMatchesSSHG resolves each config with `ssh -G` (OpenSSH's
// own parser) and with this package, and compares what decides where and
// how we connect: host, user, port, identity and certificate files,
// known_hosts files, proxy settings, host key alias, strictness and the
// timing keywords. A config ssh refuses must be refused here too.
// Relative Include paths are not used: ssh resolves them against the real
// ~/.ssh, which a test must not write (TestSSHConfigInclude covers them).
func TestSSHConfigMatchesSSHG(t *testing.T) {
	t.Parallel()
	sshPath, err := exec.LookPath("ssh")
	if err != nil {
		t.Skip("ssh not installed")
	}
	u, err := user.Current()
	if err != nil {
		t.Skip(err)
	}
	home, local := u.HomeDir, u.Username
	type file struct{ name, content string }
	tests := []struct {
		name   string
		config string
		dest   string
		extra  []file // written beside the config; @DIR@ is replaced by its directory
	}{
		{name: "empty config", config: "", dest: "plain"},
		{name: "host alias", config: "Host lab\n  HostName 10.1.2.3\n  User ubuntu\n  Port 2222\n", dest: "lab"},
		{name: "host patterns are case-sensitive", config: "Host web1\n  User lower\nHost WEB1\n  User upper\n", dest: "WEB1"},
		{name: "lower pattern does not match upper destination", config: "Host web1\n  User lower\n", dest: "WEB1"},
		{name: "hostname is lowercased", config: "Host lab\n  HostName Lab.Example.COM\n", dest: "lab"},
		{name: "destination is lowercased", config: "", dest: "MiXeD.Example.org"},
		{name: "match host ignores case", config: "Host lab\n  HostName Real.Example\nMatch host REAL.example\n  Port 2200\n", dest: "lab"},
		{name: "match originalhost ignores case", config: "Match originalhost FOO\n  Port 99\n", dest: "foo"},
		{name: "match originalhost upper dest", config: "Match originalhost foo\n  Port 98\n", dest: "FOO"},
		{name: "first value wins", config: "Host a\n  User first\nHost *\n  User second\n  Port 23\nHost a\n  Port 24\n", dest: "a"},
		{name: "identity files accumulate", config: "IdentityFile /k0\nHost a\n  IdentityFile /k1\nHost *\n  IdentityFile /k2\n", dest: "a"},
		{name: "default identity files", config: "Host other\n  IdentityFile /x\n", dest: "a"},
		{name: "negation", config: "Host db-* !db-legacy\n  User dba\nHost *\n  User any\n", dest: "db-legacy"},
		{name: "negation positive", config: "Host db-* !db-legacy\n  User dba\nHost *\n  User any\n", dest: "db-main"},
		{name: "negation alone never matches", config: "Host !x\n  User nx\n", dest: "y"},
		{name: "question mark", config: "Host web?\n  User q\n", dest: "web10"},
		{name: "question mark matches one", config: "Host web?\n  User q\n", dest: "web1"},
		{name: "star in the middle", config: "Host *.prod.*\n  Port 2020\n", dest: "a.prod.b"},
		{name: "equals syntax", config: "Host=a\nHostName = h.example\nUser=u\nPORT\t=\t23\n", dest: "a"},
		{name: "quoted identity", config: "IdentityFile \"/a b/c d\"\n", dest: "a"},
		{name: "trailing comment", config: "Host a # comment\n  User u # another\n", dest: "a"},
		{name: "tokens in identity", config: "Host y\n  HostName %h.ex\n  Port 2\n  User r\n  IdentityFile /k/%h/%p/%r/%u/%n/%d/%%\n", dest: "y"},
		{name: "tilde identity", config: "IdentityFile ~/.ssh/id_custom\n", dest: "a"},
		{name: "hostname token", config: "Host *.short\n  HostName %h.long.example\n", dest: "x.short"},
		{name: "match user", config: "Match user dba\n  Port 5432\n", dest: "dba@h"},
		{name: "match user no", config: "Match user dba\n  Port 5432\n", dest: "other@h"},
		{name: "match user from config", config: "Host h\n  User dba\nMatch user dba\n  Port 5433\n", dest: "h"},
		{name: "match localuser", config: "Match localuser " + local + "\n  User mine\n", dest: "h"},
		{name: "match localuser negated", config: "Match !localuser " + local + "\n  User notmine\n", dest: "h"},
		{name: "match exec true", config: "Match exec \"test %h = lab\"\n  User execd\n", dest: "lab"},
		{name: "match exec false", config: "Match exec \"test %h = lab\"\n  User execd\n", dest: "other"},
		{name: "match all", config: "Match all\n  User every\n", dest: "h"},
		{name: "match host and user", config: "Match host *.internal user dba\n  Port 6000\nHost db\n  HostName db.internal\n  User dba\n", dest: "db"},
		{name: "ssh url destination", config: "Host h\n  User cfg\n  Port 1\n", dest: "ssh://me@h:2022"},
		{name: "user at destination wins", config: "Host h\n  User cfg\n", dest: "me@h"},
		{name: "proxyjump", config: "Host h\n  ProxyJump a@b:2,c\n", dest: "h"},
		{name: "proxyjump none", config: "Host h\n  ProxyJump none\nHost *\n  ProxyJump b\n", dest: "h"},
		{name: "proxycommand", config: "Host h\n  ProxyCommand ssh -W %h:%p \"bastion host\"\n", dest: "h"},
		{name: "first of proxyjump and proxycommand wins", config: "Host h\n  ProxyCommand nc %h %p\n  ProxyJump b\n", dest: "h"},
		{name: "proxyjump before proxycommand", config: "Host h\n  ProxyJump b\nHost *\n  ProxyCommand nc %h %p\n", dest: "h"},
		{name: "proxycommand none", config: "Host h\n  ProxyCommand none\nHost *\n  ProxyCommand nc %h %p\n", dest: "h"},
		{name: "known hosts files", config: "UserKnownHostsFile ~/kh/%h %d/x\nGlobalKnownHostsFile /g1 /g2\n", dest: "h"},
		{name: "known hosts none", config: "UserKnownHostsFile none\nGlobalKnownHostsFile none\n", dest: "h"},
		{name: "strict and alias", config: "StrictHostKeyChecking accept-new\nHostKeyAlias MyAlias\n", dest: "h"},
		{name: "strict yes", config: "StrictHostKeyChecking yes\n", dest: "h"},
		{name: "strict no", config: "StrictHostKeyChecking no\n", dest: "h"},
		{name: "timeouts", config: "ConnectTimeout 1m30s\nServerAliveInterval 15\nServerAliveCountMax 5\nConnectionAttempts 3\n", dest: "h"},
		{name: "batchmode and identities only", config: "BatchMode yes\nIdentitiesOnly yes\nIdentityAgent ~/agent.sock\nCertificateFile ~/c/%r-cert.pub\n", dest: "h"},
		{name: "ignore unknown", config: "IgnoreUnknown UseKeychain,Foo*\nUseKeychain yes\nFooBar 1\nUser u\n", dest: "h"},
		{name: "port forms", config: "Host a\n  Port +022\n", dest: "a"},
		{name: "quoted port", config: "Port \"2223\"\n", dest: "a"},
		{name: "long line", config: "# " + strings.Repeat("x", 1536<<10) + "\nHost a\n  User afterlong\n  IdentityFile /" + strings.Repeat("k", 5000) + "\n", dest: "a"},
		{name: "include absolute", config: "Include @DIR@/inc.d/*\nHost *\n  User star\n", dest: "work",
			extra: []file{{"inc.d/10", "Host work\n  User worker\n  Port 7\n"}, {"inc.d/20", "Host work\n  User never\n"}}},
		{name: "include inside host block", config: "Host a\n  Include @DIR@/inc\nHost *\n  User star\n", dest: "b",
			extra: []file{{"inc", "User fromInclude\nHost *\nPort 11\n"}}},
		{name: "include cycle", config: "Include @DIR@/config\nUser loop\n", dest: "a"},
		{name: "include fan-out cycle", config: "Include @DIR@/config @DIR@/config @DIR@/config\n", dest: "a"},
		{name: "control keywords", config: "Host lab\n  HostName Real.Example\n  User bob\n  Port 2222\n  ControlPath ~/.ssh/cm-%C-%h-%p-%r-%u-%L-%l-%n-%i-%k-%d-%%\n  ControlMaster auto\n  ControlPersist 10m\n", dest: "lab"},
		{name: "control path none", config: "ControlMaster true\nControlPath none\nControlPersist yes\n", dest: "h"},
		{name: "control persist zero", config: "ControlPersist 0\nControlMaster autoask\nHostKeyAlias Kal\nControlPath /x/%k/%C\n", dest: "h"},
		{name: "control persist no", config: "ControlMaster false\nControlPersist no\n", dest: "h"},
		{name: "control path first wins", config: "Host h\n  ControlPath /first/%h-%p\nHost *\n  ControlPath /second\n  ControlPersist 1m30s\n", dest: "ssh://u@h:2200"},
		{name: "refused control master value", config: "ControlMaster maybe\n", dest: "h"},
		{name: "refused control persist value", config: "ControlPersist soon\n", dest: "h"},
		{name: "refused unknown keyword", config: "Host a\n  Frobnicate yes\n", dest: "a"},
		{name: "refused missing value", config: "User\n", dest: "a"},
		{name: "refused hex port", config: "Port 0x16\n", dest: "a"},
		{name: "refused port zero", config: "Port 0\n", dest: "a"},
		{name: "refused port too big", config: "Port 70000\n", dest: "a"},
		{name: "refused port extra words", config: "Port 22 23\n", dest: "a"},
		{name: "refused bad port in unmatched block", config: "Host zzz\n  Port nope\n", dest: "a"},
	}
	// Each config is written, and ssh -G run on it, before the checks:
	// the ssh processes run several at a time, as they spend most of their
	// time starting, not computing.
	type sshG struct {
		cfgPath string
		out     []byte
		err     error
	}
	res := make([]sshG, len(tests))
	for i, tt := range tests {
		dir := t.TempDir()
		res[i].cfgPath = filepath.Join(dir, "config")
		for _, f := range append(tt.extra, file{"config", tt.config}) {
			p := filepath.Join(dir, f.name)
			if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(strings.ReplaceAll(f.content, "@DIR@", dir)), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i, tt := range tests {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			res[i].out, res[i].err = exec.Command(sshPath, "-G", "-F", res[i].cfgPath, tt.dest).Output()
		})
	}
	wg.Wait()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfgPath, out, sshErr := res[i].cfgPath, res[i].out, res[i].err

			env := LookupEnv{Home: home, LocalUser: local}
			var hc HostConfig
			sc, err := readSSHConfig(cfgPath, env, userConfig)
			var d Destination
			if err == nil {
				d, err = ParseDestination(tt.dest)
			}
			if err == nil {
				var pre []directive
				if d.User != "" {
					pre = append(pre, directive{key: "user", args: []string{d.User}})
				}
				if d.Port != "" {
					pre = append(pre, directive{key: "port", args: []string{d.Port}})
				}
				hc, err = sc.lookup(d.Host, pre)
			}
			if (sshErr != nil) != (err != nil) {
				t.Fatalf("ssh -G error = %v, ours = %v: want both to fail or both to succeed", sshErr, err)
			}
			if sshErr != nil {
				return
			}
			want := map[string][]string{}
			for _, line := range strings.Split(string(out), "\n") {
				if k, v, ok := strings.Cut(line, " "); ok {
					want[k] = append(want[k], v)
				}
			}
			host := firstNonEmpty(hc.HostName, strings.ToLower(d.Host))
			port := firstNonEmpty(hc.Port, "22")
			userName := firstNonEmpty(hc.User, local)
			expand := strings.NewReplacer("~", home, "%h", host, "%r", userName, "%u", local, "%p", port, "%d", home, "%n", d.Host, "%%", "%")
			check := func(field string, got []string, raw bool) {
				t.Helper()
				w := want[field]
				if !raw {
					for i := range w {
						w[i] = expand.Replace(w[i])
					}
				}
				if strings.Join(got, "\x00") != strings.Join(w, "\x00") {
					t.Errorf("%s = %q, ssh -G says %q", field, got, w)
				}
			}
			one := func(v string) []string { return []string{v} }
			check("hostname", one(host), true)
			check("user", one(userName), true)
			check("port", one(port), true)
			ids := hc.IdentityFiles
			if len(ids) == 0 {
				for _, n := range defaultIdentities {
					ids = append(ids, filepath.Join(home, ".ssh", n))
				}
			}
			check("identityfile", ids, false)
			check("certificatefile", hc.CertificateFiles, false)
			ukh := hc.UserKnownHostsFiles
			switch {
			case hc.UserKnownHostsNone:
				ukh = []string{"none"}
			case len(ukh) == 0:
				ukh = []string{filepath.Join(home, ".ssh/known_hosts") + " " + filepath.Join(home, ".ssh/known_hosts2")}
			default:
				ukh = []string{strings.Join(ukh, " ")}
			}
			check("userknownhostsfile", ukh, true)
			gkh := []string{"/etc/ssh/ssh_known_hosts /etc/ssh/ssh_known_hosts2"}
			switch {
			case hc.GlobalKnownHostsNone:
				gkh = []string{"none"}
			case len(hc.GlobalKnownHostsFiles) > 0:
				gkh = []string{strings.Join(hc.GlobalKnownHostsFiles, " ")}
			}
			check("globalknownhostsfile", gkh, true)
			opt := func(v string) []string {
				if v == "" {
					return nil
				}
				return []string{v}
			}
			check("proxyjump", opt(hc.ProxyJump), true)
			check("proxycommand", opt(hc.ProxyCommand), true)
			check("hostkeyalias", opt(hc.HostKeyAlias), true)
			strict := map[string]string{"": "ask", "yes": "true", "no": "false", "off": "false"}[hc.StrictHostKeyChecking]
			check("stricthostkeychecking", one(firstNonEmpty(strict, hc.StrictHostKeyChecking)), true)
			timeout := "none"
			if hc.ConnectTimeout > 0 {
				timeout = strconv.Itoa(int(hc.ConnectTimeout.Seconds()))
			}
			check("connecttimeout", one(timeout), true)
			interval := strconv.Itoa(int(hc.ServerAliveInterval.Seconds()))
			if hc.BatchMode && hc.ServerAliveInterval == 0 && len(want["serveraliveinterval"]) == 1 && want["serveraliveinterval"][0] == "300" {
				interval = "300" // Debian's ssh: BatchMode implies 300 s; the package keeps its own keepalive default
			}
			check("serveraliveinterval", one(interval), true)
			check("serveralivecountmax", one(strconv.Itoa(max(hc.ServerAliveCountMax, 0)+3*b2i(hc.ServerAliveCountMax == 0))), true)
			check("connectionattempts", one(strconv.Itoa(max(hc.ConnectionAttempts, 1))), true)
			check("batchmode", one(yesNo(hc.BatchMode)), true)
			check("identitiesonly", one(yesNo(hc.IdentitiesOnly)), true)
			if hc.IdentityAgent != "" {
				check("identityagent", one(hc.IdentityAgent), true)
			}
			master := map[string]string{"": "false", "yes": "true", "no": "false"}[hc.Control.Master]
			check("controlmaster", one(firstNonEmpty(master, hc.Control.Master)), true)
			if hc.Control.Sharing() {
				check("controlpath", opt(hc.Control.Path), true)
			} else {
				check("controlpath", nil, true)
			}
			persist := "no"
			switch c := hc.Control; {
			case c.PersistSet && c.Persist < 0:
				persist = "yes"
			case c.PersistSet && c.Persist > 0:
				persist = strconv.Itoa(int(c.Persist.Seconds()))
			}
			check("controlpersist", one(persist), true)
		})
	}
	if len(tests) < 40 {
		t.Errorf("%d configs, want at least 40", len(tests))
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
