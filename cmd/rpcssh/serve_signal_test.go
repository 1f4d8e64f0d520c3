//go:build unix

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeSIGHUPStopsGracefully sends SIGHUP to a real serve while a call
// runs: the call gets its full answer and serve exits 0 saying it
// stopped, as it does for SIGTERM (without handling, SIGHUP kills it).
func TestServeSIGHUPStopsGracefully(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	started := filepath.Join(dir, "started")
	methods := filepath.Join(dir, "methods.toml")
	toml := fmt.Sprintf(`[[method]]
name = "slow"
argv = ["/bin/sh", "-c", "echo x > %s; sleep 1; echo done"]
timeout = "30s"
`, started)
	if err := os.WriteFile(methods, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	const pw = "sighup-test"
	srv, addr := startServe(t, relBinary(t), pw, "--methods", methods, "--state-dir", filepath.Join(dir, "state"))
	c := relClient(t, addr, pw)
	type answer struct {
		res map[string]any
		err error
	}
	done := make(chan answer, 1)
	go func() {
		var res map[string]any
		err := c.Call(relCtx(t, 30*time.Second), "slow", nil, &res)
		done <- answer{res, err}
	}()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(started); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the call did not start in 20 s")
		}
	}
	if err := srv.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	a := <-done
	if a.err != nil || a.res["stdout"] != "done\n" {
		t.Errorf("call in flight at SIGHUP = %v, %v; want stdout \"done\\n\"", a.res, a.err)
	}
	if code := srv.exited(t, 20*time.Second); code != 0 {
		t.Errorf("serve exit code after SIGHUP = %d, want 0", code)
	}
	if !strings.Contains(srv.stderr.String(), "rpcssh: stopped") {
		t.Errorf("serve did not report stopping:\n%s", srv.stderr.String())
	}
}
