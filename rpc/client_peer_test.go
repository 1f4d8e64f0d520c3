package rpc_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
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
