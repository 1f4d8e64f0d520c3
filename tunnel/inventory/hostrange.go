package inventory

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
)

// MaxHosts bounds what one host pattern may expand to, so a typo such as
// web[1:1000000000] is an error instead of a process that fills memory.
const MaxHosts = 100_000

// ErrTooManyHosts is wrapped by the error of a pattern that would expand
// to more than [MaxHosts] names.
var ErrTooManyHosts = fmt.Errorf("more than %d hosts", MaxHosts)

// Expand expands the ranges in a host pattern, as Ansible inventories and
// pdsh write them, into host names in order:
//
//	web[01:03]        web01 web02 web03  (Ansible; leading zeros keep the width)
//	node[1-3,8]       node1 node2 node3 node8  (pdsh)
//	db-[a:c]          db-a db-b db-c
//	h[0:10:5]         h0 h5 h10  (a stride, as Ansible)
//	r[1:2]-[a:b]      r1-a r1-b r2-a r2-b
//
// A pattern with no range is returned as it is. Brackets that do not hold
// a range, such as an IPv6 address in [::1]:22, are kept as they are. A
// pattern that would expand to more than [MaxHosts] names returns an
// error wrapping [ErrTooManyHosts]; a malformed range (web[5:1], [a:3])
// returns an error naming the pattern.
func Expand(pattern string) ([]string, error) {
	parts, err := splitRanges(pattern)
	if err != nil {
		return nil, fmt.Errorf("inventory: host pattern %q: %w", pattern, err)
	}
	total := 1
	for _, p := range parts {
		if p.items == nil {
			continue
		}
		total *= p.count()
		if total > MaxHosts {
			return nil, fmt.Errorf("inventory: host pattern %q: %w", pattern, ErrTooManyHosts)
		}
	}
	names := []string{""}
	for _, p := range parts {
		if p.items == nil {
			for i := range names {
				names[i] += p.text
			}
			continue
		}
		next := make([]string, 0, len(names)*p.count())
		for _, n := range names {
			for _, it := range p.items {
				for v := range it.values() {
					next = append(next, n+v)
				}
			}
		}
		names = next
	}
	return names, nil
}

// HasRange reports whether pattern holds a range that [Expand] expands.
func HasRange(pattern string) bool {
	parts, err := splitRanges(pattern)
	if err != nil {
		return true // malformed, but meant as a range
	}
	for _, p := range parts {
		if p.items != nil {
			return true
		}
	}
	return false
}

// rangePart is literal text, or (items != nil) one bracketed range.
type rangePart struct {
	text  string
	items []rangeItem
}

func (p rangePart) count() int {
	n := 0
	for _, it := range p.items {
		n += it.count()
	}
	return n
}

// rangeItem is first..last by step; width > 0 pads numbers with zeros;
// alpha ranges hold letters in first and last.
type rangeItem struct {
	first, last, step int
	width             int
	alpha             bool
}

func (it rangeItem) count() int { return (it.last-it.first)/it.step + 1 }

func (it rangeItem) values() func(func(string) bool) {
	return func(yield func(string) bool) {
		for v := it.first; v <= it.last; v += it.step {
			var s string
			switch {
			case it.alpha:
				s = string(rune(v))
			case it.width > 0:
				s = fmt.Sprintf("%0*d", it.width, v)
			default:
				s = strconv.Itoa(v)
			}
			if !yield(s) {
				return
			}
		}
	}
}

// splitRanges cuts pattern into literal text and ranges. A bracket whose
// content is not range syntax (an IPv6 address, a word) is literal text.
func splitRanges(pattern string) ([]rangePart, error) {
	var parts []rangePart
	lit := ""
	for s := pattern; s != ""; {
		open := strings.IndexByte(s, '[')
		if open < 0 {
			lit += s
			break
		}
		end := strings.IndexByte(s[open:], ']')
		if end < 0 {
			lit += s
			break
		}
		body := s[open+1 : open+end]
		if !looksLikeRange(body) {
			lit += s[:open+end+1]
			s = s[open+end+1:]
			continue
		}
		items, err := parseRange(body)
		if err != nil {
			return nil, err
		}
		if lit += s[:open]; lit != "" {
			parts = append(parts, rangePart{text: lit})
			lit = ""
		}
		parts = append(parts, rangePart{items: items})
		s = s[open+end+1:]
	}
	if lit != "" {
		parts = append(parts, rangePart{text: lit})
	}
	return parts, nil
}

