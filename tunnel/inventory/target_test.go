package inventory_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/rpcssh/rpcssh/tunnel/inventory"
)

func TestTarget(t *testing.T) {
	ini := load(t, "vars.ini")
	yml := load(t, "fleet.yaml")
	script := load(t, "script.sh")
	dirs := load(t, "varsdirs/hosts.ini")
	tests := []struct {
		inv  *inventory.Inventory
		host string
		want inventory.Target
	}{
		{ini, "web1", inventory.Target{Name: "web1", Address: "192.0.2.11", Port: 2222, User: "ubuntu", KeyFile: "~/.ssh/web.pem"}},
		{ini, "web2", inventory.Target{Name: "web2", Address: "web2", SSHArgs: []string{"-o", "ServerAliveInterval=5", "-o", "SetEnv=A=b c"}}},
		{ini, "jumper", inventory.Target{Name: "jumper", Address: "192.0.2.50", Port: 5555}},
		{ini, "lb1", inventory.Target{Name: "lb1", Address: "lb1"}},
		{yml, "web9.example.com", inventory.Target{Name: "web9.example.com", Address: "192.0.2.9", Port: 2222, User: "admin"}},
		{yml, "db2", inventory.Target{Name: "db2", Address: "db2", User: "admin", KeyFile: "/keys/db.pem"}},
		{script, "web1", inventory.Target{Name: "web1", Address: "192.0.2.1", Port: 2201}},
		{script, "db1", inventory.Target{Name: "db1", Address: "db1", User: "postgres"}},
		{dirs, "web1", inventory.Target{Name: "web1", Address: "192.0.2.1", Port: 2222, User: "deploy"}},
		{dirs, "lb1", inventory.Target{Name: "lb1", Address: "192.0.2.5", Port: 2200, User: "deploy"}},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			got, err := tt.inv.Target(tt.host)
			if err != nil {
				t.Fatalf("Target(%s) error = %v", tt.host, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Target(%s) = %+v, want %+v", tt.host, got, tt.want)
			}
		})
	}
}

func TestTargetConnection(t *testing.T) {
	inv, err := inventory.ParseINI(strings.NewReader("a\nb ansible_connection=ssh\nc ansible_connection=local\nd ansible_connection=winrm\n"), "test.ini")
	if err != nil {
		t.Fatal(err)
	}
	for h, want := range map[string]bool{"a": true, "b": true, "c": false, "d": false} {
		tg, err := inv.Target(h)
		if err != nil {
			t.Fatal(err)
		}
		if got := tg.ViaSSH(); got != want {
			t.Errorf("Target(%s).ViaSSH() = %v (connection %q), want %v", h, got, tg.Connection, want)
		}
	}
}

func TestTargetErrors(t *testing.T) {
	tests := []struct{ ini, err string }{
		{"h ansible_port=70000", `ansible_port "70000" is not 1-65535`},
		{"h ansible_port=ssh", `ansible_port "ssh" is not 1-65535`},
		{"h ansible_host='{{ lookup(\"env\", \"X\") }}'", "templates are not evaluated"},
		{`h ansible_ssh_common_args="-o 'ProxyCommand=nc %h"`, "no closing quotation"},
		{"h ansible_user='$ANSIBLE_VAULT;1.1;AES256'", "vault-encrypted values are not decrypted"},
	}
	for _, tt := range tests {
		inv, err := inventory.ParseINI(strings.NewReader(tt.ini+"\n"), "test.ini")
		if err != nil {
			t.Fatalf("ParseINI(%q) error = %v", tt.ini, err)
		}
		if _, err := inv.Target("h"); err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("Target(h) of %q error = %v, want %q", tt.ini, err, tt.err)
		}
	}
	if _, err := load(t, "basic.ini").Target("nosuch"); err == nil {
		t.Error("Target(nosuch) error = nil, want one")
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ name, text, err string }{
		{"a.ini", "[web:stuff]\nh\n", `test:1: section [web:stuff] has unknown type "stuff"`},
		{"a.ini", "[web]\nh\n[web:vars]\nnovalue\n", "test:4: want key=value"},
		{"a.ini", "[a:vars]\nx=1\n", "test:1: section [a:vars] is for a group that is never declared"},
		{"a.ini", "[a:children]\nb\n", "test:2: section [a:children] names a group that is never declared: b"},
		{"a.ini", "[a:children]\nb\n[b:children]\na\n", "makes a cycle"},
		{"a.ini", "[web]\nh x\n", `want key=value after the host, got "x"`},
		{"a.ini", "[web]\nh[1:200000]\n", "more than 100000 hosts"},
		{"a.ini", "[web]\nh[3:1]\n", "first is after last"},
		{"a.ini", "[web]\nh:\n", "reserved for a port"},
		{"a.ini", "[we b]\n", "invalid section"},
		{"a.ini", "[web]\nh x='a\n", "no closing quotation"},
		{"a.yaml", "- a\n- b\n", "a YAML inventory is a mapping of groups"},
		{"a.yaml", "all:\n  hostz: {}\n", `unexpected key "hostz"`},
		{"a.yaml", "all:\n  hosts: [a, b]\n", "hosts must be a mapping"},
		{"a.yaml", "all:\n  hosts:\n    h: 3\n", "vars must be a mapping"},
		{"a.yaml", "all:\n  children: {a: {children: {a: {}}}}\n", "makes a cycle"},
		{"a.yaml", "all: [\n", "did not find expected"},
	}
	for _, tt := range tests {
		var err error
		if strings.HasSuffix(tt.name, ".yaml") {
			_, err = inventory.ParseYAML(strings.NewReader(tt.text), "test")
		} else {
			_, err = inventory.ParseINI(strings.NewReader(tt.text), "test")
		}
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("parse %q error = %v, want %q", tt.text, err, tt.err)
		}
	}
}

