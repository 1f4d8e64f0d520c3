//go:build unix

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeSystemdUnit checks the README's systemd unit: with
// ProtectSystem=strict, the --state-dir it gives serve must be one the unit
// makes writable (StateDirectory= or ReadWritePaths=), and
// `systemd-analyze verify` must find nothing to say about it (skipped when
// systemd-analyze is not installed).
func TestReadmeSystemdUnit(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```\n(\\[Unit\\]\n.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md has no systemd unit (a ``` block starting with [Unit])")
	}
	unit := string(m[1])
	keys := map[string][]string{}
	for _, line := range strings.Split(unit, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			keys[k] = append(keys[k], v)
		}
	}
	if len(keys["ExecStart"]) != 1 {
		t.Fatalf("unit has %d ExecStart lines, want 1", len(keys["ExecStart"]))
	}
	argv := strings.Fields(keys["ExecStart"][0])
	var stateDir string
	methods := false
	for i, a := range argv {
		switch {
		case a == "--state-dir" && i+1 < len(argv):
			stateDir = argv[i+1]
		case a == "--methods":
			methods = true
		}
	}
	if !methods || stateDir == "" {
		t.Fatalf("ExecStart %q: want serve with --methods and --state-dir", keys["ExecStart"][0])
	}
	var writable []string
	for _, d := range keys["StateDirectory"] {
		for _, name := range strings.Fields(d) {
			writable = append(writable, filepath.Join("/var/lib", name))
		}
	}
	for _, d := range keys["ReadWritePaths"] {
		writable = append(writable, strings.Fields(d)...)
	}
	if len(keys["ProtectSystem"]) > 0 && keys["ProtectSystem"][0] == "strict" {
		ok := false
		for _, w := range writable {
			if stateDir == w || strings.HasPrefix(stateDir, w+"/") {
				ok = true
			}
		}
		if !ok {
			t.Errorf("--state-dir %s is read-only under ProtectSystem=strict: writable are %q", stateDir, writable)
		}
	}

	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skipf("systemd-analyze not installed: unit checked by parsing only (%v)", err)
	}
	// verify wants ExecStart's program to exist: point it at this rpcssh.
	dir := t.TempDir()
	path := filepath.Join(dir, "rpcssh.service")
	unit = strings.Replace(unit, "ExecStart="+argv[0], "ExecStart="+relBinary(t), 1)
	if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(sa, "verify", path)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	if err != nil || out.Len() > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out.String())
	}
}
