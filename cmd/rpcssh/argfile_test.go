package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestReadArgFileWhole checks that @file reads every byte of regular files
// around the sizes where its Stat-sized buffer is full, and of a pipe,
// whose size Stat does not know.
func TestReadArgFileWhole(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []int{0, 1, 511, 512, 513, 4096, 1 << 20} {
		want := bytes.Repeat([]byte("x"), n)
		name := filepath.Join(dir, "f")
		if err := os.WriteFile(name, want, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := readArgFile(name)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("readArgFile(%d bytes) = %d bytes, %v; want %d bytes, nil", n, len(got), err, n)
		}
	}
	if _, err := readArgFile(filepath.Join(dir, "missing")); err == nil {
		t.Error("readArgFile(missing) = nil error, want one")
	}
	if runtime.GOOS != "linux" {
		return
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	want := strings.Repeat("pipe", 100_000)
	go func() { w.WriteString(want); w.Close() }()
	got, err := readArgFile(fmt.Sprintf("/proc/self/fd/%d", r.Fd()))
	if err != nil || string(got) != want {
		t.Errorf("readArgFile(pipe of %d bytes) = %d bytes, %v; want all of it", len(want), len(got), err)
	}
}
