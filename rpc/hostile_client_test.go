package rpc_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rpcssh/rpcssh/rpc"
)

// TestHostileServerAnswers: each hostile or broken answer makes Call
// return the exact error within a bounded time (never a crash or a hang),
// and the same Client then succeeds against the server behaving again,
// so nothing in its connection pool stays poisoned.
func TestHostileServerAnswers(t *testing.T) {
	const limit = 1 << 20
	xml := func(w http.ResponseWriter, body string) {
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, body)
	}
	fault := func(code string) string {
		return `<?xml version="1.0"?><methodResponse><fault><value><struct>` +
			`<member><name>faultCode</name><value>` + code + `</value></member>` +
			`<member><name>faultString</name><value><string>went wrong</string></value></member>` +
			`</struct></value></fault></methodResponse>`
	}
	value := func(v string) string {
		return `<?xml version="1.0"?><methodResponse><params><param><value>` + v + `</value></param></params></methodResponse>`
	}
	tests := []struct {
		name    string
		handler http.HandlerFunc
		timeout time.Duration // bounds the call; default 20 s
		want    string        // the exact error
		is      error         // and what it must wrap, if anything
	}{
		{name: "fault with a string code", handler: func(w http.ResponseWriter, r *http.Request) { xml(w, fault("<string>E42</string>")) },
			want: `rpc: call "m": fault 0: went wrong (faultCode "E42")`, is: new(rpc.Fault)},
		{name: "fault with a numeric-string code", handler: func(w http.ResponseWriter, r *http.Request) { xml(w, fault("<string>42</string>")) },
			want: `rpc: call "m": fault 42: went wrong`, is: new(rpc.Fault)},
		{name: "fault without a code", handler: func(w http.ResponseWriter, r *http.Request) {
			xml(w, `<?xml version="1.0"?><methodResponse><fault><value><struct><member><name>faultString</name><value>x</value></member></struct></value></fault></methodResponse>`)
		}, want: `rpc: call "m": fault 0: x`, is: new(rpc.Fault)},
		{name: "a million nested arrays", handler: func(w http.ResponseWriter, r *http.Request) {
			// value(strings.Repeat("<array><data><value>", 1_000_000)),
			// written a thousand levels at a time: building the 20 MB
			// string first takes seconds under -race.
			head, tail, _ := strings.Cut(value("|"), "|")
			xml(w, head)
			unit := strings.Repeat("<array><data><value>", 1000)
			for range 1000 {
				if _, err := io.WriteString(w, unit); err != nil {
					return
				}
			}
			io.WriteString(w, tail)
		}, want: `rpc: call "m": response: param 1: ` + strings.Repeat("element 0: ", 128) + `values nested deeper than 128 levels (Limits.MaxDepth)`},
		{name: "10,000-digit int", handler: func(w http.ResponseWriter, r *http.Request) {
			xml(w, value("<int>"+strings.Repeat("7", 10000)+"</int>"))
		},
			want: `rpc: call "m": response: param 1: int "` + strings.Repeat("7", 40) + `"... (10000 digits) out of range`},
		{name: "billion laughs", handler: func(w http.ResponseWriter, r *http.Request) { xml(w, billionLaughs()) },
			want: `rpc: call "m": response: xml syntax error at byte 21: DOCTYPE and other declarations are not allowed`},
		{name: "HTML error page", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, "<html><body><h1>502 Bad Gateway</h1></body></html>")
		}, want: `rpc: call "m": http status 502 Bad Gateway`},
		{name: "endless header", handler: nil, // raw: see below
			want: `rpc: call "m": Post "URL": net/http: HTTP/1.x transport connection broken: net/http: server response headers exceeded 10485760 bytes; aborted`},
		{name: "response that never ends, slowly", timeout: 500 * time.Millisecond, handler: func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "text/xml")
			io.WriteString(w, `<?xml version="1.0"?><methodResponse><params><param><value><string>`)
			for r.Context().Err() == nil { // a byte every 10 ms: never reaches the size limit
				if _, err := io.WriteString(w, "x"); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				time.Sleep(10 * time.Millisecond)
			}
		}, want: `rpc: call "m": response: read body: context deadline exceeded`, is: context.DeadlineExceeded},
		{name: "connection closed mid-response", handler: func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			conn, brw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				return
			}
			brw.WriteString("HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 1000\r\n\r\n<?xml version=\"1.0\"?><methodResponse><params>")
			brw.Flush()
			conn.Close()
		}, want: `rpc: call "m": response: read body: unexpected EOF`, is: io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hostile atomic.Bool
			hostile.Store(true)
			handler := tt.handler
			if handler == nil { // endless header: net/http cannot write that, so hijack
				handler = func(w http.ResponseWriter, r *http.Request) {
					io.Copy(io.Discard, r.Body)
					conn, brw, err := http.NewResponseController(w).Hijack()
					if err != nil {
						return
					}
					defer conn.Close()
					brw.WriteString("HTTP/1.1 200 OK\r\nX-Endless: ")
					chunk := strings.Repeat("a", 32<<10)
					for range 1024 { // 32 MiB at most
						if _, err := brw.WriteString(chunk); err != nil {
							return
						}
					}
				}
			}
			hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if hostile.Load() {
					handler(w, r)
					return
				}
				io.Copy(io.Discard, r.Body)
				xml(w, okResponse)
			}))
			t.Cleanup(hs.Close)
			c, err := rpc.NewClient(rpc.ClientConfig{URL: hs.URL, Limits: rpc.Limits{MaxBodyBytes: limit}})
			if err != nil {
				t.Fatal(err)
			}
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 20 * time.Second
			}
			ctx, cancel := context.WithTimeout(t.Context(), timeout)
			defer cancel()
			start := time.Now()
			var got any
			err = c.Call(ctx, "m", nil, &got)
			t.Logf("returned after %v", time.Since(start).Round(time.Millisecond))
			want := strings.ReplaceAll(tt.want, "URL", hs.URL)
			if err == nil || err.Error() != want {
				t.Errorf("Call = %v, %v;\nwant error %q", got, err, want)
			}
			if f, ok := tt.is.(*rpc.Fault); ok {
				if !errors.As(err, &f) {
					t.Errorf("error %v is not a *rpc.Fault", err)
				}
			} else if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v does not wrap %v", err, tt.is)
			}
			hostile.Store(false)
			var s string
			if err := c.Call(testCtx(t), "m", nil, &s); err != nil || s != "ok" {
				t.Errorf("the same client against a good answer = %q, %v; want ok", s, err)
			}
		})
	}
}

