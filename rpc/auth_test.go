package rpc_test

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rpcssh/rpcssh/rpc"
)

func basic(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
}

const wantChallenge = `Basic realm="rpcssh", charset="UTF-8"`

// TestAuthHeaders sends each Authorization header over a raw connection (so
// that malformed bytes reach the server as they are), checks the exact
// status and challenge, then that the server still answers a correct call.
func TestAuthHeaders(t *testing.T) {
	_, hs := newTestServer(t, rpc.ServerConfig{})
	valid := basic(testUser, testPass)
	tests := []struct {
		name   string
		header *string // nil: no Authorization header at all
		want   int
	}{
		{"missing", nil, 401},
		{"empty", authHeader(""), 401},
		{"scheme only", authHeader("Basic"), 401},
		{"scheme and space", authHeader("Basic "), 401},
		{"other scheme", authHeader("Bearer " + valid), 401},
		{"digest", authHeader(`Digest username="user", realm="rpcssh"`), 401},
		// RFC 7617 §2 / RFC 9110 §11.1: the scheme is case-insensitive.
		{"lower-case scheme, valid", authHeader("basic " + valid), 200},
		{"upper-case scheme, valid", authHeader("BASIC " + valid), 200},
		{"valid", authHeader("Basic " + valid), 200},
		{"unpadded", authHeader("Basic " + strings.TrimRight(basic(testUser, testPass+"x"), "=")), 401},
		{"url-safe alphabet", authHeader("Basic " + base64.URLEncoding.EncodeToString([]byte(testUser+":"+testPass+"\xfb\xff"))), 401},
		{"non-base64", authHeader("Basic !!!!****"), 401},
		{"colon-less", authHeader("Basic " + base64.StdEncoding.EncodeToString([]byte(testUser+testPass))), 401},
		{"three tokens", authHeader("Basic " + valid + " extra"), 401},
		{"non-UTF-8 bytes in the header", authHeader("Basic \xff\xfe\xfd"), 401},
		{"non-UTF-8 credentials", authHeader("Basic " + basic("us\xffer", testPass)), 401},
		{"wrong password", authHeader("Basic " + basic(testUser, "wrong")), 401},
		{"wrong user", authHeader("Basic " + basic("admin", testPass)), 401},
		{"password prefix", authHeader("Basic " + basic(testUser, "s3cret")), 401},
		{"password with a suffix", authHeader("Basic " + basic(testUser, testPass+":anything")), 401},
		{"empty credentials", authHeader("Basic " + basic("", "")), 401},
		{"huge header", authHeader("Basic " + strings.Repeat("A", 60<<10)), 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := rawConn(t, hs.URL)
			var auth string
			if tt.header != nil {
				auth = "Authorization: " + *tt.header + "\r\n"
			}
			fmt.Fprintf(conn, "POST /RPC2 HTTP/1.1\r\nHost: x\r\n%sContent-Type: text/xml\r\nContent-Length: %d\r\n\r\n%s",
				auth, len(echoCall), echoCall)
			resp := readResponse(t, conn, bufio.NewReader(conn))
			if resp.StatusCode != tt.want {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.want)
			}
			wantHdr := ""
			if tt.want == 401 {
				wantHdr = wantChallenge
			}
			if got := resp.Header.Get("WWW-Authenticate"); got != wantHdr {
				t.Errorf("WWW-Authenticate = %q, want %q", got, wantHdr)
			}
			mustEcho(t, newClient(t, hs.URL))
		})
	}
}

