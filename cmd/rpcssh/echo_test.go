package main

import (
	"os/exec"
	"strings"
	"testing"
)

// echoCases are inputs whose upper case is not rune by rune, with
// Python's str.upper() answers (checked against python3 below when it is
// installed).
var echoCases = []struct{ in, want string }{
	{"hi", "HI"},
	{"grüße", "GRÜSSE"},              // ß has no one-rune upper case
	{"\ufb01ne", "FINE"},             // the fi ligature
	{"\u01c6emal", "\u01c4EMAL"},     // a digraph
	{"\u1fb3", "\u0391\u0399"},       // alpha with ypogegrammeni
	{"\u0390", "\u0399\u0308\u0301"}, // iota with dialytika and tonos
	{"\u0149", "\u02bcN"},            // n preceded by apostrophe
	{"istanbul", "ISTANBUL"},         // no Turkish dotted I: Python is locale-free
	{"", ""},
}

func TestEchoUppercasesLikePython(t *testing.T) {
	t.Parallel()
	for _, tt := range echoCases {
		if got := upper(tt.in); got != tt.want {
			t.Errorf("upper(%q) = %+q, want %+q", tt.in, got, tt.want)
		}
	}
	if _, err := exec.LookPath("python3"); err != nil {
		t.Log("python3 not installed: checked the table only")
		return
	}
	var ins []string
	for _, tt := range echoCases {
		ins = append(ins, tt.in)
	}
	cmd := exec.Command("python3", "-c", "import sys\nfor s in sys.stdin.read().split('\\0'): sys.stdout.write(s.upper() + '\\0')")
	cmd.Stdin = strings.NewReader(strings.Join(ins, "\x00"))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v", err)
	}
	py := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	for i, tt := range echoCases {
		if i < len(py) && py[i] != tt.want {
			t.Errorf("python3 %q.upper() = %+q, but the table says %+q", tt.in, py[i], tt.want)
		}
	}
}
