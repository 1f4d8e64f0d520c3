package inventory_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/rpcssh/rpcssh/tunnel/inventory"
)

var update = flag.Bool("update", false, "rewrite testdata golden files from ansible-inventory and ansible")

// inventories are the files in testdata checked against Ansible.
var inventories = []string{"basic.ini", "ranges.ini", "vars.ini", "fleet.yaml", "script.sh", "varsdirs/hosts.ini"}

// normalized is the part of `ansible-inventory --list` compared: each
// group's direct hosts and children (sorted; empty groups dropped) and
// each host's merged vars.
type normalized struct {
	Groups   map[string][2][]string
	HostVars map[string]map[string]any
}

func normalize(t *testing.T, data []byte) normalized {
	t.Helper()
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatalf("decode inventory JSON: %v", err)
	}
	n := normalized{Groups: map[string][2][]string{}}
	var meta struct {
		HostVars map[string]map[string]any `json:"hostvars"`
	}
	if err := json.Unmarshal(raw["_meta"], &meta); err != nil {
		t.Fatalf("decode _meta: %v", err)
	}
	n.HostVars = meta.HostVars
	for name, r := range raw {
		if name == "_meta" {
			continue
		}
		var g struct{ Hosts, Children []string }
		if err := json.Unmarshal(r, &g); err != nil {
			t.Fatalf("decode group %s: %v", name, err)
		}
		if len(g.Hosts) == 0 && len(g.Children) == 0 {
			continue
		}
		slices.Sort(g.Hosts)
		slices.Sort(g.Children)
		n.Groups[name] = [2][]string{g.Hosts, g.Children}
	}
	return n
}

func load(t *testing.T, name string) *inventory.Inventory {
	t.Helper()
	inv, err := inventory.Load(context.Background(), filepath.Join("testdata", name), inventory.LoadConfig{})
	if err != nil {
		t.Fatalf("Load(%s) error = %v", name, err)
	}
	return inv
}

// ansibleList runs `ansible-inventory --list`, or returns nil when Ansible
// is not installed.
func ansibleList(t *testing.T, name string) []byte {
	t.Helper()
	if _, err := exec.LookPath("ansible-inventory"); err != nil {
		return nil
	}
	cmd := exec.Command("ansible-inventory", "-i", filepath.Join("testdata", name), "--list")
	cmd.Env = append(os.Environ(), "ANSIBLE_LOCAL_TEMP="+t.TempDir(), "ANSIBLE_HOME="+t.TempDir())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ansible-inventory -i %s --list: %v", name, err)
	}
	return out
}

