package rpc_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rpcssh/rpcssh/rpc"
)

// hostileCall wraps one param value in a methodCall of method.
func hostileCall(method, value string) string {
	return `<?xml version="1.0"?><methodCall><methodName>` + method + `</methodName><params><param><value>` +
		value + `</value></param></params></methodCall>`
}

// billionLaughs is the classic ten-level entity expansion (10^9 "lol"s).
func billionLaughs() string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">`)
	for i := 1; i <= 9; i++ {
		prev := "lol"
		if i > 1 {
			prev = fmt.Sprintf("lol%d", i-1)
		}
		fmt.Fprintf(&b, `<!ENTITY lol%d "%s">`, i, strings.Repeat("&"+prev+";", 10))
	}
	b.WriteString(`]>`)
	b.WriteString(hostileCall("echo", "<string>&lol9;</string>")[len(`<?xml version="1.0"?>`):])
	return b.String()
}

// TestHostileRequestBodies sends each hostile methodCall over HTTP with
// valid credentials and checks the exact answer: HTTP 200 with a fault of
// the given code and message. Then the server must still answer echo.
func TestHostileRequestBodies(t *testing.T) {
	// External entities point at things whose use would be observable: a
	// file holding a marker, and an HTTP server counting its requests.
	marker := fmt.Sprintf("XXE-MARKER-%d", time.Now().UnixNano())
	secretFile := filepath.Join(t.TempDir(), "secret.txt")
	if err := os.WriteFile(secretFile, []byte(marker), 0o600); err != nil {
		t.Fatal(err)
	}
	var fetched atomic.Int32
	dtdServer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetched.Add(1)
		io.WriteString(w, `<!ENTITY x "`+marker+`">`)
	}))
	t.Cleanup(dtdServer.Close)
	fileURL := "file://" + secretFile

	digits := strings.Repeat("9", 10000)
	tests := []struct {
		name     string
		body     string
		wantCode int
		wantMsg  string
	}{
		{"billion laughs", billionLaughs(), rpc.CodeParse, "xml syntax error at byte 21: DOCTYPE and other declarations are not allowed"},
		{"quadratic blowup", `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "` + strings.Repeat("a", 100000) + `">]>` +
			hostileCall("echo", "<string>"+strings.Repeat("&a;", 10000)+"</string>")[len(`<?xml version="1.0"?>`):], rpc.CodeParse, "xml syntax error at byte 21: DOCTYPE and other declarations are not allowed"},
		{"external entity (file)", `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "` + fileURL + `">]>` +
			hostileCall("echo", "<string>&xxe;</string>")[len(`<?xml version="1.0"?>`):], rpc.CodeParse, "xml syntax error at byte 21: DOCTYPE and other declarations are not allowed"},
		{"external entity (http)", `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "` + dtdServer.URL + `/e">]>` +
			hostileCall("echo", "<string>&xxe;</string>")[len(`<?xml version="1.0"?>`):], rpc.CodeParse, "xml syntax error at byte 21: DOCTYPE and other declarations are not allowed"},
		{"external parameter entity", `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY % p SYSTEM "` + dtdServer.URL + `/p"> %p;]>` +
			hostileCall("echo", "<string>&x;</string>")[len(`<?xml version="1.0"?>`):], rpc.CodeParse, "xml syntax error at byte 21: DOCTYPE and other declarations are not allowed"},
		{"external DTD", `<?xml version="1.0"?><!DOCTYPE methodCall SYSTEM "` + fileURL + `">` +
			hostileCall("echo", "<string>x</string>")[len(`<?xml version="1.0"?>`):], rpc.CodeParse, "xml syntax error at byte 21: DOCTYPE and other declarations are not allowed"},
		{"undeclared entity", hostileCall("echo", "<string>&xxe;</string>"), rpc.CodeParse, "xml syntax error at byte 97: unknown entity &xxe; (only the five predefined ones are allowed)"},
		{"not XML", "GET / HTTP/1.0", rpc.CodeParse, "xml syntax error at byte 0: text outside the root element"},
		{"empty body", "", rpc.CodeInvalidRequest, "want <methodCall>, got end of input"},
		{"truncated XML", hostileCall("echo", "<string>abc</string>")[:70], rpc.CodeParse, "xml syntax error at byte 70: unexpected end of input inside <params>"},
		{"unknown method", hostileCall("no.such.method", "<int>1</int>"), rpc.CodeMethodNotFound, `method "no.such.method" not found`},
		{"wrong param type", strings.Replace(hostileCall("add", "<string>one</string>"), "</params>", "<param><value><int>2</int></value></param></params>", 1), rpc.CodeInvalidParams, "param 1: want int, got string"},
		{"too few params", hostileCall("add", "<int>1</int>"), rpc.CodeInvalidParams, "want 2 params, got 1"},
		{"too many params", strings.Replace(hostileCall("add", "<int>1</int>"), "</params>", strings.Repeat("<param><value><int>2</int></value></param>", 2)+"</params>", 1), rpc.CodeInvalidParams, "want 2 params, got 3"},
		{"spam value", hostileCall("echo", "<spam/>"), rpc.CodeInvalidRequest, "param 1: unknown value type <spam>"},
		{"10,000-digit int", hostileCall("echo", "<int>"+digits+"</int>"), rpc.CodeInvalidParams, `param 1: int "` + digits[:40] + `"... (10000 digits) out of range`},
		{"i8 overflowing int64", hostileCall("echo", "<i8>9223372036854775808</i8>"), rpc.CodeInvalidParams, `param 1: i8 "9223372036854775808" out of range`},
		{"10,000-digit i8", hostileCall("echo", "<i8>-"+digits+"</i8>"), rpc.CodeInvalidParams, `param 1: i8 "-` + digits[:39] + `"... (10000 digits) out of range`},
		{"10,000-digit double", hostileCall("echo", "<double>"+digits+"e99999</double>"), rpc.CodeInvalidParams, `param 1: invalid double "` + digits[:40] + `"...`},
		{"invalid UTF-8 in a string", hostileCall("echo", "<string>ab\xff\xfe</string>"), rpc.CodeParse, "xml syntax error at byte 94: invalid UTF-8"},
		{"invalid UTF-8 in the method name", hostileCall("ec\xc3ho", "<string>x</string>"), rpc.CodeParse, "xml syntax error at byte 47: invalid UTF-8"},
		{"control character", hostileCall("echo", "<string>a\x01b</string>"), rpc.CodeParse, "xml syntax error at byte 93: character U+1 not allowed in XML"},
		{"NUL character", hostileCall("echo", "<string>a\x00b</string>"), rpc.CodeParse, "xml syntax error at byte 93: character U+0 not allowed in XML"},
		{"control character reference", hostileCall("echo", "<string>a&#27;b</string>"), rpc.CodeParse, "xml syntax error at byte 98: invalid character reference &#27;"},
		{"NUL character reference", hostileCall("echo", "<string>a&#0;b</string>"), rpc.CodeParse, "xml syntax error at byte 97: invalid character reference &#0;"},
	}
	_, hs := newTestServer(t, rpc.ServerConfig{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := post(t, hs.URL+"/RPC2", strings.NewReader(tt.body), nil)
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status = %d, want 200 with a fault; body %q", resp.StatusCode, body)
			}
			if bytes.Contains(body, []byte(marker)) {
				t.Errorf("response contains the external entity's content: %q", body)
			}
			err = rpc.DecodeResponse(bytes.NewReader(body), rpc.Limits{}, nil)
			var f *rpc.Fault
			if !errors.As(err, &f) {
				t.Fatalf("response decodes to %v, want a fault; body %q", err, body)
			}
			if f.Code != tt.wantCode || f.Message != tt.wantMsg {
				t.Errorf("fault = %d %q, want %d %q", f.Code, f.Message, tt.wantCode, tt.wantMsg)
			}
			mustEcho(t, newClient(t, hs.URL))
		})
	}
	if n := fetched.Load(); n != 0 {
		t.Errorf("the server fetched an external entity %d times, want 0", n)
	}
}

