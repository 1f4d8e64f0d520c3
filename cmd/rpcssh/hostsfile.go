package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// maxHostsFile bounds what --hosts-file reads, so a wrong path (a disk
// image, /dev/zero) fails instead of filling memory.
const maxHostsFile = 16 << 20

// readHostsFile reads the destinations in path, or in stdin for "-".
func readHostsFile(path string, stdin io.Reader) ([]string, error) {
	if path == "-" {
		return parseHostsList(io.LimitReader(stdin, maxHostsFile+1), "standard input")
	}
	fh, err := os.Open(path)
	if err != nil {
		if isNotExist(err) {
			return nil, usageErrorf("--hosts-file %s: no such file", path)
		}
		return nil, fmt.Errorf("--hosts-file: %w", err)
	}
	defer fh.Close()
	return parseHostsList(io.LimitReader(fh, maxHostsFile+1), path)
}

// parseHostsList reads one SSH destination a line (anything --host
// takes, ssh_config aliases included). A # starts a comment, at the start
// of a line or after a space; blank lines are skipped. A line holding more
// than one word is an error: a typo there would otherwise reach the wrong
// host.
func parseHostsList(r io.Reader, name string) ([]string, error) {
	var hosts []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	read, n := 0, 0
	for sc.Scan() {
		n++
		line := sc.Text()
		read += len(line) + 1
		if read > maxHostsFile {
			return nil, usageErrorf("--hosts-file %s: larger than %d MiB", name, maxHostsFile>>20)
		}
		if i := commentStart(line); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(line)
		switch len(fields) {
		case 0:
			continue
		case 1:
			hosts = append(hosts, fields[0])
		default:
			return nil, usageErrorf("--hosts-file %s:%d: %q: one destination a line", name, n, strings.TrimSpace(line))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, usageErrorf("--hosts-file %s:%d: %v", name, n+1, err)
	}
	return hosts, nil
}

// commentStart is the index of the # that starts a comment, or -1. A #
// inside a word is kept.
func commentStart(line string) int {
	for i, r := range line {
		if r == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t') {
			return i
		}
	}
	return -1
}

// uniqueHosts drops repeated destinations, keeping the first, so a host
// listed twice is called once; it returns the repeats for a warning.
func uniqueHosts(hosts []string) (unique, repeated []string) {
	seen := make(map[string]bool, len(hosts))
	for _, h := range hosts {
		if seen[h] {
			repeated = append(repeated, h)
			continue
		}
		seen[h] = true
		unique = append(unique, h)
	}
	return unique, repeated
}
