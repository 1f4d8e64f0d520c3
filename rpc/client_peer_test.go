package rpc_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/rpcssh/rpcssh/rpc"
)

// cannedServer answers every request with status and body.
func cannedServer(t *testing.T, status int, header http.Header, body string) *httptest.Server {
	t.Helper()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		for k, v := range header {
			w.Header()[k] = v
		}
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "text/xml")
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(hs.Close)
	return hs
}

func faultResponse(codeValue, stringValue string) string {
	return `<?xml version="1.0"?><methodResponse><fault><value><struct>` +
		`<member><name>faultCode</name><value>` + codeValue + `</value></member>` +
		`<member><name>faultString</name><value>` + stringValue + `</value></member>` +
		`</struct></value></fault></methodResponse>`
}

// TestFaultStringOfAnyType: a faultString that is not a string (Perl's
// XMLRPC::Lite sends base64) still gives the fault its text.
func TestFaultStringOfAnyType(t *testing.T) {
	tests := []struct {
		name, value, want string
	}{
		{"string", "<string>disk full</string>", "disk full"},
		{"untyped", "disk full", "disk full"},
		{"base64", "<base64>ZGlzayBmdWxs</base64>", "disk full"},
		{"base64 not utf-8", "<base64>/w==</base64>", `"\xff"`},
		{"int", "<int>7</int>", "7"},
		{"multi-line", "<string>line one\nline two</string>", "line one\nline two"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := cannedServer(t, 200, nil, faultResponse("<int>4</int>", tt.value))
			c := newClient(t, hs.URL)
			err := c.Call(testCtx(t), "m", nil, nil)
			var f *rpc.Fault
			if !errors.As(err, &f) || f.Code != 4 || f.Message != tt.want {
				t.Errorf("Call = %v, want fault 4 with message %q", err, tt.want)
			}
		})
	}
}

// TestCallFollowsNoRedirect: a 301/302/303/307/308 is an error naming the
// new location (password redacted); the target never sees a request, so
// the credentials never leave for it.
func TestCallFollowsNoRedirect(t *testing.T) {
	var hits atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, okResponse)
	}))
	t.Cleanup(target.Close)
	for _, code := range []int{301, 302, 303, 307, 308} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			loc := strings.Replace(target.URL, "http://", "http://u:leak@", 1) + "/elsewhere"
			want := target.URL[len("http://"):] + "/elsewhere"
			hs := cannedServer(t, code, http.Header{"Location": {loc}}, "")
			if code == 307 {
				loc = "/relative" // resolved against the request URL
				hs = cannedServer(t, code, http.Header{"Location": {loc}}, "")
				want = hs.URL + "/relative"
			}
			for _, hc := range []*http.Client{nil, {}} {
				c, err := rpc.NewClient(rpc.ClientConfig{URL: hs.URL + "/RPC2", Username: "u", Password: "pw", HTTPClient: hc})
				if err != nil {
					t.Fatal(err)
				}
				err = c.Call(testCtx(t), "m", nil, nil)
				var he *rpc.HTTPError
				if !errors.As(err, &he) || he.StatusCode != code || !strings.Contains(err.Error(), want) {
					t.Errorf("Call = %v, want an HTTPError %d naming the location", err, code)
				}
				if strings.Contains(err.Error(), "leak") {
					t.Errorf("error %q shows the password of the location", err)
				}
			}
		})
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the redirect target got %d requests, want 0", n)
	}
}

// rawServer accepts connections on loopback and hands each to serve,
// counting the requests it reads.
type rawServer struct {
	l        net.Listener
	requests atomic.Int64
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    []net.Conn
}