// TestWideIntsAccepted: <int> and <i4> beyond 32 bits are accepted as
// int64 (Python and kolo send them; the codec allows it on purpose) and come
// back as <i8>; only values beyond int64 are faults (above).
func TestWideIntsAccepted(t *testing.T) {
	_, hs := newTestServer(t, rpc.ServerConfig{})
	for _, tt := range []struct {
		value string
		want  int64
	}{
		{"<int>2147483648</int>", 2147483648},
		{"<i4>-2147483649</i4>", -2147483649},
		{"<i8>-9223372036854775808</i8>", -9223372036854775808},
	} {
		resp := post(t, hs.URL, strings.NewReader(hostileCall("echo", tt.value)), nil)
		var got any
		if err := rpc.DecodeResponse(resp.Body, rpc.Limits{}, &got); err != nil || got != tt.want {
			t.Errorf("echo(%s) = %v (%T), %v; want int64 %d", tt.value, got, got, err, tt.want)
		}
	}
	mustEcho(t, newClient(t, hs.URL))
}

// TestMillionNestedArraysOverHTTP: a 43 MB request of a million nested
// arrays (20 MB of openings, 23 MB of closings) is a fault naming the depth
// bound, and the server stays up.
func TestMillionNestedArraysOverHTTP(t *testing.T) {
	const n = 1_000_000
	_, hs := newTestServer(t, rpc.ServerConfig{})
	head, tail := `<?xml version="1.0"?><methodCall><methodName>echo</methodName><params><param>`, `</param></params></methodCall>`
	opening, closing := "<value><array><data>", "</data></array></value>"
	body := io.MultiReader(
		strings.NewReader(head),
		&repeatReader{unit: bytes.Repeat([]byte(opening), 1000), n: n / 1000},
		&repeatReader{unit: bytes.Repeat([]byte(closing), 1000), n: n / 1000},
		strings.NewReader(tail))
	// Sent with its length, as a client would, so the server reads it into
	// one buffer (growing a buffer chunk by chunk to 43 MB is slow under
	// -race; the chunked path is TestOversizedBodiesRejectedUnread's). The
	// whole exchange may take longer than testCtx's 20 s on a busy machine,
	// so it is bounded by the server's own ReadTimeout instead.
	ctx, cancel := context.WithTimeout(t.Context(), rpc.DefaultReadTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hs.URL, body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(len(head) + n*(len(opening)+len(closing)) + len(tail))
	req.SetBasicAuth(testUser, testPass)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", hs.URL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200 with a fault", resp.StatusCode)
	}
	err = rpc.DecodeResponse(resp.Body, rpc.Limits{}, nil)
	var f *rpc.Fault
	// The path names every level, so the message is long but bounded by
	// MaxDepth (about 1.5 KB here).
	want := "param 1: " + strings.Repeat("element 0: ", 128) + "values nested deeper than 128 levels (Limits.MaxDepth)"
	if !errors.As(err, &f) || f.Code != rpc.CodeInvalidRequest || f.Message != want {
		t.Errorf("response = %v, want fault %d %q", err, rpc.CodeInvalidRequest, want)
	}
	mustEcho(t, newClient(t, hs.URL))
}

