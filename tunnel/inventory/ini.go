package inventory

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/big"
	"regexp"
	"strconv"
	"strings"
)

// sectionRE is Ansible's [group] / [group:children] / [group:vars] header.
var sectionRE = regexp.MustCompile(`^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$`)

// ParseINI reads an inventory in Ansible's INI format:
//
//	mail.example.com
//	[web]
//	web[01:50].example.com
//	web2 ansible_host=192.0.2.11 ansible_port=2222 ansible_user=ubuntu
//	[prod:children]
//	web
//	[web:vars]
//	http_port=80
//
// Hosts before the first section are ungrouped; host lines are split as a
// shell does, a host may carry ":PORT"; values are read as Python
// literals where they are one (2222 is a number, True a boolean, 'x' a
// string), as Ansible does, and kept as text otherwise. name says where
// the text came from, for errors ("hosts.ini:12: ..."). A section of an
// unknown type, a child group or :vars section for a group never declared,
// a malformed host line or range, or a cycle of children is an error.
func ParseINI(r io.Reader, name string) (*Inventory, error) {
	inv := newInventory()
	type pending struct {
		line    int
		parents []string
		vars    bool
	}
	waiting := map[string]*pending{}
	var waitOrder []string
	declared := map[string]bool{"all": true, "ungrouped": true}
	groupName, state := "ungrouped", "hosts"
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	n := 0
	fail := func(format string, args ...any) error {
		return fmt.Errorf("inventory: %s:%d: %s", name, n, fmt.Sprintf(format, args...))
	}
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if m := sectionRE.FindStringSubmatch(line); m != nil {
			groupName, state = m[1], m[2]
			if state == "" {
				state = "hosts"
			}
			if state != "hosts" && state != "children" && state != "vars" {
				return nil, fail("section [%s:%s] has unknown type %q", m[1], m[2], m[2])
			}
			if state == "vars" {
				if !declared[groupName] {
					if _, ok := waiting[groupName]; !ok {
						waiting[groupName] = &pending{line: n, vars: true}
						waitOrder = append(waitOrder, groupName)
					}
				}
				inv.group(groupName)
				continue
			}
			declared[groupName] = true
			inv.group(groupName)
			if p, ok := waiting[groupName]; ok {
				for _, parent := range p.parents {
					if err := inv.addChild(parent, groupName); err != nil {
						return nil, fail("%v", err)
					}
				}
				delete(waiting, groupName)
			}
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			return nil, fail("invalid section %q: no spaces or other characters allowed in a section name", line)
		}
		switch state {
		case "hosts":
			if err := parseHostLine(inv, groupName, line); err != nil {
				return nil, fail("%v", err)
			}
		case "vars":
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				return nil, fail("want key=value, got %q", line)
			}
			inv.group(groupName).vars[strings.TrimSpace(k)] = pythonLiteral(strings.TrimSpace(v))
		case "children":
			child := strings.Fields(line)[0]
			if i := strings.Index(child, "#"); i == 0 {
				continue
			}
			if declared[child] {
				if err := inv.addChild(groupName, child); err != nil {
					return nil, fail("%v", err)
				}
				continue
			}
			p, ok := waiting[child]
			if !ok {
				p = &pending{line: n}
				waiting[child] = p
				waitOrder = append(waitOrder, child)
			}
			p.parents = append(p.parents, groupName)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("inventory: %s:%d: %w", name, n+1, err)
	}
	for _, g := range waitOrder {
		p, ok := waiting[g]
		if !ok {
			continue
		}
		if p.vars && len(p.parents) == 0 {
			return nil, fmt.Errorf("inventory: %s:%d: section [%s:vars] is for a group that is never declared", name, p.line, g)
		}
		return nil, fmt.Errorf("inventory: %s:%d: section [%s:children] names a group that is never declared: %s", name, p.line, p.parents[len(p.parents)-1], g)
	}
	inv.finish()
	return inv, nil
}

// parseHostLine reads "PATTERN[:PORT] key=value ...".
func parseHostLine(inv *Inventory, group, line string) error {
	words, err := shellWords(line, true)
	if err != nil {
		return fmt.Errorf("host line %q: %w", line, err)
	}
	if len(words) == 0 {
		return nil
	}
	vars := make(map[string]any)
	for _, w := range words[1:] {
		k, v, ok := strings.Cut(w, "=")
		if !ok {
			return fmt.Errorf("want key=value after the host, got %q", w)
		}
		vars[k] = pythonLiteral(v)
	}
	names, port, err := expandHostEntry(words[0])
	if err != nil {
		return err
	}
	inv.addHostEntry(group, names, port, vars)
	return nil
}

