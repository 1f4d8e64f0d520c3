package inventory

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// NoMatchError is returned by [Inventory.Select] for a pattern term that
// names no group or host.
type NoMatchError struct {
	Term string
}

func (e *NoMatchError) Error() string {
	return fmt.Sprintf("inventory: pattern %q matches no group or host", e.Term)
}

// Select returns the hosts a pattern names, in Ansible's pattern syntax
// (ansible --limit, hosts: in a play):
//
//	all, *           every host
//	web              a group's hosts (its children's included), or a host
//	web:db, web,db   union
//	web:&prod        intersection
//	web:!db          exclusion
//	web*, *.example.com, db-?  globs on group and host names
//	~web\d+          a regular expression on group and host names
//	web[0], web[-1], web[0:9], web[10:]  a slice of a group's hosts; the
//	                 end is included, as in Ansible
//
// Terms are split at commas, or at colons when there is no comma (colons
// inside [ ] belong to a slice). Unions are taken first, then
// intersections, then exclusions, whatever their order in the pattern.
// Hosts come back in inventory order within each term, unions in the
// order of their terms. A term that matches nothing returns a
// *[NoMatchError]: a typo in a rollout's --limit must not quietly
// shrink the fleet. A bad regular expression or slice is an error too.
func (inv *Inventory) Select(pattern string) ([]string, error) {
	terms := splitPattern(pattern)
	if len(terms) == 0 {
		return nil, fmt.Errorf("inventory: empty pattern")
	}
	var unions, inters, excls []string
	for _, t := range terms {
		switch t[0] {
		case '&':
			inters = append(inters, t[1:])
		case '!':
			excls = append(excls, t[1:])
		default:
			unions = append(unions, t)
		}
	}
	if len(unions) == 0 {
		unions = []string{"all"} // "!db" alone means all but db, as Ansible
	}
	var out []string
	seen := map[string]bool{}
	for _, t := range unions {
		hosts, err := inv.matchTerm(t)
		if err != nil {
			return nil, err
		}
		for _, h := range hosts {
			if !seen[h] {
				seen[h] = true
				out = append(out, h)
			}
		}
	}
	for _, t := range inters {
		hosts, err := inv.matchTerm(t)
		if err != nil {
			return nil, err
		}
		keep := setOf(hosts)
		out = slices.DeleteFunc(out, func(h string) bool { return !keep[h] })
	}
	for _, t := range excls {
		hosts, err := inv.matchTerm(t)
		if err != nil {
			return nil, err
		}
		drop := setOf(hosts)
		out = slices.DeleteFunc(out, func(h string) bool { return drop[h] })
	}
	return out, nil
}

func setOf(ss []string) map[string]bool {
	m := make(map[string]bool, len(ss))
	for _, s := range ss {
		m[s] = true
	}
	return m
}

// splitPattern cuts at commas if there are any outside brackets, else at
// colons outside brackets.
func splitPattern(p string) []string {
	sep := byte(':')
	if outsideBrackets(p, ',') {
		sep = ','
	}
	var terms []string
	depth, start := 0, 0
	for i := 0; i <= len(p); i++ {
		if i < len(p) {
			switch p[i] {
			case '[':
				depth++
				continue
			case ']':
				depth = max(depth-1, 0)
				continue
			}
			if p[i] != sep || depth > 0 {
				continue
			}
		}
		if t := strings.TrimSpace(p[start:i]); t != "" {
			terms = append(terms, t)
		}
		start = i + 1
	}
	return terms
}

// subscriptRE is a trailing [i], [i:j], [i:] or [:j] slice.
var subscriptRE = regexp.MustCompile(`^(.+)\[(-?\d*)(?::(-?\d*))?\]$`)

// matchTerm returns the hosts of one term (no & or ! prefix).
func (inv *Inventory) matchTerm(term string) ([]string, error) {
	base, sub := term, []string(nil)
	if m := subscriptRE.FindStringSubmatch(term); m != nil && !strings.HasPrefix(term, "~") {
		base = m[1]
		if strings.Contains(term[len(m[1]):], ":") {
			sub = []string{m[2], m[3]}
		} else {
			sub = []string{m[2]}
		}
	}
	hosts, err := inv.matchName(base)
	if err != nil {
		return nil, err
	}
	if len(hosts) == 0 {
		return nil, &NoMatchError{Term: term}
	}
	if sub != nil {
		hosts, err = slicePattern(hosts, sub, term)
		if err != nil {
			return nil, err
		}
	}
	return hosts, nil
}

// matchName matches a term by name: all or *, a regex (~), a glob, or a
// group or host name.
func (inv *Inventory) matchName(name string) ([]string, error) {
	if name == "all" || name == "*" {
		return inv.Hosts(), nil
	}
	var match func(string) bool
	switch {
	case strings.HasPrefix(name, "~"):
		re, err := regexp.Compile(name[1:])
		if err != nil {
			return nil, fmt.Errorf("inventory: pattern %q: %w", name, err)
		}
		match = func(s string) bool { return re.FindStringIndex(s) != nil && re.FindStringIndex(s)[0] == 0 }
	case strings.ContainsAny(name, "*?["):
		if _, err := path.Match(name, ""); err != nil {
			return nil, fmt.Errorf("inventory: pattern %q: %w", name, err)
		}
		match = func(s string) bool { ok, _ := path.Match(name, s); return ok }
	default:
		match = func(s string) bool { return s == name }
	}
	var out []string
	seen := map[string]bool{}
	add := func(h string) {
		if !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	for _, g := range inv.groupOrder {
		if match(g) {
			for _, h := range inv.groupHostsDeep(g) {
				add(h)
			}
		}
	}
	for _, h := range inv.hostOrder {
		if match(h) {
			add(h)
		}
	}
	return out, nil
}

// groupHostsDeep returns a group's hosts and its descendants', the group's
// own first, then each generation of children in order, as Ansible does.
func (inv *Inventory) groupHostsDeep(name string) []string {
	if name == "all" {
		return inv.Hosts()
	}
	var out []string
	seenHost, seenGroup := map[string]bool{}, map[string]bool{name: true}
	queue := []string{name}
	for len(queue) > 0 {
		g := inv.groups[queue[0]]
		queue = queue[1:]
		for _, h := range g.hosts {
			if !seenHost[h] {
				seenHost[h] = true
				out = append(out, h)
			}
		}
		for _, c := range g.children {
			if !seenGroup[c] {
				seenGroup[c] = true
				queue = append(queue, c)
			}
		}
	}
	return out
}

// slicePattern applies [i] or [i:j] (end included, negatives from the
// end) to hosts.
func slicePattern(hosts []string, sub []string, term string) ([]string, error) {
	n := len(hosts)
	index := func(s string, def int) (int, error) {
		if s == "" {
			return def, nil
		}
		i, err := strconv.Atoi(s)
		if err != nil {
			return 0, fmt.Errorf("inventory: pattern %q: bad index %q", term, s)
		}
		if i < 0 {
			i += n
		}
		return i, nil
	}
	start, err := index(sub[0], 0)
	if err != nil {
		return nil, err
	}
	if len(sub) == 1 {
		if sub[0] == "" || start < 0 || start >= n {
			return nil, fmt.Errorf("inventory: pattern %q: index out of range (%d hosts)", term, n)
		}
		return hosts[start : start+1], nil
	}
	end, err := index(sub[1], n-1)
	if err != nil {
		return nil, err
	}
	start, end = max(start, 0), min(end, n-1)
	if start > end {
		return nil, &NoMatchError{Term: term}
	}
	return slices.Clone(hosts[start : end+1]), nil
}
