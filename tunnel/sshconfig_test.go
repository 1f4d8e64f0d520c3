package tunnel_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rpcssh/rpcssh/tunnel"
)

// writeConfigFiles writes name -> content under dir, creating parents.
func writeConfigFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// realisticConfig is shaped like a real ~/.ssh/config: Include first, a
// Match user block kevinburke/ssh_config rejects, negation, a multi-hop
// ProxyJump, tokens, "=" syntax, quotes, comments and unknown keywords.
const realisticConfig = `# global settings
Include config.d/*
IgnoreUnknown UseKeychain
UseKeychain yes

Host bastion
    HostName bastion.example.com
    User jump
    Port 2222
    IdentityFile ~/.ssh/id_bastion

Host db-* !db-legacy
    HostName %h.internal
    ProxyJump bastion,jump2@hop2.example.com:2200
    User=dba
    IdentityFile "~/.ssh/keys/%r at %h"

Host db-legacy
    HostName 10.0.0.9
    ProxyCommand ssh -W %h:%p bastion

Match user dba host *.internal
    UserKnownHostsFile ~/.ssh/known_hosts.internal %d/.ssh/kh2

Match exec "test -f /etc/foo"
    User execuser

Match localuser alice
    IdentityFile ~/.ssh/id_alice

Host web?
    Hostname web.example.org # trailing comment
    port = 8022

Host *
    User defaultuser
    IdentityFile ~/.ssh/id_ed25519
    UserKnownHostsFile ~/.ssh/known_hosts
    ServerAliveInterval 30
`