// TestParseMatchesAnsible reads each test inventory and compares hosts,
// groups and merged vars with what ansible-inventory --list says: live
// when Ansible is installed, and always with the golden file made from it.
func TestParseMatchesAnsible(t *testing.T) {
	for _, name := range inventories {
		t.Run(name, func(t *testing.T) {
			b, err := json.Marshal(load(t, name))
			if err != nil {
				t.Fatal(err)
			}
			got := normalize(t, b)
			golden := filepath.Join("testdata", name+".golden.json")
			live := ansibleList(t, name)
			if *update {
				if live == nil {
					t.Fatal("-update needs ansible-inventory")
				}
				if err := os.WriteFile(golden, live, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			sources := map[string][]byte{"golden " + golden: want}
			if live != nil {
				sources["ansible-inventory --list"] = live
			} else {
				t.Log("ansible-inventory is not installed: compared with the golden file only")
			}
			for src, data := range sources {
				w := normalize(t, data)
				if !reflect.DeepEqual(got.Groups, w.Groups) {
					t.Errorf("groups =\n%v\nwant (%s)\n%v", got.Groups, src, w.Groups)
				}
				if !reflect.DeepEqual(got.HostVars, w.HostVars) {
					t.Errorf("hostvars =\n%v\nwant (%s)\n%v", got.HostVars, src, w.HostVars)
				}
			}
		})
	}
}

// patternCases are --limit patterns checked against `ansible PATTERN
// --list-hosts`; testdata/patterns.golden keeps Ansible's answers.
var patternCases = []struct{ inv, pattern string }{
	{"ranges.ini", "all"},
	{"ranges.ini", "web"},
	{"ranges.ini", "prod"},
	{"ranges.ini", "web:&prod"},
	{"ranges.ini", "prod:!db"},
	{"ranges.ini", "web:&prod:!web0[1-5]*"},
	{"ranges.ini", "web[0:2]"},
	{"ranges.ini", "web[3]"},
	{"ranges.ini", "prod[-1]"},
	{"ranges.ini", "web[10:]"},
	{"ranges.ini", "~db-[ab]"},
	{"ranges.ini", "db-*,odd"},
	{"ranges.ini", "db-a:web20.example.com"},
	{"ranges.ini", "!web"},
	{"vars.ini", "frontend:!edge"},
	{"vars.ini", "edge,web"},
	{"vars.ini", "*1"},
	{"fleet.yaml", "prod:&webservers"},
	{"fleet.yaml", "dbservers"},
	{"fleet.yaml", "all:!prod"},
	{"script.sh", "web"},
	{"script.sh", "web:!edge"},
}

// TestSelectMatchesAnsible checks Select against Ansible's own pattern
// matching (host sets; Ansible orders some unions differently): live
// through testdata/ansible_hosts.py when Ansible is installed, and always
// against testdata/patterns.golden, which that script wrote.
func TestSelectMatchesAnsible(t *testing.T) {
	goldenPath := filepath.Join("testdata", "patterns.golden")
	live := ansibleHosts(t)
	if *update {
		if live == nil {
			t.Fatal("-update needs Ansible's python modules")
		}
		var b strings.Builder
		for _, tc := range patternCases {
			fmt.Fprintf(&b, "%s\t%s\t%s\n", tc.inv, tc.pattern, strings.Join(live[tc.inv+"\t"+tc.pattern], ","))
		}
		if err := os.WriteFile(goldenPath, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	golden := readPatternGolden(t, goldenPath)
	for _, tc := range patternCases {
		key := tc.inv + "\t" + tc.pattern
		t.Run(strings.ReplaceAll(key, "\t", " "), func(t *testing.T) {
			got, err := load(t, tc.inv).Select(tc.pattern)
			if err != nil {
				t.Fatalf("Select(%q) error = %v", tc.pattern, err)
			}
			slices.Sort(got)
			want, ok := golden[key]
			if !ok {
				t.Fatalf("no golden answer for %q in %s; run with -update", key, goldenPath)
			}
			if !slices.Equal(got, want) {
				t.Errorf("Select(%q) = %v, want (golden) %v", tc.pattern, got, want)
			}
			if l, ok := live[key]; ok && !slices.Equal(got, l) {
				t.Errorf("Select(%q) = %v, want (Ansible) %v", tc.pattern, got, l)
			}
		})
	}
}

func readPatternGolden(t *testing.T, path string) map[string][]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return parsePatternLines(t, path, string(data))
}

func parsePatternLines(t *testing.T, src, data string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSuffix(data, "\n"), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			t.Fatalf("%s: bad line %q", src, line)
		}
		var hosts []string
		if f[2] != "" {
			hosts = strings.Split(f[2], ",")
		}
		out[f[0]+"\t"+f[1]] = hosts
	}
	return out
}

// ansibleHosts asks Ansible's InventoryManager for every pattern case, or
// returns nil when Ansible's python modules are not installed.
func ansibleHosts(t *testing.T) map[string][]string {
	t.Helper()
	python := ansiblePython()
	if python == "" {
		return nil
	}
	var in strings.Builder
	for _, tc := range patternCases {
		fmt.Fprintf(&in, "%s\t%s\n", filepath.Join("testdata", tc.inv), tc.pattern)
	}
	cmd := exec.Command(python, filepath.Join("testdata", "ansible_hosts.py"))
	cmd.Env = append(os.Environ(), "ANSIBLE_LOCAL_TEMP="+t.TempDir(), "ANSIBLE_HOME="+t.TempDir())
	cmd.Stdin = strings.NewReader(in.String())
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("testdata/ansible_hosts.py: %v\n%s", err, stderr.String())
	}
	return parsePatternLines(t, "ansible_hosts.py", string(out))
}

// ansiblePython is the interpreter on ansible-inventory's #! line (the one
// with Ansible's modules; python3 on PATH may be another), or "".
func ansiblePython() string {
	path, err := exec.LookPath("ansible-inventory")
	if err != nil {
		return ""
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(strings.TrimPrefix(line, "#!"))
	if len(f) == 0 || !filepath.IsAbs(f[0]) {
		return ""
	}
	if filepath.Base(f[0]) == "env" && len(f) > 1 {
		p, err := exec.LookPath(f[1])
		if err != nil {
			return ""
		}
		return p
	}
	return f[0]
}