// countingListener counts the bytes the server reads from its connections.
type countingListener struct {
	net.Listener
	read *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return countingConn{c, l.read}, nil
}

type countingConn struct {
	net.Conn
	read *atomic.Int64
}

func (c countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

// gzipBomb returns about 1 MiB of gzip that inflates to 1 GiB of zeros: one
// member of 1 MiB of zeros repeated 1024 times (a gzip stream may hold
// several members, and readers, ours included, concatenate them).
func gzipBomb(t *testing.T) []byte {
	t.Helper()
	var one bytes.Buffer
	zw, err := gzip.NewWriterLevel(&one, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(make([]byte, 1<<20))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return bytes.Repeat(one.Bytes(), 1024)
}

// TestOversizedBodiesRejectedUnread sends request bodies far past the
// limit over a raw connection and counts the bytes on both sides: what the
// server read (a counting listener) and what the client managed to write
// before the server gave up (which includes the kernel's socket buffers).
// Each gets its exact status, having read at most the limit plus buffers,
// and the server still answers afterwards.
func TestOversizedBodiesRejectedUnread(t *testing.T) {
	const (
		limit = 4 << 20   // MaxBodyBytes
		huge  = 512 << 20 // what the client offers
		slack = 32 << 20  // socket buffers and read-ahead
	)
	bomb := gzipBomb(t)
	valid := "Authorization: Basic " + basic(testUser, testPass) + "\r\n"
	wrong := "Authorization: Basic " + basic(testUser, testPass+"x") + "\r\n"
	tests := []struct {
		name       string
		auth       string
		chunked    bool // else Content-Length
		gzip       bool
		wantStatus int
		maxRead    int64 // bytes the server may read, headers included
	}{
		{"no auth, content-length", "", false, false, 401, slack},
		{"no auth, chunked", "", true, false, 401, slack},
		{"wrong password, content-length", wrong, false, false, 401, slack},
		{"wrong password, chunked", wrong, true, false, 401, slack},
		{"valid auth, content-length", valid, false, false, 413, slack},
		{"valid auth, chunked", valid, true, false, 413, limit + slack},
		{"gzip bomb, 1 GiB of zeros", valid, false, true, 413, int64(len(bomb))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Each case has its own server and counts, and most of its time
			// is net/http's wait before closing a connection it did not read
			// (half a second), so the cases run side by side.
			t.Parallel()
			s := rpc.NewServer(rpc.ServerConfig{Username: testUser, Password: testPass, Limits: rpc.Limits{MaxBodyBytes: limit}})
			register(t, s)
			var served atomic.Int64
			hs := httptest.NewUnstartedServer(s)
			hs.Listener = countingListener{hs.Listener, &served}
			hs.Start()
			t.Cleanup(hs.Close)

			conn := rawConn(t, hs.URL)
			conn.SetDeadline(time.Now().Add(20 * time.Second))
			var body io.Reader = &repeatReader{unit: bytes.Repeat([]byte("<"), 64<<10), n: huge / (64 << 10)}
			size := int64(huge)
			enc := ""
			if tt.gzip {
				body, size, enc = bytes.NewReader(bomb), int64(len(bomb)), "Content-Encoding: gzip\r\n"
			}
			framing := fmt.Sprintf("Content-Length: %d\r\n", size)
			if tt.chunked {
				framing = "Transfer-Encoding: chunked\r\n"
			}
			sent := &countingReader{r: body}
			wrote := make(chan error, 1)
			go func() {
				_, err := fmt.Fprintf(conn, "POST /RPC2 HTTP/1.1\r\nHost: x\r\n%s%s%sContent-Type: text/xml\r\n\r\n", tt.auth, enc, framing)
				if err == nil {
					var w io.Writer = conn
					if tt.chunked {
						cw := httputil.NewChunkedWriter(conn)
						defer cw.Close()
						w = cw
					}
					_, err = io.Copy(w, sent)
				}
				wrote <- err
			}()
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("reading the response: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus || !resp.Close {
				t.Errorf("status %d, Connection: close %v; want %d, true", resp.StatusCode, resp.Close, tt.wantStatus)
			}
			// The server closes the connection; the writer then fails (or,
			// for a body small enough, finishes) within the deadline.
			select {
			case <-wrote:
			case <-time.After(20 * time.Second):
				t.Fatal("client still writing 20 s after the answer: the server keeps reading")
			}
			t.Logf("offered %d bytes; client wrote %d, server read %d", size, sent.read, served.Load())
			if got := served.Load(); got > tt.maxRead {
				t.Errorf("server read %d bytes, want at most %d", got, tt.maxRead)
			}
			if !tt.gzip && sent.read >= size {
				t.Errorf("client wrote all %d bytes, want the server to stop it early", size)
			}
			mustEcho(t, newClient(t, hs.URL))
		})
	}
}
