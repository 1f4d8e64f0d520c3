package inventory

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Inventory is a parsed Ansible inventory: hosts, the groups they belong
// to, and the variables set on both. Build one with [Load], [ParseINI],
// [ParseYAML] or [ParseScriptOutput]; it is read-only afterwards and safe
// for concurrent readers.
type Inventory struct {
	hosts      map[string]*host
	hostOrder  []string
	groups     map[string]*group
	groupOrder []string
}

type host struct {
	vars     map[string]any
	fileVars map[string]any // from host_vars/ (see readVarsDirs)
	groups   []string       // direct groups, in the order the inventory names them
}

type group struct {
	hosts    []string
	children []string
	parents  []string
	vars     map[string]any
	fileVars map[string]any // from group_vars/ (see readVarsDirs)
	depth    int            // 0 for all, 1 for its children, ...
}

func newInventory() *Inventory {
	inv := &Inventory{hosts: make(map[string]*host), groups: make(map[string]*group)}
	inv.group("all")
	inv.group("ungrouped")
	return inv
}

// group returns the named group, adding it if it is new.
func (inv *Inventory) group(name string) *group {
	g, ok := inv.groups[name]
	if !ok {
		g = &group{vars: make(map[string]any)}
		inv.groups[name] = g
		inv.groupOrder = append(inv.groupOrder, name)
	}
	return g
}

// addHost puts a host in a group (adding both if new) and returns it.
func (inv *Inventory) addHost(groupName, name string) *host {
	h, ok := inv.hosts[name]
	if !ok {
		h = &host{vars: make(map[string]any)}
		inv.hosts[name] = h
		inv.hostOrder = append(inv.hostOrder, name)
	}
	g := inv.group(groupName)
	if !slices.Contains(g.hosts, name) {
		g.hosts = append(g.hosts, name)
		h.groups = append(h.groups, groupName)
	}
	return h
}

// addHostEntry adds the hosts of one inventory entry (a pattern's
// expansion) to groupName, each with the entry's port (0: none) as
// ansible_port and the entry's variables.
func (inv *Inventory) addHostEntry(groupName string, names []string, port int, vars map[string]any) {
	for _, n := range names {
		h := inv.addHost(groupName, n)
		if port != 0 {
			h.vars["ansible_port"] = port
		}
		for k, v := range vars {
			h.vars[k] = v
		}
	}
}

// addChild makes child a child group of parent; a cycle is an error.
func (inv *Inventory) addChild(parent, child string) error {
	if parent == child || inv.isAncestor(child, parent) {
		return fmt.Errorf("group %q cannot be a child of %q: that makes a cycle", child, parent)
	}
	if child == "all" {
		return fmt.Errorf("group all cannot be a child of %q", parent)
	}
	p, c := inv.group(parent), inv.group(child)
	if !slices.Contains(p.children, child) {
		p.children = append(p.children, child)
		c.parents = append(c.parents, parent)
	}
	return nil
}

// isAncestor reports whether a is an ancestor of (or is) g.
func (inv *Inventory) isAncestor(a, g string) bool {
	seen := map[string]bool{}
	var walk func(string) bool
	walk = func(n string) bool {
		if n == a {
			return true
		}
		if seen[n] {
			return false
		}
		seen[n] = true
		for _, p := range inv.groups[n].parents {
			if walk(p) {
				return true
			}
		}
		return false
	}
	_, ok := inv.groups[g]
	return ok && walk(g)
}

// finish does what Ansible does once every source is read: a group with
// no parent becomes a child of all, a host in no group but all goes to
// ungrouped (and only there), and each group gets its depth.
func (inv *Inventory) finish() {
	for _, name := range inv.groupOrder {
		if name != "all" && len(inv.groups[name].parents) == 0 {
			_ = inv.addChild("all", name) // cannot cycle: name has no parent
		}
	}
	all := inv.groups["all"]
	for _, name := range inv.hostOrder {
		h := inv.hosts[name]
		h.groups = slices.DeleteFunc(h.groups, func(g string) bool { return g == "all" })
		if len(h.groups) == 0 {
			inv.addHost("ungrouped", name)
		}
		if len(h.groups) > 1 {
			ug := inv.groups["ungrouped"]
			if slices.Contains(h.groups, "ungrouped") {
				ug.hosts = slices.DeleteFunc(ug.hosts, func(n string) bool { return n == name })
				h.groups = slices.DeleteFunc(h.groups, func(g string) bool { return g == "ungrouped" })
			}
		}
	}
	all.hosts = nil
	var depth func(name string, d int)
	depth = func(name string, d int) {
		g := inv.groups[name]
		if d < g.depth && name != "all" {
			return
		}
		g.depth = d
		for _, c := range g.children {
			depth(c, d+1)
		}
	}
	depth("all", 0)
}

