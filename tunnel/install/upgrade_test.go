package install_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rpcssh/rpcssh/rpc"
	"github.com/rpcssh/rpcssh/tunnel"
	"github.com/rpcssh/rpcssh/tunnel/install"
)

// tickMethods declares tick: an async method that prints "tick N" every
// 200 ms until its file exists (at most a minute), then "done", and exits
// 3. The test ends it, so a slow machine cannot end it before the upgrade.
const tickMethods = `[[method]]
name = "tick"
help = "Prints a line every 200 ms until the file exists, then done, and exits 3."
async = true
argv = ["sh", "-c", 'i=1; while [ ! -e "$0" ] && [ $i -le 300 ]; do echo "tick $i"; i=$((i+1)); sleep 0.2; done; echo done; exit 3', "{finish}"]
env = ["PATH"]
[[method.param]]
name = "finish"
type = "string"
`

// TestUpgradeKeepsJob is issue 16's "upgrade with an async job running":
// version A serves a job, `install` of version B restarts serve onto B,
// and the job runs on under the new serve, ends, and its output is
// complete and its exit code recorded. The old version's directory is
// there until the new serve answered, and gone after.
func TestUpgradeKeepsJob(t *testing.T) {
	t.Parallel() // its own account, sshd, ports and builds
	r := newRig(t)
	bins := buildVersions(t, "v0.1.0", "v0.2.0")
	binA, binB := bins[0], bins[1]
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c := r.dial(t)
	port := freePort(t)
	home := r.acct.Home
	methods := filepath.Join(t.TempDir(), "methods.toml")
	if err := os.WriteFile(methods, []byte(tickMethods), 0o600); err != nil {
		t.Fatal(err)
	}

	a, err := install.Install(ctx, c, install.Options{Binary: binA, Methods: methods, Port: port})
	if err != nil {
		t.Fatalf("Install(A) error = %v", err)
	}
	if a.Binary.Version != "v0.1.0" || a.Server.Version != "v0.1.0" {
		t.Fatalf("install A: binary %q, serve answers %q; want v0.1.0 for both", a.Binary.Version, a.Server.Version)
	}
	client := serveClient(t, c, port, a.Password)
	finish := filepath.Join(home, "finish")
	var id string
	if err := client.Call(ctx, "tick", []any{finish}, &id); err != nil {
		t.Fatalf("start tick: %v", err)
	}
	waitOutput(ctx, t, client, id, "tick 3\n")

	oldDir := filepath.Join(home, ".local/lib/rpcssh", a.Binary.ID)
	oldThereAtRecord := false
	b, err := install.Install(ctx, c, install.Options{Binary: binB, Port: port, Progress: func(s install.Step) {
		if s.Name == "record" { // announced once the new serve answered, run after
			_, err := os.Stat(oldDir)
			oldThereAtRecord = err == nil
		}
	}})
	if err != nil {
		t.Fatalf("Install(B) with a job running: %v", err)
	}
	if b.Server.Version != "v0.2.0" || b.Server.PID == a.Server.PID || !b.Restarted {
		t.Errorf("after install B: serve %q pid %d (A's pid %d), restarted %v; want v0.2.0 in a new process", b.Server.Version, b.Server.PID, a.Server.PID, b.Restarted)
	}
	if !oldThereAtRecord {
		t.Errorf("%s was gone before the new serve answered; want it removed only after", oldDir)
	}
	if _, err := os.Stat(oldDir); !os.IsNotExist(err) {
		t.Errorf("%s after the upgrade: %v; want it removed", oldDir, err)
	}

	// The new serve adopted the job: it is running and still printing.
	client = serveClient(t, c, port, b.Password)
	var st map[string]any
	if err := client.Call(ctx, "jobs.status", []any{id}, &st); err != nil || st["state"] != "running" {
		t.Fatalf("jobs.status under serve B = %v, %v; want running", st, err)
	}
	n := lineCount(waitOutput(ctx, t, client, id, ""))
	waitOutput(ctx, t, client, id, fmt.Sprintf("tick %d\n", n+3))
	if err := os.WriteFile(finish, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := client.Call(ctx, "jobs.wait", []any{id, 60.0}, &st); err != nil {
		t.Fatalf("jobs.wait: %v", err)
	}
	if st["state"] != "exited" || fmt.Sprint(st["exit_code"]) != "3" {
		t.Errorf("job after the upgrade ended as %v (exit code %v), want exited with exit code 3", st["state"], st["exit_code"])
	}
	out := waitOutput(ctx, t, client, id, "done\n")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	for i, l := range lines[:len(lines)-1] {
		if want := "tick " + strconv.Itoa(i+1); l != want {
			t.Fatalf("output line %d = %q, want %q (every tick once, in order):\n%s", i+1, l, want, out)
		}
	}
	if last := lines[len(lines)-1]; last != "done" || len(lines) < n+4 {
		t.Errorf("output ends with %q after %d lines, want done after at least %d ticks", last, len(lines), n+3)
	}
}

// serveClient calls the serve on the host's 127.0.0.1:port through c.
func serveClient(t *testing.T, c *tunnel.Client, port int, password string) *rpc.Client {
	t.Helper()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return c.DialContext(ctx, "tcp", addr)
	}}
	t.Cleanup(tr.CloseIdleConnections)
	client, err := rpc.NewClient(rpc.ClientConfig{URL: "http://" + addr + "/RPC2", Username: install.Username, Password: password, HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatal(err)
	}
	return client
}

// waitOutput reads the job's whole output until it contains want (at most
// a minute), and returns it.
func waitOutput(ctx context.Context, t *testing.T, client *rpc.Client, id, want string) string {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var out strings.Builder
		for off := 0; ; {
			var chunk struct {
				Data string `xmlrpc:"data"`
				Next int    `xmlrpc:"next_offset"`
			}
			if err := client.Call(ctx, "jobs.output", []any{id, off}, &chunk); err != nil {
				t.Fatalf("jobs.output %s: %v", id, err)
			}
			out.WriteString(chunk.Data)
			if chunk.Next == off || chunk.Data == "" {
				break
			}
			off = chunk.Next
		}
		if strings.Contains(out.String(), want) {
			return out.String()
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s output after a minute:\n%s\nwant %q in it", id, out.String(), want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func lineCount(s string) int { return strings.Count(s, "\n") }