// TestLoadPicksFormat: the file name and mode choose the parser, as
// Ansible's plugin order does; a file with no extension is YAML if it reads
// as YAML, else INI.
func TestLoadPicksFormat(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		path string
		want string // hosts
	}{
		{write("hosts", "[web]\nw[1:2]\n", 0o644), "w1,w2"},
		{write("hosts-yaml", "all:\n  hosts:\n    y1:\n", 0o644), "y1"},
		{write("inv.json", `{"all": {"hosts": {"j1": null}}}`, 0o644), "j1"},
		{write("exec.ini", "[web]\ni1\n", 0o755), "i1"},
		{write("inv.py", "#!/bin/sh\necho '{\"g\": [\"s1\"], \"_meta\": {\"hostvars\": {}}}'\n", 0o755), "s1"},
	}
	for _, tt := range tests {
		inv, err := inventory.Load(context.Background(), tt.path, inventory.LoadConfig{})
		if err != nil {
			t.Fatalf("Load(%s) error = %v", filepath.Base(tt.path), err)
		}
		if got := strings.Join(inv.Hosts(), ","); got != tt.want {
			t.Errorf("Load(%s) hosts = %s, want %s", filepath.Base(tt.path), got, tt.want)
		}
	}
	if _, err := inventory.Load(context.Background(), filepath.Join(dir, "nosuch"), inventory.LoadConfig{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) error = %v, want ErrNotExist", err)
	}
	if _, err := inventory.Load(context.Background(), dir, inventory.LoadConfig{}); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("Load(dir) error = %v, want is a directory", err)
	}
}

// TestLoadScript: without _meta each host's vars come from --host NAME;
// the script sees only the environment it is given; a failing script's
// error carries its message.
func TestLoadScript(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "inv")
	text := `#!/bin/sh
case "$1" in
--list) echo '{"web": {"hosts": ["a", "b"]}}' ;;
--host) echo "{\"ansible_host\": \"$2.example\", \"secret\": \"${RPCSSH_PASSWORD:-unset}\", \"mode\": \"$MODE\"}" ;;
esac
`
	if err := os.WriteFile(script, []byte(text), 0o755); err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Load(context.Background(), script, inventory.LoadConfig{ScriptEnv: []string{"MODE=test"}})
	if err != nil {
		t.Fatal(err)
	}
	vars := inv.HostVars("b")
	want := map[string]any{"ansible_host": "b.example", "secret": "unset", "mode": "test"}
	if !reflect.DeepEqual(vars, want) {
		t.Errorf("HostVars(b) = %v, want %v", vars, want)
	}

	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte("#!/bin/sh\necho 'cannot reach the cloud API' >&2\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err = inventory.Load(context.Background(), bad, inventory.LoadConfig{})
	if err == nil || !strings.Contains(err.Error(), "--list: exit status 3: cannot reach the cloud API") {
		t.Errorf("Load(failing script) error = %v", err)
	}
	notJSON := filepath.Join(dir, "notjson")
	if err := os.WriteFile(notJSON, []byte("#!/bin/sh\necho hello\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := inventory.Load(context.Background(), notJSON, inventory.LoadConfig{}); err == nil || !strings.Contains(err.Error(), "not a JSON object") {
		t.Errorf("Load(script printing text) error = %v", err)
	}
}

func TestSelectErrors(t *testing.T) {
	inv := load(t, "ranges.ini")
	var nm *inventory.NoMatchError
	if _, err := inv.Select("web:nosuch"); !errors.As(err, &nm) || nm.Term != "nosuch" {
		t.Errorf("Select(web:nosuch) error = %v, want NoMatchError{nosuch}", err)
	}
	for _, p := range []string{"~web[", "", "web[99]"} {
		if _, err := inv.Select(p); err == nil {
			t.Errorf("Select(%q) error = nil, want one", p)
		}
	}
}

// TestLoadVarsDirErrors: a malformed group_vars file is an error naming it.
func TestLoadVarsDirErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "group_vars"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "hosts"), []byte("[web]\nw1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "group_vars", "web.yml"), []byte("- not a mapping\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := inventory.Load(context.Background(), filepath.Join(dir, "hosts"), inventory.LoadConfig{})
	if err == nil || !strings.Contains(err.Error(), filepath.Join("group_vars", "web.yml")) {
		t.Errorf("Load error = %v, want one naming group_vars/web.yml", err)
	}
}