func TestSSHConfigLookup(t *testing.T) {
	// Relative Include paths are resolved against ~/.ssh, as ssh does.
	home := t.TempDir()
	dir := filepath.Join(home, ".ssh")
	writeConfigFiles(t, dir, map[string]string{
		"config": realisticConfig,
		"config.d/10-work": "Host work\n  HostName work.example.com\n  User worker\n" +
			"Host included-jump\n  ProxyJump a,b,c\n",
		"config.d/20-more": "Match originalhost ip6\n  HostName ::1\n",
	})
	cfg, err := tunnel.ReadSSHConfigEnv(filepath.Join(dir, "config"), tunnel.LookupEnv{Home: home, LocalUser: "alice"})
	if err != nil {
		t.Fatalf("ReadSSHConfigEnv error = %v", err)
	}
	tests := []struct {
		alias string
		want  tunnel.HostConfig
	}{
		{"bastion", tunnel.HostConfig{
			HostName: "bastion.example.com", User: "jump", Port: "2222",
			IdentityFiles:       []string{home + "/.ssh/id_bastion", home + "/.ssh/id_alice", home + "/.ssh/id_ed25519"},
			UserKnownHostsFiles: []string{home + "/.ssh/known_hosts"},
		}},
		{"db-main", tunnel.HostConfig{
			HostName: "db-main.internal", User: "dba",
			ProxyJump:           "bastion,jump2@hop2.example.com:2200",
			IdentityFiles:       []string{home + "/.ssh/keys/dba at db-main.internal", home + "/.ssh/id_alice", home + "/.ssh/id_ed25519"},
			UserKnownHostsFiles: []string{home + "/.ssh/known_hosts.internal", home + "/.ssh/kh2"},
		}},
		{"DB-Main", tunnel.HostConfig{ // Host patterns are case-sensitive, as in ssh 9.2
			User:                "defaultuser",
			IdentityFiles:       []string{home + "/.ssh/id_alice", home + "/.ssh/id_ed25519"},
			UserKnownHostsFiles: []string{home + "/.ssh/known_hosts"},
		}},
		{"db-legacy", tunnel.HostConfig{ // negated out of db-*
			HostName: "10.0.0.9", User: "defaultuser", ProxyCommand: "ssh -W %h:%p bastion",
			IdentityFiles:       []string{home + "/.ssh/id_alice", home + "/.ssh/id_ed25519"},
			UserKnownHostsFiles: []string{home + "/.ssh/known_hosts"},
		}},
		{"web1", tunnel.HostConfig{
			HostName: "web.example.org", User: "defaultuser", Port: "8022",
			IdentityFiles:       []string{home + "/.ssh/id_alice", home + "/.ssh/id_ed25519"},
			UserKnownHostsFiles: []string{home + "/.ssh/known_hosts"},
		}},
		{"web10", tunnel.HostConfig{ // ? is exactly one character
			User:                "defaultuser",
			IdentityFiles:       []string{home + "/.ssh/id_alice", home + "/.ssh/id_ed25519"},
			UserKnownHostsFiles: []string{home + "/.ssh/known_hosts"},
		}},
		{"work", tunnel.HostConfig{ // from the Include, which comes first
			HostName: "work.example.com", User: "worker",
			IdentityFiles:       []string{home + "/.ssh/id_alice", home + "/.ssh/id_ed25519"},
			UserKnownHostsFiles: []string{home + "/.ssh/known_hosts"},
		}},
		{"included-jump", tunnel.HostConfig{
			User: "defaultuser", ProxyJump: "a,b,c",
			IdentityFiles:       []string{home + "/.ssh/id_alice", home + "/.ssh/id_ed25519"},
			UserKnownHostsFiles: []string{home + "/.ssh/known_hosts"},
		}},
		{"ip6", tunnel.HostConfig{
			HostName: "::1", User: "defaultuser",
			IdentityFiles:       []string{home + "/.ssh/id_alice", home + "/.ssh/id_ed25519"},
			UserKnownHostsFiles: []string{home + "/.ssh/known_hosts"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.alias, func(t *testing.T) {
			tt.want.ServerAliveInterval = 30 * time.Second // from Host *
			got := cfg.Lookup(tt.alias)
			warnings := got.Warnings
			got.Warnings = nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Lookup(%q)\n got  %+v\n want %+v", tt.alias, got, tt.want)
			}
			if len(warnings) > 0 {
				t.Errorf("Lookup(%q) warnings = %q, want none (Match exec is run)", tt.alias, warnings)
			}
		})
	}
}

func hasWarning(ws []string, sub string) bool {
	for _, w := range ws {
		if strings.Contains(w, sub) {
			return true
		}
	}
	return false
}

func TestSSHConfigSyntax(t *testing.T) {
	tests := []struct {
		name, config, alias string
		want                tunnel.HostConfig
		wantWarning         string
	}{
		{
			name:   "equals and spaces",
			config: "Host h\nHostName = a.example\nUser=u\nPORT\t=\t23\n",
			alias:  "h",
			want:   tunnel.HostConfig{HostName: "a.example", User: "u", Port: "23"},
		},
		{
			name:   "first value wins",
			config: "Host h\nUser first\nHost *\nUser second\nHostName x\nHost h\nHostName y\n",
			alias:  "h",
			want:   tunnel.HostConfig{User: "first", HostName: "x"},
		},
		{
			name:   "identity files accumulate in order",
			config: "IdentityFile /k0\nHost h\nIdentityFile /k1 \nHost *\nIdentityFile /k2\n",
			alias:  "h",
			want:   tunnel.HostConfig{IdentityFiles: []string{"/k0", "/k1", "/k2"}},
		},
		{
			name:   "multiple host patterns",
			config: "Host a b c\nUser abc\n",
			alias:  "b",
			want:   tunnel.HostConfig{User: "abc"},
		},
		{
			name:   "negation alone never matches",
			config: "Host !x\nUser nx\n",
			alias:  "y",
			want:   tunnel.HostConfig{},
		},
		{
			name:   "match all",
			config: "Match all\nUser every\n",
			alias:  "y",
			want:   tunnel.HostConfig{User: "every"},
		},
		{
			name:   "match host uses hostname",
			config: "Host y\nHostName real.example\nMatch host real.*\nPort 2200\nMatch originalhost real.*\nUser no\n",
			alias:  "y",
			want:   tunnel.HostConfig{HostName: "real.example", Port: "2200"},
		},
		{
			name:   "negated match criterion",
			config: "Match !host y\nUser noty\nMatch !host z\nPort 99\n",
			alias:  "y",
			want:   tunnel.HostConfig{Port: "99"},
		},
		{
			name:        "unsupported match skips only its block",
			config:      "Match canonical\nUser canon\nHost *\nUser after\n",
			alias:       "y",
			want:        tunnel.HostConfig{User: "after"},
			wantWarning: "config:1: Match canonical is not supported, block skipped",
		},
		{
			name:   "proxyjump none stops later values",
			config: "Host y\nProxyJump none\nHost *\nProxyJump b\n",
			alias:  "y",
			want:   tunnel.HostConfig{},
		},
		{
			name:   "known hosts none",
			config: "UserKnownHostsFile none\nUserKnownHostsFile /x\n",
			alias:  "y",
			want:   tunnel.HostConfig{UserKnownHostsNone: true},
		},
		{
			name:   "tokens",
			config: "Host y\nHostName %h.ex%%\nPort 2\nUser r\nIdentityFile /k/%h/%p/%r/%u/%n/%%\n",
			alias:  "y",
			want: tunnel.HostConfig{HostName: "y.ex%", Port: "2", User: "r",
				IdentityFiles: []string{"/k/y.ex%/2/r/local/y/%"}},
		},
		{
			name:        "unknown token kept",
			config:      "IdentityFile /k/%C\n",
			alias:       "y",
			want:        tunnel.HostConfig{IdentityFiles: []string{"/k/%C"}},
			wantWarning: "token %C is not supported",
		},
		{
			name:   "quoted value with spaces and comment",
			config: "IdentityFile \"/a b/c\" # comment\n   # indented comment\n\n",
			alias:  "y",
			want:   tunnel.HostConfig{IdentityFiles: []string{"/a b/c"}},
		},
		{
			name:   "match user uses the local user by default",
			config: "Match user local\nPort 7\n",
			alias:  "y",
			want:   tunnel.HostConfig{Port: "7"},
		},
		{
			name:   "unknown keywords ignored when IgnoreUnknown names them",
			config: "IgnoreUnknown frob*,other\nFrobnicate yes\nCompression yes\nUser u\n",
			alias:  "y",
			want:   tunnel.HostConfig{User: "u", Ignored: []string{"config:3: compression is read but has no effect here"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeConfigFiles(t, dir, map[string]string{"config": tt.config})
			cfg, err := tunnel.ReadSSHConfig(filepath.Join(dir, "config"))
			if err != nil {
				t.Fatalf("ReadSSHConfig error = %v", err)
			}
			cfg.Env = tunnel.LookupEnv{Home: "/h", LocalUser: "local"}
			got := cfg.Lookup(tt.alias)
			warnings := got.Warnings
			got.Warnings = nil
			for i := range got.Ignored {
				got.Ignored[i] = strings.TrimPrefix(got.Ignored[i], dir+string(filepath.Separator))
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Lookup(%q)\n got  %+v\n want %+v", tt.alias, got, tt.want)
			}
			if tt.wantWarning == "" && len(warnings) > 0 {
				t.Errorf("warnings = %q, want none", warnings)
			}
			if tt.wantWarning != "" && !hasWarning(warnings, tt.wantWarning) {
				t.Errorf("warnings = %q, want one containing %q", warnings, tt.wantWarning)
			}
		})
	}
}

func TestReadSSHConfigMissingFile(t *testing.T) {
	cfg, err := tunnel.ReadSSHConfig(filepath.Join(t.TempDir(), "nope"))
	if err != nil {
		t.Fatalf("ReadSSHConfig(missing) error = %v, want nil", err)
	}
	if got := cfg.Lookup("x"); !reflect.DeepEqual(got, tunnel.HostConfig{}) {
		t.Errorf("Lookup on empty config = %+v, want zero", got)
	}
}

func TestReadSSHConfigUnreadable(t *testing.T) {
	// A directory cannot be read as a file: that is an error, not "missing".
	if _, err := tunnel.ReadSSHConfig(t.TempDir()); err == nil {
		t.Error("ReadSSHConfig(directory) error = nil, want an error")
	}
}

func TestSSHConfigInclude(t *testing.T) {
	t.Run("inside host block only applies there", func(t *testing.T) {
		home := t.TempDir()
		dir := filepath.Join(home, ".ssh")
		writeConfigFiles(t, dir, map[string]string{
			"config":  "Host a\n  Include inc\nHost *\n  User star\n",
			"inc":     "User fromInclude\nHost *\nPort 11\n",
			"ignored": "User never\n",
		})
		cfg, err := tunnel.ReadSSHConfigEnv(filepath.Join(dir, "config"), tunnel.LookupEnv{Home: home})
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.Lookup("a"); got.User != "fromInclude" || got.Port != "11" {
			t.Errorf("Lookup(a) = %+v, want User fromInclude Port 11", got)
		}
		if got := cfg.Lookup("b"); got.User != "star" || got.Port != "" {
			t.Errorf("Lookup(b) = %+v, want User star and no Port", got)
		}
	})
	t.Run("absolute and tilde", func(t *testing.T) {
		dir := t.TempDir()
		home := filepath.Join(dir, "home")
		writeConfigFiles(t, dir, map[string]string{
			"config":              "Include " + filepath.Join(dir, "abs.conf") + " ~/.ssh/extra\n",
			"abs.conf":            "Port 5\n",
			"home/.ssh/extra":     "User tilde\n",
			"home/.ssh/unrelated": "User no\n",
		})
		cfg, err := tunnel.ReadSSHConfigEnv(filepath.Join(dir, "config"), tunnel.LookupEnv{Home: home})
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.Lookup("x"); got.User != "tilde" || got.Port != "5" {
			t.Errorf("Lookup(x) = %+v, want User tilde Port 5", got)
		}
		// Without a home the ~ include is skipped with a warning.
		cfg, err = tunnel.ReadSSHConfig(filepath.Join(dir, "config"))
		if err != nil {
			t.Fatal(err)
		}
		got := cfg.Lookup("x")
		if got.User != "" || !hasWarning(got.Warnings, "no home directory") {
			t.Errorf("Lookup(x) without home = %+v, want no User and a warning", got)
		}
	})
	t.Run("recursion is an error, as in ssh", func(t *testing.T) {
		home := t.TempDir()
		dir := filepath.Join(home, ".ssh")
		writeConfigFiles(t, dir, map[string]string{"config": "Include config\nUser loop\n"})
		_, err := tunnel.ReadSSHConfigEnv(filepath.Join(dir, "config"), tunnel.LookupEnv{Home: home})
		var ce *tunnel.ConfigError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), "too many recursive configuration includes") {
			t.Errorf("ReadSSHConfigEnv(self-including) error = %v, want *ConfigError: too many recursive configuration includes", err)
		}
	})
	t.Run("relative include is under ~/.ssh, not beside -F file", func(t *testing.T) {
		home := t.TempDir()
		other := t.TempDir()
		writeConfigFiles(t, home, map[string]string{".ssh/inc": "User fromdotssh\n"})
		writeConfigFiles(t, other, map[string]string{"config": "Include inc\n", "inc": "User beside\n"})
		cfg, err := tunnel.ReadSSHConfigEnv(filepath.Join(other, "config"), tunnel.LookupEnv{Home: home})
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.Lookup("x").User; got != "fromdotssh" {
			t.Errorf("User = %q, want fromdotssh (Include inc read from ~/.ssh)", got)
		}
	})
	t.Run("special files are skipped", func(t *testing.T) {
		dir := t.TempDir()
		writeConfigFiles(t, dir, map[string]string{"config": "Include /dev/zero " + dir + "\nUser u\n"})
		cfg, err := tunnel.ReadSSHConfig(filepath.Join(dir, "config"))
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.Lookup("x"); got.User != "u" || !hasWarning(got.Warnings, "not a regular file") {
			t.Errorf("Lookup(x) = %+v, want User u and a warning", got)
		}
	})
	t.Run("glob with no match is fine", func(t *testing.T) {
		home := t.TempDir()
		dir := filepath.Join(home, ".ssh")
		writeConfigFiles(t, dir, map[string]string{"config": "Include conf.d/*.conf\nUser u\n"})
		cfg, err := tunnel.ReadSSHConfigEnv(filepath.Join(dir, "config"), tunnel.LookupEnv{Home: home})
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.Lookup("x"); got.User != "u" || len(got.Warnings) != 0 {
			t.Errorf("Lookup(x) = %+v, want User u and no warnings", got)
		}
	})
}

