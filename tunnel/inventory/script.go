package inventory

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os/exec"
	"slices"
	"strings"
)

// maxScriptOutput bounds what an inventory script may print.
const maxScriptOutput = 64 << 20

// ParseScriptOutput reads the JSON an Ansible inventory script prints for
// --list:
//
//	{"web": {"hosts": ["web1", "web2"], "vars": {"http_port": 80}, "children": ["edge"]},
//	 "db": ["db1"],
//	 "_meta": {"hostvars": {"web1": {"ansible_host": "192.0.2.1"}}}}
//
// A group is an object (hosts, vars, children) or a plain list of hosts.
// Groups are added in name order. hostVars, when not nil, is asked for
// each host's vars when the output has no _meta (as Ansible then runs the
// script with --host NAME); with _meta, or when hostVars is nil, it is not
// called. name is used in errors.
func ParseScriptOutput(data []byte, name string, hostVars func(host string) (map[string]any, error)) (*Inventory, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("inventory: %s: --list output is not a JSON object: %w", name, err)
	}
	inv := newInventory()
	var meta struct {
		HostVars map[string]map[string]any `json:"hostvars"`
	}
	rawMeta, hasMeta := top["_meta"]
	if hasMeta {
		if err := json.Unmarshal(rawMeta, &meta); err != nil {
			return nil, fmt.Errorf("inventory: %s: _meta: %w", name, err)
		}
	}
	type groupJSON struct {
		Hosts    []string       `json:"hosts"`
		Vars     map[string]any `json:"vars"`
		Children []string       `json:"children"`
	}
	groups := make(map[string]groupJSON)
	for _, g := range slices.Sorted(maps.Keys(top)) {
		if g == "_meta" {
			continue
		}
		raw := top[g]
		var gj groupJSON
		if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("[")) {
			if err := json.Unmarshal(raw, &gj.Hosts); err != nil {
				return nil, fmt.Errorf("inventory: %s: group %s: %w", name, g, err)
			}
		} else if err := json.Unmarshal(raw, &gj); err != nil {
			return nil, fmt.Errorf("inventory: %s: group %s: want {hosts, vars, children} or a list of hosts: %w", name, g, err)
		}
		groups[g] = gj
		grp := inv.group(g)
		for _, h := range gj.Hosts {
			inv.addHost(g, h)
		}
		for k, v := range gj.Vars {
			grp.vars[k] = normalizeNumber(v)
		}
	}
	for _, g := range slices.Sorted(maps.Keys(groups)) {
		for _, c := range groups[g].Children {
			if err := inv.addChild(g, c); err != nil {
				return nil, fmt.Errorf("inventory: %s: %w", name, err)
			}
		}
	}
	for h, vars := range meta.HostVars {
		if _, ok := inv.hosts[h]; !ok {
			continue // Ansible too ignores vars of hosts in no group
		}
		for k, v := range vars {
			inv.hosts[h].vars[k] = normalizeNumber(v)
		}
	}
	if !hasMeta && hostVars != nil {
		for _, h := range inv.hostOrder {
			vars, err := hostVars(h)
			if err != nil {
				return nil, fmt.Errorf("inventory: %s --host %s: %w", name, h, err)
			}
			for k, v := range vars {
				inv.hosts[h].vars[k] = normalizeNumber(v)
			}
		}
	}
	inv.finish()
	return inv, nil
}

// runScript runs an inventory script with args and returns its standard
// output; a non-zero exit is an error carrying the first line of its
// standard error.
func runScript(ctx context.Context, path string, env []string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = env
	var stdout limitedBuffer
	var stderr limitedBuffer
	stdout.max, stderr.max = maxScriptOutput, 64<<10
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if stdout.over {
		return nil, fmt.Errorf("output larger than %d MiB", maxScriptOutput>>20)
	}
	if err != nil {
		if msg, _, _ := strings.Cut(strings.TrimSpace(stderr.String()), "\n"); msg != "" {
			return nil, fmt.Errorf("%w: %s", err, msg)
		}
		return nil, err
	}
	return stdout.Bytes(), nil
}

// limitedBuffer keeps at most max bytes and notes that it saw more.
type limitedBuffer struct {
	bytes.Buffer
	max  int
	over bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > b.max {
		b.over = true
		return 0, errors.New("too much output")
	}
	return b.Buffer.Write(p)
}

var _ io.Writer = (*limitedBuffer)(nil)