// Hosts returns every host name, in the order the inventory first names
// them.
func (inv *Inventory) Hosts() []string { return slices.Clone(inv.hostOrder) }

// Groups returns every group name, all and ungrouped included, sorted.
func (inv *Inventory) Groups() []string { return slices.Sorted(maps.Keys(inv.groups)) }

// GroupHosts returns the hosts placed directly in a group (not those of
// its children), or nil for an unknown group.
func (inv *Inventory) GroupHosts(name string) []string {
	if g, ok := inv.groups[name]; ok {
		return slices.Clone(g.hosts)
	}
	return nil
}

// GroupChildren returns a group's child groups, or nil.
func (inv *Inventory) GroupChildren(name string) []string {
	if g, ok := inv.groups[name]; ok {
		return slices.Clone(g.children)
	}
	return nil
}

// HostGroups returns the groups a host is placed in directly, or nil for
// an unknown host.
func (inv *Inventory) HostGroups(name string) []string {
	if h, ok := inv.hosts[name]; ok {
		return slices.Clone(h.groups)
	}
	return nil
}

// HostVars returns a host's variables as Ansible computes them, each
// layer overriding the one before: the inventory's vars of every group the
// host belongs to, directly or through children, from the shallowest
// group (all) to the deepest, groups of equal depth by name; then the
// group_vars/ files in the same order (all first); then the host's own
// vars in the inventory; then its host_vars/ files. It returns nil for an
// unknown host.
func (inv *Inventory) HostVars(name string) map[string]any {
	h, ok := inv.hosts[name]
	if !ok {
		return nil
	}
	seen := map[string]bool{"all": true}
	var walk func(string)
	walk = func(g string) {
		if seen[g] {
			return
		}
		seen[g] = true
		for _, p := range inv.groups[g].parents {
			walk(p)
		}
	}
	for _, g := range h.groups {
		walk(g)
	}
	groups := slices.Collect(maps.Keys(seen))
	slices.SortFunc(groups, func(a, b string) int {
		if d := inv.groups[a].depth - inv.groups[b].depth; d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	vars := make(map[string]any)
	for _, g := range groups {
		maps.Copy(vars, inv.groups[g].vars)
	}
	for _, g := range groups {
		maps.Copy(vars, inv.groups[g].fileVars)
	}
	maps.Copy(vars, h.vars)
	maps.Copy(vars, h.fileVars)
	return vars
}

// Target is how to reach one inventory host over SSH, from the
// connection variables Ansible's ssh plugin reads. Empty fields (0 for
// Port) mean the variable is not set: the caller's defaults and
// ~/.ssh/config apply.
type Target struct {
	Name    string   // the inventory name (inventory_hostname)
	Address string   // ansible_host, else Name
	Port    int      // ansible_port (or ansible_ssh_port)
	User    string   // ansible_user (or ansible_ssh_user)
	KeyFile string   // ansible_ssh_private_key_file (or ansible_private_key_file)
	SSHArgs []string // ansible_ssh_common_args then ansible_ssh_extra_args, split as a shell does
	// Connection is ansible_connection: "" (Ansible's default, ssh),
	// "ssh", "paramiko", or a transport that is not SSH at all ("local",
	// "winrm", "docker", ...), which an SSH client cannot use.
	Connection string
}

// ViaSSH reports whether the host is reached over SSH: its
// ansible_connection is unset, ssh, smart or paramiko.
func (t Target) ViaSSH() bool {
	switch t.Connection {
	case "", "ssh", "smart", "paramiko", "paramiko_ssh", "ansible.builtin.ssh", "ansible.builtin.paramiko_ssh":
		return true
	}
	return false
}

// SSHOptions picks the ssh_config lines (ssh -o) out of SSHArgs, in
// order; other returns the arguments that are not -o options (a caller
// that has no ssh command line to pass them to can name them).
func (t Target) SSHOptions() (opts, other []string) {
	args := t.SSHArgs
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-o" && i+1 < len(args):
			opts = append(opts, args[i+1])
			i++
		case strings.HasPrefix(a, "-o") && len(a) > 2:
			opts = append(opts, a[2:])
		default:
			other = append(other, a)
		}
	}
	return opts, other
}