// TestSSHConfigAgreesWithOpenSSH resolves the same file with `ssh -G` (the
// real OpenSSH parser) and compares the fields we read.
func TestSSHConfigAgreesWithOpenSSH(t *testing.T) {
	t.Parallel()
	sshPath, err := exec.LookPath("ssh")
	if err != nil {
		t.Skip("ssh not installed")
	}
	u, err := user.Current()
	if err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	// OpenSSH resolves relative Include paths against ~/.ssh, not the -F
	// file's directory, so the comparison uses an absolute one.
	config := strings.Replace(realisticConfig, "Include config.d/*", "Include "+filepath.Join(dir, "config.d", "*"), 1)
	config = strings.Replace(config, "Match localuser alice", "Match localuser "+u.Username, 1)
	config = strings.Replace(config, `Match exec "test -f /etc/foo"`, `Match exec "exit 1"`, 1)
	writeConfigFiles(t, dir, map[string]string{
		"config":           config,
		"config.d/10-work": "Host work\n  HostName work.example.com\n  User worker\nHost included-jump\n  ProxyJump a,b,c\n",
	})
	cfg, err := tunnel.ReadSSHConfigEnv(filepath.Join(dir, "config"), tunnel.LookupEnv{Home: u.HomeDir, LocalUser: u.Username})
	if err != nil {
		t.Fatal(err)
	}
	for _, alias := range []string{"bastion", "db-main", "db-legacy", "web1", "web10", "work", "included-jump", "other"} {
		t.Run(alias, func(t *testing.T) {
			out, err := exec.Command(sshPath, "-G", "-F", filepath.Join(dir, "config"), alias).Output()
			if err != nil {
				t.Fatalf("ssh -G: %v", err)
			}
			want := map[string][]string{}
			for _, line := range strings.Split(string(out), "\n") {
				k, v, ok := strings.Cut(line, " ")
				if ok {
					want[k] = append(want[k], v)
				}
			}
			got := cfg.Lookup(alias)
			host := orDefault(got.HostName, alias)
			port := orDefault(got.Port, "22")
			userName := orDefault(got.User, u.Username)
			check := func(field, got string, want []string) {
				t.Helper()
				if len(want) != 1 || want[0] != got {
					t.Errorf("%s = %q, ssh -G says %q", field, got, want)
				}
			}
			check("hostname", host, want["hostname"])
			check("port", port, want["port"])
			check("user", userName, want["user"])
			if pj := want["proxyjump"]; len(pj) > 0 || got.ProxyJump != "" {
				check("proxyjump", got.ProxyJump, pj)
			}
			// ssh -G prints identity files unexpanded.
			expand := strings.NewReplacer("~", u.HomeDir, "%h", host, "%r", userName, "%u", u.Username, "%p", port, "%d", u.HomeDir)
			var wantIDs []string
			for _, f := range want["identityfile"] {
				wantIDs = append(wantIDs, expand.Replace(f))
			}
			if len(got.IdentityFiles) > 0 && !reflect.DeepEqual(got.IdentityFiles, wantIDs) {
				t.Errorf("identity files = %q, ssh -G says %q", got.IdentityFiles, wantIDs)
			}
			if len(got.UserKnownHostsFiles) > 0 {
				check("userknownhostsfile", strings.Join(got.UserKnownHostsFiles, " "), want["userknownhostsfile"])
			}
		})
	}
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// FuzzSSHConfig: any file content parses (leniently) and resolves without
// panicking, and Lookup is deterministic.
func FuzzSSHConfig(f *testing.F) {
	f.Add(realisticConfig, "db-main")
	f.Add("Host \"a b\" !c\n Port=1\nMatch host a,!b user x\n IdentityFile %%%h%\n", "a b")
	f.Add("Include *\nHost *\n", "x")
	f.Add("Include ~/config ~/config ~/config\nUser loop\n", "x") // a cycle: refused at once, not N^16 parses
	f.Fuzz(func(t *testing.T, config, alias string) {
		dir := t.TempDir()
		path := filepath.Join(dir, "config")
		if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
			t.Fatal(err)
		}
		never := func(string) bool { return false } // no shell commands from fuzzed input
		cfg, err := tunnel.ReadSSHConfigEnv(path, tunnel.LookupEnv{Home: dir, LocalUser: "u", Exec: never})
		if err != nil {
			var ce *tunnel.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("ReadSSHConfigEnv: %v, want nil or *ConfigError", err)
			}
			return
		}
		a, b := cfg.Lookup(alias), cfg.Lookup(alias)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("Lookup(%q) not deterministic: %+v then %+v", alias, a, b)
		}
	})
}