// TestServerThatNeverAnswers: a TCP peer that accepts and then neither
// reads nor writes; the call ends with its ctx, and a raw peer that answers
// garbage instead of HTTP gives an error at once.
func TestServerThatNeverAnswers(t *testing.T) {
	for _, tt := range []struct {
		name   string
		answer string // "" : say nothing
		want   string
	}{
		{"silent", "", `rpc: call "m": Post "URL": context deadline exceeded`},
		{"SSH banner instead of HTTP", "SSH-2.0-OpenSSH_9.2p1\r\n", `rpc: call "m": Post "URL": net/http: HTTP/1.x transport connection broken: malformed HTTP response "SSH-2.0-OpenSSH_9.2p1"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Close() })
			go func() {
				for {
					conn, err := l.Accept()
					if err != nil {
						return
					}
					t.Cleanup(func() { conn.Close() })
					if tt.answer != "" {
						if req, err := http.ReadRequest(bufio.NewReader(conn)); err == nil {
							io.Copy(io.Discard, req.Body)
						}
						io.WriteString(conn, tt.answer)
						conn.Close()
					}
				}
			}()
			url := fmt.Sprintf("http://%s/RPC2", l.Addr())
			c, err := rpc.NewClient(rpc.ClientConfig{URL: url})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
			defer cancel()
			err = c.Call(ctx, "m", nil, nil)
			if want := strings.ReplaceAll(tt.want, "URL", url); err == nil || err.Error() != want {
				t.Errorf("Call = %v;\nwant %q", err, want)
			}
		})
	}
}
