package install

import (
	"fmt"
	"strconv"
	"strings"
)

// Mismatch says why a client of version client should warn about a
// server of version server, or "" when it need not. A mismatch matters
// when both are release versions (vMAJOR.MINOR.PATCH, with or without a
// pre-release or build suffix) whose major or minor numbers differ: a
// minor version may add methods, flags and fields that the other does not
// know. Patch releases, equal strings and versions that say nothing
// comparable ("(devel)", a build without version) never matter; Go's
// pseudo-versions compare by the release they follow.
func Mismatch(client, server string) string {
	if client == server {
		return ""
	}
	cm, cn, ok1 := majorMinor(client)
	sm, sn, ok2 := majorMinor(server)
	switch {
	case !ok1 || !ok2:
		return ""
	case cm != sm:
		return fmt.Sprintf("major versions differ (server %s, this rpcssh %s)", server, client)
	case cn != sn:
		which := "older"
		if sn > cn {
			which = "newer"
		}
		return fmt.Sprintf("the server's rpcssh %s is %s than this rpcssh %s: a method, flag or field one of them has may be unknown to the other", server, which, client)
	}
	return ""
}

// majorMinor reads vMAJOR.MINOR.PATCH[-pre][+build].
func majorMinor(v string) (major, minor int, ok bool) {
	rest, ok := strings.CutPrefix(v, "v")
	if !ok {
		return 0, 0, false
	}
	if i := strings.IndexAny(rest, "-+"); i >= 0 {
		rest = rest[:i]
	}
	parts := strings.Split(rest, ".")
	if len(parts) != 3 {
		return 0, 0, false
	}
	var n [3]int
	for i, p := range parts {
		x, err := strconv.Atoi(p)
		if err != nil || x < 0 || p == "" || (len(p) > 1 && p[0] == '0') {
			return 0, 0, false
		}
		n[i] = x
	}
	return n[0], n[1], true
}