// Target returns the connection settings of a host. A variable of the
// wrong type, a port outside 1-65535, an unbalanced quote in the ssh
// arguments, a Jinja2 template ("{{ ... }}", which this package does
// not evaluate) or an ansible-vault value (not decrypted either) is an
// error naming the host and the variable.
func (inv *Inventory) Target(name string) (Target, error) {
	vars := inv.HostVars(name)
	if vars == nil {
		return Target{}, fmt.Errorf("inventory: no host %q", name)
	}
	t := Target{Name: name, Address: name}
	str := func(keys ...string) (string, error) {
		for _, k := range keys {
			v, ok := vars[k]
			if !ok || v == nil {
				continue
			}
			s, ok := v.(string)
			if !ok {
				s = fmt.Sprint(v)
			}
			if strings.Contains(s, "{{") {
				return "", fmt.Errorf("inventory: host %s: %s: templates are not evaluated: %q", name, k, s)
			}
			if strings.HasPrefix(s, "$ANSIBLE_VAULT;") {
				return "", fmt.Errorf("inventory: host %s: %s: vault-encrypted values are not decrypted", name, k)
			}
			return s, nil
		}
		return "", nil
	}
	var err error
	if a, err := str("ansible_host", "ansible_ssh_host"); err != nil {
		return Target{}, err
	} else if a != "" {
		t.Address = a
	}
	if t.User, err = str("ansible_user", "ansible_ssh_user"); err != nil {
		return Target{}, err
	}
	if t.KeyFile, err = str("ansible_ssh_private_key_file", "ansible_private_key_file"); err != nil {
		return Target{}, err
	}
	if t.Connection, err = str("ansible_connection"); err != nil {
		return Target{}, err
	}
	port, err := str("ansible_port", "ansible_ssh_port")
	if err != nil {
		return Target{}, err
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return Target{}, fmt.Errorf("inventory: host %s: ansible_port %q is not 1-65535", name, port)
		}
		t.Port = n
	}
	for _, k := range []string{"ansible_ssh_common_args", "ansible_ssh_extra_args"} {
		s, err := str(k)
		if err != nil {
			return Target{}, err
		}
		args, err := shellWords(s, false)
		if err != nil {
			return Target{}, fmt.Errorf("inventory: host %s: %s: %w", name, k, err)
		}
		t.SSHArgs = append(t.SSHArgs, args...)
	}
	return t, nil
}

// MarshalJSON writes the inventory as `ansible-inventory --list` does:
// each group with its direct "hosts" and "children" (groups with neither
// are left out), and "_meta.hostvars" with the merged variables of each
// host that has any.
func (inv *Inventory) MarshalJSON() ([]byte, error) {
	type groupJSON struct {
		Hosts    []string `json:"hosts,omitempty"`
		Children []string `json:"children,omitempty"`
	}
	out := make(map[string]any)
	hostvars := make(map[string]map[string]any)
	for _, h := range inv.hostOrder {
		if vars := inv.HostVars(h); len(vars) > 0 {
			hostvars[h] = vars
		}
	}
	out["_meta"] = map[string]any{"hostvars": hostvars}
	for _, name := range inv.groupOrder {
		g := inv.groups[name]
		if len(g.hosts) == 0 && len(g.children) == 0 {
			continue
		}
		out[name] = groupJSON{Hosts: g.hosts, Children: g.children}
	}
	return json.Marshal(out)
}

// normalizeNumber turns whole float64s (as JSON decodes numbers) into
// ints, so a port reads the same from every source.
func normalizeNumber(v any) any {
	if f, ok := v.(float64); ok && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return int(f)
	}
	return v
}
