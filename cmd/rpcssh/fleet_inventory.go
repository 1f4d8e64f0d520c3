package main

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/rpcssh/rpcssh/tunnel"
	"github.com/rpcssh/rpcssh/tunnel/inventory"
)

// expandHosts splits the --host values (commas outside brackets) and
// expands their ranges; ranged says a range was given, which makes even
// one resulting host a fleet.
func expandHosts(vals []string) (hosts []string, ranged bool, err error) {
	var patterns []string
	for _, v := range vals {
		patterns = append(patterns, inventory.SplitList(v)...)
	}
	for _, p := range patterns {
		ranged = ranged || inventory.HasRange(p)
	}
	hosts, err = inventory.ExpandAll(patterns)
	if err != nil {
		return nil, false, usageErrorf("--host: %v", strings.TrimPrefix(err.Error(), "inventory: "))
	}
	return hosts, ranged, nil
}

// expandListed expands the ranges of a hosts file's lines.
func expandListed(path string, listed []string) ([]string, error) {
	hosts, err := inventory.ExpandAll(listed)
	if err != nil {
		return nil, usageErrorf("--hosts-file %s: %v", path, strings.TrimPrefix(err.Error(), "inventory: "))
	}
	return hosts, nil
}

// inventoryHosts loads --inventory and returns the hosts --limit selects
// (all without it), in inventory order, with how to reach each.
func (f fleetFlags) inventoryHosts(ctx context.Context, e *env) ([]string, map[string]inventory.Target, error) {
	if f.Inventory == "" {
		return nil, nil, nil
	}
	inv, err := inventory.Load(ctx, f.Inventory, inventory.LoadConfig{ScriptEnv: scriptEnv()})
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, usageErrorf("--inventory %s: no such file", f.Inventory)
		}
		return nil, nil, usageErrorf("--inventory: %v", strings.TrimPrefix(err.Error(), "inventory: "))
	}
	pattern := f.Limit
	if pattern == "" {
		pattern = "all"
	}
	hosts, err := inv.Select(pattern)
	var nm *inventory.NoMatchError
	switch {
	case errors.As(err, &nm):
		return nil, nil, usageErrorf("--limit %s: %q matches no group or host of %s", f.Limit, nm.Term, f.Inventory)
	case err != nil:
		return nil, nil, usageErrorf("--limit: %v", strings.TrimPrefix(err.Error(), "inventory: "))
	case len(hosts) == 0 && f.Limit != "":
		return nil, nil, usageErrorf("--limit %s: selects no host of %s", f.Limit, f.Inventory)
	case len(hosts) == 0:
		return nil, nil, usageErrorf("--inventory %s: no host in it", f.Inventory)
	}
	targets := make(map[string]inventory.Target, len(hosts))
	var withArgs, notSSH []string
	for _, h := range hosts {
		t, err := inv.Target(h)
		if err != nil {
			return nil, nil, usageErrorf("--inventory: %v", strings.TrimPrefix(err.Error(), "inventory: "))
		}
		if !t.ViaSSH() {
			notSSH = append(notSSH, h)
		}
		if _, other := t.SSHOptions(); len(other) > 0 {
			withArgs = append(withArgs, h)
		}
		targets[h] = t
	}
	if len(notSSH) > 0 {
		t := targets[notSSH[0]]
		return nil, nil, withHint(usageErrorf("--inventory: %s: ansible_connection=%s: rpcssh reaches hosts over SSH only", inventory.Compress(notSSH), t.Connection),
			"leave them out with --limit, e.g. --limit 'all:!%s'", notSSH[0])
	}
	if len(withArgs) > 0 {
		e.warnf("%s: of ansible_ssh_common_args/ansible_ssh_extra_args only the -o options are used (as ssh_config lines); the other arguments are ignored", inventory.Compress(withArgs))
	}
	return hosts, targets, nil
}

// scriptEnv is the environment of an inventory script: ours, without the
// secrets rpcssh reads from it.
func scriptEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "RPCSSH_PASSWORD=") || strings.HasPrefix(kv, "RPCSSH_PASSPHRASE=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// resolveFleetHost resolves one host of a fleet. An inventory host is
// reached at its ansible_host, and its ansible_user, ansible_port,
// ansible_ssh_private_key_file and the -o options of its
// ansible_ssh_common_args/extra_args win over --user, --ssh-port, --key
// and -o, as Ansible's inventory variables win over its command line.
func (c *callCmd) resolveFleetHost(ctx context.Context, res *tunnel.Resolver, host string) (*tunnel.Resolved, error) {
	t, ok := c.targets[host]
	if !ok {
		return res.Resolve(ctx, host)
	}
	h := tunnel.HostOptions{User: t.User, Port: t.Port}
	if t.KeyFile != "" {
		key := t.KeyFile
		if rest, ok := strings.CutPrefix(key, "~/"); ok {
			if h, err := os.UserHomeDir(); err == nil {
				key = filepath.Join(h, rest)
			}
		}
		h.IdentityFiles = []string{key}
	}
	h.Options, _ = t.SSHOptions()
	return res.ResolveHost(ctx, t.Address, h)
}
