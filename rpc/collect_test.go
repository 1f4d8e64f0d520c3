package rpc

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// TestCollectAfterBytes checks that a request whose body reached
// CollectAfterBytes ends with one collection, a smaller one or a server
// without the setting with none, and that a body cut at the limit counts
// as read.
func TestCollectAfterBytes(t *testing.T) {
	call := func(n int) string {
		return `<?xml version="1.0"?><methodCall><methodName>echo</methodName><params><param><value><string>` +
			strings.Repeat("a", n) + `</string></value></param></params></methodCall>`
	}
	big := call(2 << 20)
	tests := []struct {
		name      string
		after     int64
		maxBody   int64
		body      string
		wantCode  int
		wantCalls int
	}{
		{"large body", 1 << 20, 0, big, http.StatusOK, 1},
		{"exactly the threshold", int64(len(big)), 0, big, http.StatusOK, 1},
		{"one byte under", int64(len(big)) + 1, 0, big, http.StatusOK, 0},
		{"small body", 1 << 20, 0, call(10), http.StatusOK, 0},
		{"off", 0, 0, big, http.StatusOK, 0},
		{"body cut at the limit", 1 << 20, 1<<20 + 1, big, http.StatusRequestEntityTooLarge, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewServer(ServerConfig{Username: "u", Password: "p", CollectAfterBytes: tt.after, Limits: Limits{MaxBodyBytes: tt.maxBody}})
			calls := 0
			s.collect = func() { calls++ }
			if err := s.RegisterMethod(Method{Name: "echo", Func: func(s string) string { return s }}); err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest(http.MethodPost, "/RPC2", strings.NewReader(tt.body))
			req.ContentLength = -1 // chunked: read up to the limit, not refused by its length
			req.SetBasicAuth("u", "p")
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if rec.Code != tt.wantCode {
				t.Fatalf("status = %d, want %d (%s)", rec.Code, tt.wantCode, rec.Body.String()[:min(rec.Body.Len(), 200)])
			}
			if tt.wantCode == http.StatusOK && rec.Body.Len() < len(tt.body)-200 {
				t.Errorf("response is %s bytes, want the echo", strconv.Itoa(rec.Body.Len()))
			}
			if calls != tt.wantCalls {
				t.Errorf("collections = %d, want %d", calls, tt.wantCalls)
			}
		})
	}
}