func newRawServer(t *testing.T, serve func(s *rawServer, c net.Conn)) *rawServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawServer{l: l}
	s.wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			s.wg.Go(func() { defer c.Close(); serve(s, c) })
		}
	})
	t.Cleanup(func() {
		// The client may hold a connection it never sent on: close them
		// all, or a handler waits for its request until the client's
		// idle timeout.
		l.Close()
		s.mu.Lock()
		for _, c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

func (s *rawServer) url() string { return "http://" + s.l.Addr().String() + "/RPC2" }

// readRequest reads one request off c and counts it.
func (s *rawServer) readRequest(br *bufio.Reader) bool {
	req, err := http.ReadRequest(br)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, req.Body)
	s.requests.Add(1)
	return true
}

const okReply = "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: " // + len + "\r\n\r\n" + body

func writeOK(c net.Conn) {
	io.WriteString(c, okReply+strconv.Itoa(len(okResponse))+"\r\n\r\n"+okResponse)
}

// TestCallRetriesAConnectionClosedAfterEachAnswer: a server that closes
// every connection after its answer without Connection: close (Perl's
// Frontier::Daemon): every call succeeds, each reaching the server once.
func TestCallRetriesAConnectionClosedAfterEachAnswer(t *testing.T) {
	s := newRawServer(t, func(s *rawServer, c net.Conn) {
		if s.readRequest(bufio.NewReader(c)) {
			writeOK(c)
		}
	})
	c := newClient(t, s.url())
	const calls = 200
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range 10 {
		wg.Go(func() {
			for range calls / 10 {
				if err := c.Call(testCtx(t), "m", nil, nil); err != nil {
					failed.Add(1)
					t.Log(err)
				}
			}
		})
	}
	wg.Wait()
	if n := failed.Load(); n != 0 {
		t.Errorf("%d of %d calls failed, want 0", n, calls)
	}
	if n := s.requests.Load(); n != calls {
		t.Errorf("server read %d requests, want %d (one per call)", n, calls)
	}
}

// TestCallNeverRepeatsWhatMayHaveReachedTheServer: no retry when the
// connection was fresh, or when any byte of an answer came back.
func TestCallNeverRepeatsWhatMayHaveReachedTheServer(t *testing.T) {
	t.Run("fresh connection closed without an answer", func(t *testing.T) {
		s := newRawServer(t, func(s *rawServer, c net.Conn) { s.readRequest(bufio.NewReader(c)) })
		c := newClient(t, s.url())
		if err := c.Call(testCtx(t), "m", nil, nil); err == nil {
			t.Fatal("Call succeeded, want an error")
		}
		if n := s.requests.Load(); n != 1 {
			t.Errorf("server read %d requests, want 1", n)
		}
	})
	t.Run("reused connection cut after part of an answer", func(t *testing.T) {
		s := newRawServer(t, func(s *rawServer, c net.Conn) {
			br := bufio.NewReader(c)
			if !s.readRequest(br) {
				return
			}
			writeOK(c) // kept alive
			if s.readRequest(br) {
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Le")
			}
		})
		c := newClient(t, s.url())
		if err := c.Call(testCtx(t), "m", nil, nil); err != nil {
			t.Fatal(err)
		}
		if err := c.Call(testCtx(t), "m", nil, nil); err == nil {
			t.Fatal("second Call succeeded, want an error")
		}
		if n := s.requests.Load(); n != 2 {
			t.Errorf("server read %d requests, want 2 (no retry)", n)
		}
	})
}

// TestResponseTooLargeNamesNoGoIdentifier: the error of a response past
// the client's limit matches ErrResponseTooLarge and reads as words.
func TestResponseTooLargeNamesNoGoIdentifier(t *testing.T) {
	big := `<?xml version="1.0"?><methodResponse><params><param><value><string>` + strings.Repeat("x", 4096) + `</string></value></param></params></methodResponse>`
	hs := cannedServer(t, 200, nil, big)
	c, err := rpc.NewClient(rpc.ClientConfig{URL: hs.URL, Limits: rpc.Limits{MaxBodyBytes: 1024}})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Call(testCtx(t), "m", nil, nil)
	if !errors.Is(err, rpc.ErrResponseTooLarge) || strings.Contains(err.Error(), "Limits") || strings.Contains(err.Error(), "MaxBodyBytes") {
		t.Errorf("Call = %v, want ErrResponseTooLarge in plain words", err)
	}
}
