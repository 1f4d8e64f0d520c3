package rpc_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rpcssh/rpcssh/rpc"
)

// TestCallLargeResponseOfKnownSize checks the client's path for a response
// with a Content-Length past 1 MiB, which it reads whole and decodes in
// place: the string comes back intact (references and \r\n included), a
// body cut short of its length is an error, and a length past the limit
// is still refused.
func TestCallLargeResponseOfKnownSize(t *testing.T) {
	payload := strings.Repeat("0123456789abcdef", 1<<17) // 2 MiB
	want := payload + "a & b\nc"
	doc := `<?xml version="1.0"?><methodResponse><params><param><value><string>` +
		payload + "a &amp; b\r\nc" + `</string></value></param></params></methodResponse>`
	tests := []struct {
		name    string
		send    int // bytes of doc written before the connection is closed
		limit   int64
		wantErr string
	}{
		{"whole", len(doc), 0, ""},
		{"cut short", len(doc) - 1000, 0, "unexpected EOF"},
		{"past the limit", len(doc), 1 << 20, "larger than the client's size limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				conn, rw, err := http.NewResponseController(w).Hijack()
				if err != nil {
					t.Error(err)
					return
				}
				defer conn.Close()
				writeRaw(rw, "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: "+strconv.Itoa(len(doc))+"\r\n\r\n"+doc[:tt.send])
			}))
			defer srv.Close()
			c, err := rpc.NewClient(rpc.ClientConfig{URL: srv.URL + "/RPC2", Limits: rpc.Limits{MaxBodyBytes: tt.limit}})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var got string
			err = c.Call(ctx, "m", nil, &got)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Call: %v", err)
			case tt.wantErr == "" && got != want:
				t.Errorf("Call returned %d bytes, want the %d sent (ending %q)", len(got), len(want), got[max(0, len(got)-10):])
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Call error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func writeRaw(rw *bufio.ReadWriter, s string) {
	rw.WriteString(s)
	rw.Flush()
}
