package program

import (
	"regexp"
	"strings"
)

// locator finds the line of a key in a methods file. BurntSushi/toml
// reports positions for syntax and type errors only, and not per element
// of an array of tables, so the checks done after decoding find their
// line here: the i-th [[method]] header, the j-th [[method.param]] after
// it, and the first "key =" line of that table. A key written another way
// (a dotted key, an inline table) falls back to the table's header line.
type locator struct{ lines []string }

var (
	reMethod   = regexp.MustCompile(`^\s*\[\[\s*method\s*\]\]`)
	reParam    = regexp.MustCompile(`^\s*\[\[\s*method\s*\.\s*param\s*\]\]`)
	reHeader   = regexp.MustCompile(`^\s*\[`)
	reKeyStart = regexp.MustCompile(`^\s*["']?([A-Za-z0-9_-]+)["']?\s*=`)
)

func newLocator(data []byte) *locator {
	return &locator{lines: strings.Split(string(data), "\n")}
}

// method returns the line (1-based) of the i-th [[method]] header and
// the line where its section ends (exclusive).
func (l *locator) method(i int) (start, end int) {
	n := -1
	start, end = 0, len(l.lines)+1
	for k, s := range l.lines {
		if !reMethod.MatchString(s) {
			continue
		}
		n++
		if n == i {
			start = k + 1
		} else if n == i+1 {
			end = k + 1
			break
		}
	}
	return start, end
}

// param returns the span of the j-th [[method.param]] of the i-th method.
func (l *locator) param(i, j int) (start, end int) {
	ms, me := l.method(i)
	if ms == 0 {
		return 0, 0
	}
	n := -1
	start, end = ms, me
	for k := ms; k < me-1 && k < len(l.lines); k++ {
		if !reParam.MatchString(l.lines[k]) {
			continue
		}
		n++
		if n == j {
			start = k + 1
		} else if n == j+1 {
			end = k + 1
			break
		}
	}
	return start, end
}

// key returns the line of "key =" in the table whose header is on line
// start (up to the next header), or start when it is not written so.
func (l *locator) key(start, end int, key string) int {
	if start == 0 {
		return 0
	}
	for k := start; k < end-1 && k < len(l.lines); k++ {
		s := l.lines[k]
		if reHeader.MatchString(s) {
			break
		}
		if m := reKeyStart.FindStringSubmatch(s); m != nil && m[1] == key {
			return k + 1
		}
	}
	return start
}

// anyKey returns the first line that assigns key anywhere, or 0.
func (l *locator) anyKey(key string) int {
	for k, s := range l.lines {
		if m := reKeyStart.FindStringSubmatch(s); m != nil && m[1] == key {
			return k + 1
		}
	}
	return 0
}
