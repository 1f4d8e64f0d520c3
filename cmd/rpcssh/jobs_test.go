package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rpcssh/rpcssh/rpc"
	"github.com/rpcssh/rpcssh/rpc/program"
)

// lockedBuffer is written by run's goroutine and read by the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// flakyProxy forwards TCP to a backend; cut closes every connection and
// refuses new ones until restore.
type flakyProxy struct {
	l       net.Listener
	backend string
	mu      sync.Mutex
	down    bool
	conns   []net.Conn
	wg      sync.WaitGroup
}

func newFlakyProxy(t *testing.T, backend string) *flakyProxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &flakyProxy{l: l, backend: backend}
	p.wg.Go(p.accept)
	t.Cleanup(func() { l.Close(); p.cut(); p.wg.Wait() })
	return p
}

func (p *flakyProxy) accept() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			c.Close()
			continue
		}
		b, err := net.Dial("tcp", p.backend)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns = append(p.conns, c, b)
		p.mu.Unlock()
		p.wg.Go(func() { io.Copy(b, c); b.Close() })
		p.wg.Go(func() { io.Copy(c, b); c.Close() })
	}
}

func (p *flakyProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *flakyProxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}

// startCountJob serves the jobs of a method that prints "line 1" to
// "line <lines>", one every 100 ms, over HTTP with cfg's credentials, and
// starts that job.
func startCountJob(t *testing.T, lines int, cfg rpc.ServerConfig) (*httptest.Server, string) {
	t.Helper()
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	dir := t.TempDir()
	methods := filepath.Join(dir, "methods.toml")
	script := fmt.Sprintf(`i=1; while [ $i -le %d ]; do echo "line $i"; i=$((i+1)); sleep 0.1; done`, lines)
	err := os.WriteFile(methods, []byte(`
[[method]]
name = "count"
async = true
argv = ["sh", "-c", '`+script+`']
env = ["PATH"]
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f, err := program.Load(methods)
	if err != nil {
		t.Fatal(err)
	}
	host, err := program.New(f, program.Config{StateDir: filepath.Join(dir, "state"), RunnerCommand: testRunnerCommand(t)})
	if err != nil {
		t.Fatal(err)
	}
	srv := rpc.NewServer(cfg)
	if err := host.Register(srv); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { hs.Close(); host.Close() })

	direct, err := rpc.NewClient(rpc.ClientConfig{URL: hs.URL + "/RPC2", Username: cfg.Username, Password: cfg.Password})
	if err != nil {
		t.Fatal(err)
	}
	var id string
	if err := direct.Call(context.Background(), "count", nil, &id); err != nil {
		t.Fatal(err)
	}
	return hs, id
}

// TestJobsFollowSurvivesALinkDrop follows a job through a proxy that
// drops every connection midway and refuses new ones for a while: follow
// reconnects and continues from its offset, printing each line once.
func TestJobsFollowSurvivesALinkDrop(t *testing.T) {
	t.Parallel()
	hs, id := startCountJob(t, 30, rpc.ServerConfig{})
	proxy := newFlakyProxy(t, hs.Listener.Addr().String())

	var out, errb lockedBuffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string { return map[string]string{"RPCSSH_PASSWORD": "unused"}[k] }}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"jobs", "follow", "--url", "http://" + proxy.l.Addr().String() + "/RPC2", id}, e)
	}()
	diag := func() string { return fmt.Sprintf("stdout %q stderr %s", out.String(), errb.String()) }
	waitFor(t, ctx, "line 3", func() bool { return strings.Contains(out.String(), "line 3\n") }, diag)
	proxy.cut()
	time.Sleep(time.Second)
	proxy.restore()

	var got int
	select {
	case got = <-code:
	case <-ctx.Done():
		t.Fatalf("follow did not end; %s", diag())
	}
	if got != exitOK || out.String() != wantLines(30) {
		t.Errorf("follow = %d; want 0 and each line once; %s", got, diag())
	}
	if !strings.Contains(errb.String(), "link lost") || !strings.Contains(errb.String(), "reconnected") {
		t.Errorf("stderr %q: want the drop and the reconnect reported", errb.String())
	}
}
