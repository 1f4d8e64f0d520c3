package fleet

import (
	"slices"

	"github.com/rpcssh/rpcssh/tunnel/inventory"
)

// Group is one distinct output and the hosts that gave it.
type Group struct {
	Hosts  []string // sorted as people read them: web2 before web10
	Output string
}

// Label is the group's hosts in compressed range form, "web[01-48,50]",
// as dshbak -c prints it.
func (g Group) Label() string { return inventory.Compress(g.Hosts) }

// GroupOutputs folds identical outputs together, as dshbak -c does: one
// Group per distinct output, the groups with the most hosts first, then
// by their first host.
func GroupOutputs(outputs map[string]string) []Group {
	byOutput := make(map[string]*Group)
	var groups []*Group
	for h, out := range outputs {
		g, ok := byOutput[out]
		if !ok {
			g = &Group{Output: out}
			byOutput[out] = g
			groups = append(groups, g)
		}
		g.Hosts = append(g.Hosts, h)
	}
	result := make([]Group, 0, len(groups))
	for _, g := range groups {
		slices.SortFunc(g.Hosts, inventory.CompareNatural)
		result = append(result, *g)
	}
	slices.SortFunc(result, func(a, b Group) int {
		if d := len(b.Hosts) - len(a.Hosts); d != 0 {
			return d
		}
		return inventory.CompareNatural(a.Hosts[0], b.Hosts[0])
	})
	return result
}