// The caller supplies the path, home directory and local user: the package
// never looks at $HOME itself.
func ExampleReadSSHConfigEnv() {
	cfg, err := tunnel.ReadSSHConfigEnv("/home/me/.ssh/config", tunnel.LookupEnv{Home: "/home/me", LocalUser: "me"})
	if err != nil {
		fmt.Println(err)
		return
	}
	hc := cfg.Lookup("db-main")
	for _, w := range hc.Warnings {
		fmt.Println("warning:", w)
	}
	fmt.Println(hc.HostName, hc.Port, hc.User, hc.ProxyJump, hc.IdentityFiles)
}

func TestParseProxyJump(t *testing.T) {
	tests := []struct {
		spec    string
		want    []tunnel.JumpHost
		wantErr bool
	}{
		{"", nil, false},
		{"none", nil, false},
		{"bastion", []tunnel.JumpHost{{Host: "bastion"}}, false},
		{"bastion,jump2@hop2.example.com:2200", []tunnel.JumpHost{{Host: "bastion"}, {User: "jump2", Host: "hop2.example.com", Port: "2200"}}, false},
		{"ssh://me@[::1]:2222, [fe80::1]", []tunnel.JumpHost{{User: "me", Host: "::1", Port: "2222"}, {Host: "fe80::1"}}, false},
		{"user@corp@host", []tunnel.JumpHost{{User: "user@corp", Host: "host"}}, false},
		{"::1", nil, true},
		{"host:", nil, true},
		{"host:99999", nil, true},
		{"[::1", nil, true},
		{"a,,b", nil, true},
		{"@host", nil, true},
	}
	for _, tt := range tests {
		got, err := tunnel.ParseProxyJump(tt.spec)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseProxyJump(%q) error = %v, want error %v", tt.spec, err, tt.wantErr)
			continue
		}
		if !tt.wantErr && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseProxyJump(%q) = %+v, want %+v", tt.spec, got, tt.want)
		}
	}
}
