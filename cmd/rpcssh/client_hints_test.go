package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/rpcssh/rpcssh/rpc"
)

const listMethodsAnswer = `<?xml version="1.0"?><methodResponse><params><param><value><array><data><value><string>known</string></value></data></array></value></param></params></methodResponse>`

// TestHTTP404HintIsHonest: a 404 from a server that answers XML-RPC on
// that path (node's xmlrpc does this for an unknown method) gets a hint
// about the method, not about --path; a server that has nothing there
// still gets the --path hint.
func TestHTTP404HintIsHonest(t *testing.T) {
	nodeLike := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if !strings.Contains(string(b), "<methodName>system.listMethods</methodName>") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, listMethodsAnswer)
	}))
	t.Cleanup(nodeLike.Close)
	nothing := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(nothing.Close)
	tests := []struct {
		name, url, want, notWant string
	}{
		{"answers xml-rpc", nodeLike.URL + "/RPC2", `has no method "nope"`, "--path"},
		{"nothing there", nothing.URL + "/RPC2", "--path", "has no method"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _, errb := testEnv(map[string]string{"RPCSSH_PASSWORD": "pw"})
			if got := run(context.Background(), []string{"call", "--url", tt.url, "nope"}, e); got != exitError {
				t.Errorf("run = %d, want %d", got, exitError)
			}
			if !strings.Contains(errb.String(), "404") || !strings.Contains(errb.String(), tt.want) || strings.Contains(errb.String(), tt.notWant) {
				t.Errorf("stderr = %q, want 404 and %q, not %q", errb, tt.want, tt.notWant)
			}
		})
	}
}

// TestRedirectIsNotFollowed: a redirect is an error naming the location
// with a hint; the target never sees the call or the password.
func TestRedirectIsNotFollowed(t *testing.T) {
	var mu sync.Mutex
	var targetAuth []string
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		targetAuth = append(targetAuth, r.Header.Get("Authorization"))
		mu.Unlock()
	}))
	t.Cleanup(target.Close)
	redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/steal", http.StatusSeeOther)
	}))
	t.Cleanup(redirecting.Close)
	e, out, errb := testEnv(map[string]string{"RPCSSH_PASSWORD": "pw"})
	if got := run(context.Background(), []string{"call", "--url", redirecting.URL + "/RPC2", "echo", "hi"}, e); got != exitError {
		t.Errorf("run = %d, want %d", got, exitError)
	}
	if !strings.Contains(errb.String(), "redirected to "+target.URL+"/steal") || !strings.Contains(errb.String(), "rpcssh: hint: rpcssh follows no redirect") {
		t.Errorf("stderr = %q, want the location and the hint", errb)
	}
	if out.Len() != 0 {
		t.Errorf("stdout = %q, want nothing", out)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(targetAuth) != 0 {
		t.Errorf("the redirect target got %d requests (Authorization %q), want none", len(targetAuth), targetAuth)
	}
}

// TestSizeLimitHints: a 413 names serve's --max-body-mib; a response past
// --max-response-mib names that flag; neither shows a Go identifier.
func TestSizeLimitHints(t *testing.T) {
	t.Parallel()
	srv := rpc.NewServer(rpc.ServerConfig{Username: "user", Password: "pw", Limits: rpc.Limits{MaxBodyBytes: 2 << 20}})
	if err := srv.RegisterMethod(rpc.Method{Name: "first", Raw: func(_ context.Context, params []any) (any, error) { return params[0], nil }}); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	dir := t.TempDir()
	for name, size := range map[string]int{"1.5MiB": 3 << 19, "3MiB": 3 << 20} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(strings.Repeat("x", size)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	url := hs.URL + "/RPC2"
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"request too large", []string{"call", "--url", url, "first", "@" + filepath.Join(dir, "3MiB")}, exitError, "--max-body-mib"},
		{"response too large", []string{"call", "--url", url, "--max-response-mib", "1", "first", "@" + filepath.Join(dir, "1.5MiB")}, exitError, "--max-response-mib"},
		{"response within a raised limit", []string{"call", "--url", url, "--max-response-mib", "2", "--out", filepath.Join(dir, "out"), "first", "@" + filepath.Join(dir, "1.5MiB")}, exitOK, ""},
		{"limit zero", []string{"call", "--url", url, "--max-response-mib", "0", "first", "x"}, exitUsage, "--max-response-mib 0"},
		{"jobs limit too big", []string{"jobs", "list", "--url", url, "--max-response-mib", "99999999"}, exitUsage, "--max-response-mib"},
		{"bench limit zero", []string{"bench", "--url", url, "--max-response-mib", "0", "first", "x"}, exitUsage, "--max-response-mib"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _, errb := testEnv(map[string]string{"RPCSSH_PASSWORD": "pw"})
			if got := run(context.Background(), tt.args, e); got != tt.code {
				t.Errorf("run = %d, want %d; stderr %s", got, tt.code, errb)
			}
			if !strings.Contains(errb.String(), tt.want) {
				t.Errorf("stderr = %q, want %q", errb, tt.want)
			}
			for _, ident := range []string{"Limits.", "MaxBodyBytes", "ErrResponse"} {
				if strings.Contains(errb.String(), ident) {
					t.Errorf("stderr = %q shows the Go identifier %s", errb, ident)
				}
			}
		})
	}
}

// closingServer answers each XML-RPC request, then closes the connection
// without Connection: close, as Perl's Frontier::Daemon does.
func closingServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	const body = `<?xml version="1.0"?><methodResponse><params><param><value><string>HI</string></value></param></params></methodResponse>`
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() {
				defer c.Close()
				req, err := http.ReadRequest(bufio.NewReader(c))
				if err != nil {
					return
				}
				io.Copy(io.Discard, req.Body)
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body)
			})
		}
	})
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return "http://" + l.Addr().String() + "/RPC2"
}

// TestBenchAgainstAServerClosingEachConnection: rpcssh bench -c 10 -n 200
// against a server that closes after every answer has no error.
func TestBenchAgainstAServerClosingEachConnection(t *testing.T) {
	benchWithoutErrors(t, closingServer(t), "pw")
}

// benchWithoutErrors runs rpcssh bench -c 10 -n 200 echo hi against url
// and fails the test unless all 200 calls succeed.
func benchWithoutErrors(t *testing.T, url, password string) benchReport {
	t.Helper()
	e, out, errb := testEnv(map[string]string{"RPCSSH_PASSWORD": password})
	if got := run(context.Background(), []string{"bench", "--url", url, "-c", "10", "-n", "200", "--output", "json", "echo", "hi"}, e); got != exitOK {
		t.Fatalf("bench = %d; stderr %s", got, errb)
	}
	var r benchReport
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("bench output %q: %v", out, err)
	}
	if r.Calls != 200 || r.Errors != 0 {
		t.Errorf("bench: %d calls, %d errors (first: %s); want 200 calls, 0 errors", r.Calls, r.Errors, r.FirstError)
	}
	return r
}