// looksLikeRange: letters, digits and the separators : - , only, with a
// separator or a number, and not an IPv6 address.
func looksLikeRange(body string) bool {
	if body == "" || net.ParseIP(body) != nil {
		return false
	}
	sep, digit := false, false
	for _, r := range body {
		switch {
		case r == ':' || r == '-' || r == ',':
			sep = true
		case r >= '0' && r <= '9':
			digit = true
		case r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
		default:
			return false
		}
	}
	if !sep && !digit {
		return false // [web]: a bracketed name, not a range
	}
	return !strings.Contains(body, "::")
}

func parseRange(body string) ([]rangeItem, error) {
	var items []rangeItem
	for _, f := range strings.Split(body, ",") {
		it, err := parseRangeItem(f)
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	return items, nil
}

// parseRangeItem reads x, x-y, x:y or x:y:step.
func parseRangeItem(s string) (rangeItem, error) {
	var bounds []string
	if strings.Contains(s, ":") {
		bounds = strings.Split(s, ":")
	} else {
		bounds = strings.SplitN(s, "-", 2)
	}
	if len(bounds) > 3 || bounds[0] == "" || (len(bounds) > 1 && bounds[1] == "") {
		return rangeItem{}, fmt.Errorf("range item %q: want first:last, first-last or first:last:step", s)
	}
	first, last := bounds[0], bounds[0]
	if len(bounds) > 1 {
		last = bounds[1]
	}
	it := rangeItem{step: 1}
	if len(bounds) == 3 {
		st, err := strconv.Atoi(bounds[2])
		if err != nil || st < 1 {
			return rangeItem{}, fmt.Errorf("range item %q: step %q is not a positive number", s, bounds[2])
		}
		it.step = st
	}
	if isLetter(first) || isLetter(last) {
		if !isLetter(first) || !isLetter(last) {
			return rangeItem{}, fmt.Errorf("range item %q: mixes letters and numbers", s)
		}
		it.alpha, it.first, it.last = true, int(first[0]), int(last[0])
	} else {
		a, err1 := strconv.Atoi(first)
		b, err2 := strconv.Atoi(last)
		if err1 != nil || err2 != nil || a < 0 || b < 0 {
			return rangeItem{}, fmt.Errorf("range item %q: bounds must be numbers or single letters", s)
		}
		it.first, it.last = a, b
		if len(first) > 1 && first[0] == '0' {
			it.width = len(first)
		}
	}
	if it.first > it.last {
		return rangeItem{}, fmt.Errorf("range item %q: first is after last", s)
	}
	return it, nil
}

func isLetter(s string) bool {
	return len(s) == 1 && (s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z')
}

// ExpandAll expands every pattern and joins the names, keeping their order
// and dropping repeats. The total is bounded by [MaxHosts] too.
func ExpandAll(patterns []string) ([]string, error) {
	var out []string
	seen := make(map[string]bool)
	for _, p := range patterns {
		names, err := Expand(p)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
		if len(out) > MaxHosts {
			return nil, fmt.Errorf("inventory: %w", ErrTooManyHosts)
		}
	}
	return out, nil
}

// SplitList splits comma-separated host patterns, keeping commas inside
// brackets: "web[1-3,8],db1" is web[1-3,8] and db1.
func SplitList(s string) []string {
	var out []string
	depth, start := 0, 0
	flush := func(end int) {
		if p := strings.TrimSpace(s[start:end]); p != "" {
			out = append(out, p)
		}
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[':
			depth++
		case ']':
			depth = max(depth-1, 0)
		case ',':
			if depth == 0 {
				flush(i)
				start = i + 1
			}
		}
	}
	flush(len(s))
	return out
}

// Compress is the inverse of [Expand] for display, as dshbak -c and pdsh
// print host lists: names that differ only in one number are folded into
// one range, "web[01-48,50]" or "u[1-3]@10.0.0.1:22" (when names of the
// same shape differ in several numbers, in the last one), and the groups
// are joined with commas, sorted. Zero-padded numbers stay with names of
// the same width.
func Compress(hosts []string) string {
	type key struct {
		prefix, suffix string
		width          int // > 0: zero-padded to this width
	}
	type numbered struct {
		name   string
		prefix string
		digits string
		suffix string
	}
	var plain []string
	var nums []numbered
	padded := make(map[key]bool)
	varying := varyingRuns(hosts)
	for _, h := range hosts {
		runs := digitRuns(h)
		if len(runs) == 0 {
			plain = append(plain, h)
			continue
		}
		r := runs[len(runs)-1]
		if i, ok := varying[skeleton(h, runs)]; ok {
			r = runs[i]
		}
		n := numbered{name: h, prefix: h[:r[0]], digits: h[r[0]:r[1]], suffix: h[r[1]:]}
		if len(n.digits) > 18 {
			plain = append(plain, h)
			continue
		}
		if len(n.digits) > 1 && n.digits[0] == '0' {
			padded[key{n.prefix, n.suffix, len(n.digits)}] = true
		}
		nums = append(nums, n)
	}
	groups := make(map[key][]int)
	var keys []key
	for _, n := range nums {
		k := key{n.prefix, n.suffix, 0}
		if padded[key{n.prefix, n.suffix, len(n.digits)}] {
			k.width = len(n.digits)
		}
		v, _ := strconv.Atoi(n.digits)
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], v)
	}
	var out []string
	for _, k := range keys {
		vs := groups[k]
		slices.Sort(vs)
		vs = slices.Compact(vs)
		format := func(v int) string { return fmt.Sprintf("%0*d", k.width, v) }
		if len(vs) == 1 {
			out = append(out, k.prefix+format(vs[0])+k.suffix)
			continue
		}
		var b strings.Builder
		b.WriteString(k.prefix + "[")
		for i := 0; i < len(vs); {
			j := i
			for j+1 < len(vs) && vs[j+1] == vs[j]+1 {
				j++
			}
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(format(vs[i]))
			if j > i {
				b.WriteString("-" + format(vs[j]))
			}
			i = j + 1
		}
		b.WriteString("]" + k.suffix)
		out = append(out, b.String())
	}
	out = append(out, plain...)
	slices.SortFunc(out, CompareNatural)
	return strings.Join(slices.Compact(out), ",")
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

// digitRuns returns the [start, end) of each run of digits in s.
func digitRuns(s string) [][2]int {
	var runs [][2]int
	for i := 0; i < len(s); {
		if !isDigit(rune(s[i])) {
			i++
			continue
		}
		j := i
		for j < len(s) && isDigit(rune(s[j])) {
			j++
		}
		runs = append(runs, [2]int{i, j})
		i = j
	}
	return runs
}

// skeleton is s with each run of digits replaced by #.
func skeleton(s string, runs [][2]int) string {
	var b strings.Builder
	last := 0
	for _, r := range runs {
		b.WriteString(s[last:r[0]])
		b.WriteByte('#')
		last = r[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

// varyingRuns finds, for each skeleton shared by several names, the one
// run of digits that differs between them, so that u1@10.0.0.1:22 and
// u2@10.0.0.1:22 fold on the 1 and 2, not on the port. Skeletons whose
// names differ in more than one run (or in none) are left out: Compress
// then folds on the last run, as pdsh does.
func varyingRuns(hosts []string) map[string]int {
	first := make(map[string][]string) // skeleton -> the digits of its first name
	vary := make(map[string]int)       // skeleton -> varying run, or -1 for several
	for _, h := range hosts {
		runs := digitRuns(h)
		sk := skeleton(h, runs)
		ds := make([]string, len(runs))
		for i, r := range runs {
			ds[i] = strings.TrimLeft(h[r[0]:r[1]], "0")
		}
		f, ok := first[sk]
		if !ok {
			first[sk] = ds
			continue
		}
		for i := range ds {
			if ds[i] == f[i] {
				continue
			}
			if v, seen := vary[sk]; seen && v != i {
				vary[sk] = -1
			} else if !seen {
				vary[sk] = i
			}
		}
	}
	for sk, v := range vary {
		if v < 0 {
			delete(vary, sk)
		}
	}
	return vary
}

// CompareNatural orders names with their numbers as numbers, so that
// web2 comes before web10 (leading zeros do not count: web02 and web2 are
// equal); it is the order [Compress] and dshbak -c show hosts in, as a cmp
// function for slices.SortFunc.
func CompareNatural(a, b string) int {
	for a != "" && b != "" {
		if isDigit(rune(a[0])) && isDigit(rune(b[0])) {
			i, j := 0, 0
			for i < len(a) && isDigit(rune(a[i])) {
				i++
			}
			for j < len(b) && isDigit(rune(b[j])) {
				j++
			}
			x, y := strings.TrimLeft(a[:i], "0"), strings.TrimLeft(b[:j], "0")
			if c := len(x) - len(y); c != 0 {
				return c
			}
			if c := strings.Compare(x, y); c != 0 {
				return c
			}
			a, b = a[i:], b[j:]
			continue
		}
		if a[0] != b[0] {
			return int(a[0]) - int(b[0])
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}