// expandHostEntry reads a host entry as Ansible's parse_address does:
// PATTERN, PATTERN:PORT, [IPV6]:PORT or a bare IPv6 address, then expands
// the ranges in PATTERN.
func expandHostEntry(entry string) ([]string, int, error) {
	if strings.HasSuffix(entry, ":") {
		return nil, 0, fmt.Errorf("host %q ends in ':', which is reserved for a port", entry)
	}
	if entry == "---" {
		return nil, 0, errors.New("host '---' is a sign this is a YAML file")
	}
	pattern, port := entry, 0
	if i := strings.LastIndexByte(entry, ':'); i > 0 && isNumber(entry[i+1:]) && !outsideBrackets(entry[:i], ':') {
		p, err := strconv.Atoi(entry[i+1:])
		if err != nil || p < 1 || p > 65535 {
			return nil, 0, fmt.Errorf("host %q: port is not 1-65535", entry)
		}
		pattern, port = entry[:i], p
		if strings.HasPrefix(pattern, "[") && strings.HasSuffix(pattern, "]") && !looksLikeRange(pattern[1:len(pattern)-1]) {
			pattern = pattern[1 : len(pattern)-1] // [v6]:port
		}
	}
	names, err := Expand(pattern)
	if err != nil {
		return nil, 0, err
	}
	return names, port, nil
}

func isNumber(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !isDigit(r) {
			return false
		}
	}
	return true
}

// outsideBrackets reports whether c occurs in s outside [ ].
func outsideBrackets(s string, c byte) bool {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[':
			depth++
		case ']':
			depth = max(depth-1, 0)
		case c:
			if depth == 0 {
				return true
			}
		}
	}
	return false
}

// shellWords splits s as Python's shlex.split does (POSIX mode): blanks
// separate words, '...' is literal, "..." and bare text take \ escapes.
// With comments, a # that starts a word ends the line.
func shellWords(s string, comments bool) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '#' && comments && !inWord:
			return words, nil
		case c == '\'':
			inWord = true
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("no closing quotation")
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
		case c == '"':
			inWord = true
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\\\"$`\n", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, errors.New("no closing quotation")
			}
		case c == '\\':
			inWord = true
			if i+1 >= len(s) {
				return nil, errors.New("no escaped character")
			}
			i++
			cur.WriteByte(s[i])
		default:
			inWord = true
			cur.WriteByte(c)
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// pythonLiteral reads an INI value as Ansible's ast.literal_eval does for
// the literals an inventory uses: integers (0x, 0o, 0b, _), floats, True,
// False, None and quoted strings, with a trailing # comment allowed after
// a literal. Anything else is kept as the text it is.
func pythonLiteral(v string) any {
	s := strings.TrimSpace(v)
	if s == "" {
		return v
	}
	if s[0] == '\'' || s[0] == '"' {
		q := s[0]
		if end := strings.IndexByte(s[1:], q); end >= 0 && !strings.Contains(s[1:1+end], `\`) {
			rest := strings.TrimSpace(s[2+end:])
			if rest == "" || rest[0] == '#' {
				return s[1 : 1+end]
			}
		}
		return v
	}
	if i := strings.Index(s, "#"); i > 0 && (s[i-1] == ' ' || s[i-1] == '\t') {
		s = strings.TrimSpace(s[:i])
	}
	switch s {
	case "True":
		return true
	case "False":
		return false
	case "None":
		return nil
	}
	body, neg := s, false
	if strings.HasPrefix(body, "-") || strings.HasPrefix(body, "+") {
		body, neg = body[1:], body[0] == '-'
	}
	if body != "" && isDigit(rune(body[0])) {
		if n, ok := new(big.Int).SetString(pythonIntText(body), 0); ok && pythonIntValid(body) {
			if neg {
				n.Neg(n)
			}
			if n.IsInt64() {
				return int(n.Int64())
			}
			return v
		}
		if f, err := strconv.ParseFloat(strings.ReplaceAll(body, "_", ""), 64); err == nil && !strings.ContainsAny(body, "xXpP") {
			if neg {
				f = -f
			}
			return f
		}
	}
	return v
}

// pythonIntText turns Python's 0o17 and 1_000 into what big.Int reads.
func pythonIntText(s string) string { return strings.ReplaceAll(s, "_", "") }

// pythonIntValid refuses what Python refuses and big.Int would take: a
// leading zero on a decimal (017), and underscores at the edges.
func pythonIntValid(s string) bool {
	if strings.HasPrefix(s, "_") || strings.HasSuffix(s, "_") || strings.Contains(s, "__") {
		return false
	}
	if len(s) > 1 && s[0] == '0' && isDigit(rune(s[1])) {
		return strings.Trim(s, "0_") == ""
	}
	return true
}
