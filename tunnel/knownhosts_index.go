package tunnel

import (
	"bytes"
	"cmp"
	"net"
	"os"
	"slices"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// hostKeyIndex gives the key types known_hosts lists for a host without
// scanning every line: a fleet's known_hosts has a line per host, so a
// scan per dial costs a fan-out time in the square of its size. It only
// orders the host key algorithms offered; the host key itself is still
// verified by x/crypto's knownhosts against every line.
//
// It is built only from files whose every line names plain hosts (host,
// or [host]:port): a hashed name, a wildcard, a negation or a marker
// (@cert-authority, @revoked) can match hosts an exact lookup would miss,
// so such files leave the index nil and the lookup to skeema's scan.
type hostKeyIndex map[string][]indexedKey // by knownhosts.Normalize(host)

type indexedKey struct {
	file string
	line int
	typ  string
}

// readHostKeyIndex indexes files (missing ones count as empty); nil when
// a line is not plain or does not parse.
func readHostKeyIndex(files []string) hostKeyIndex {
	ix := hostKeyIndex{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if os.IsNotExist(err) {
			continue
		} else if err != nil {
			return nil
		}
		for i, line := range bytes.Split(data, []byte("\n")) {
			line = bytes.TrimSpace(line)
			if len(line) == 0 || line[0] == '#' {
				continue
			}
			marker, hosts, key, _, _, err := ssh.ParseKnownHosts(line)
			if err != nil || marker != "" {
				return nil
			}
			for _, h := range hosts {
				if !plainKnownHost(h) {
					return nil
				}
				n := knownhosts.Normalize(h)
				ix[n] = append(ix[n], indexedKey{file: f, line: i + 1, typ: key.Type()})
			}
		}
	}
	return ix
}

// plainKnownHost reports whether a known_hosts host pattern matches
// exactly one name: no hashing, wildcard or negation, and a port only in
// the [host]:port form.
func plainKnownHost(h string) bool {
	if h == "" || strings.ContainsAny(h, "*?!|") {
		return false
	}
	if !strings.Contains(h, ":") {
		return true
	}
	if !strings.HasPrefix(h, "[") {
		return false // a bare IPv6 address: leave it to the scan
	}
	_, _, err := net.SplitHostPort(h)
	return err == nil
}

// algorithms returns the host key algorithms for name (host:port) as
// skeema's HostKeyAlgorithms does: the keys sorted by file name and line,
// an RSA key as rsa-sha2-512, rsa-sha2-256 and ssh-rsa, no repeats.
func (ix hostKeyIndex) algorithms(name string) []string {
	keys := slices.Clone(ix[knownhosts.Normalize(name)])
	slices.SortStableFunc(keys, func(a, b indexedKey) int {
		return cmp.Or(cmp.Compare(a.file, b.file), cmp.Compare(a.line, b.line))
	})
	var algos []string
	add := func(a string) {
		if !slices.Contains(algos, a) {
			algos = append(algos, a)
		}
	}
	for _, k := range keys {
		if k.typ == ssh.KeyAlgoRSA {
			add(ssh.KeyAlgoRSASHA512)
			add(ssh.KeyAlgoRSASHA256)
		}
		add(k.typ)
	}
	return algos
}