// TestPasswordWithColons checks that ':' in a password works with both
// credential sources of the client, and the pass:anything trick does not.
func TestPasswordWithColons(t *testing.T) {
	tests := []struct {
		pass    string
		try     string
		wantErr bool
	}{
		{pass: "pass", try: "pass"},
		{pass: "pass", try: "pass:anything", wantErr: true},
		{pass: "pa:ss", try: "pa:ss"},
		{pass: ":::", try: ":::"},
		{pass: ":::", try: "::", wantErr: true},
		{pass: "pässwörd 😀", try: "pässwörd 😀"},
	}
	for _, tt := range tests {
		t.Run(tt.pass+" "+tt.try, func(t *testing.T) {
			_, hs := newTestServer(t, rpc.ServerConfig{Username: testUser, Password: tt.pass})
			c, err := rpc.NewClient(rpc.ClientConfig{URL: hs.URL, Username: testUser, Password: tt.try})
			if err != nil {
				t.Fatal(err)
			}
			err = c.Call(testCtx(t), "echo", nil, nil)
			if gotErr := err != nil; gotErr != tt.wantErr {
				t.Fatalf("Call = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr && !strings.Contains(err.Error(), "401") {
				t.Errorf("Call = %v, want a 401", err)
			}
		})
	}
}

func TestAuthRealm(t *testing.T) {
	tests := []struct{ realm, want string }{
		{"", wantChallenge},
		{"my box", `Basic realm="my box", charset="UTF-8"`},
		{`a"b\c` + "\r\n", `Basic realm="a\"b\\c", charset="UTF-8"`},
	}
	for _, tt := range tests {
		_, hs := newTestServer(t, rpc.ServerConfig{Username: "u", Password: "p", Realm: tt.realm})
		resp := post(t, hs.URL, strings.NewReader(echoCall), nil) // test credentials: wrong here
		if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != tt.want {
			t.Errorf("realm %q: %d %q, want 401 %q", tt.realm, resp.StatusCode, resp.Header.Get("WWW-Authenticate"), tt.want)
		}
	}
}

// TestUnauthenticatedBodyNotRead announces a body far beyond the limit,
// sends a little of it, and expects a 401 and the connection closed without
// the server waiting for (or reading) the rest.
func TestUnauthenticatedBodyNotRead(t *testing.T) {
	t.Parallel() // waits on net/http's half second before closing an unread connection; its own server
	for _, auth := range []string{"", "Authorization: Basic " + basic(testUser, "wrong") + "\r\n"} {
		_, hs := newTestServer(t, rpc.ServerConfig{})
		conn := rawConn(t, hs.URL)
		fmt.Fprintf(conn, "POST /RPC2 HTTP/1.1\r\nHost: x\r\n%sContent-Length: %d\r\n\r\n%s",
			auth, int64(1)<<40, strings.Repeat("<", 1000))
		br := bufio.NewReader(conn)
		resp := readResponse(t, conn, br)
		if resp.StatusCode != 401 || !resp.Close {
			t.Errorf("status %d, Connection: close %v; want 401, true", resp.StatusCode, resp.Close)
		}
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		if n, err := io.Copy(io.Discard, br); err != nil {
			t.Errorf("after the 401: read %d bytes, %v; want the connection closed", n, err)
		}
		mustEcho(t, newClient(t, hs.URL))
	}
}

// TestOversizedBodyNotRead: with valid credentials, an announced
// Content-Length past MaxBodyBytes gets 413 at once, unread.
func TestOversizedBodyNotRead(t *testing.T) {
	t.Parallel() // waits on net/http's half second before closing an unread connection; its own server
	_, hs := newTestServer(t, rpc.ServerConfig{})
	conn := rawConn(t, hs.URL)
	fmt.Fprintf(conn, "POST /RPC2 HTTP/1.1\r\nHost: x\r\nAuthorization: Basic %s\r\nContent-Length: %d\r\n\r\n<",
		basic(testUser, testPass), int64(1)<<40)
	resp := readResponse(t, conn, bufio.NewReader(conn))
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("status = %d, want 413", resp.StatusCode)
	}
	closedWithin(t, conn, 10*time.Second)
	mustEcho(t, newClient(t, hs.URL))
}

func authHeader(s string) *string { return &s }
