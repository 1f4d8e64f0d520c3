package rpc_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/rpcssh/rpcssh/rpc"
)

// TestServerVersionHeader: ServerConfig.Software is the Server header of
// every authenticated answer (a result, a fault, a 404), never of a 401,
// and WithResponseHeader hands it to the caller with the call.
func TestServerVersionHeader(t *testing.T) {
	srv := rpc.NewServer(rpc.ServerConfig{Username: "user", Password: "pw", Software: "rpcssh/v1.2.3"})
	if err := srv.Register("echo", func(s string) string { return s }); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	for _, tt := range []struct {
		name, path, password, method string
		wantErr                      bool
		want                         string
	}{
		{"result", "/RPC2", "pw", "echo", false, "rpcssh/v1.2.3"},
		{"fault", "/RPC2", "pw", "no.such.method", true, "rpcssh/v1.2.3"},
		{"not found", "/other", "pw", "echo", true, "rpcssh/v1.2.3"},
		{"unauthorized is not told", "/RPC2", "wrong", "echo", true, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := rpc.NewClient(rpc.ClientConfig{URL: hs.URL + tt.path, Username: "user", Password: tt.password})
			if err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			var got []string
			ctx := rpc.WithResponseHeader(context.Background(), func(h http.Header) {
				mu.Lock()
				defer mu.Unlock()
				got = append(got, h.Get("Server"))
			})
			var reply string
			err = c.Call(ctx, tt.method, []any{"hi"}, &reply)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Call error = %v, want error %v", err, tt.wantErr)
			}
			if len(got) != 1 || got[0] != tt.want {
				t.Errorf("response headers seen: Server = %q, want one %q", got, tt.want)
			}
		})
	}

	// Without WithResponseHeader nothing is called; without Software no
	// Server header is sent.
	plain := rpc.NewServer(rpc.ServerConfig{})
	if err := plain.Register("echo", func(s string) string { return s }); err != nil {
		t.Fatal(err)
	}
	hp := httptest.NewServer(plain)
	defer hp.Close()
	c, err := rpc.NewClient(rpc.ClientConfig{URL: hp.URL})
	if err != nil {
		t.Fatal(err)
	}
	var reply string
	if err := c.Call(context.Background(), "echo", []any{"hi"}, &reply); err != nil {
		t.Fatal(err)
	}
	seen := errors.New("no header seen")
	ctx := rpc.WithResponseHeader(context.Background(), func(h http.Header) {
		if _, ok := h["Server"]; ok {
			seen = errors.New("Server header " + h.Get("Server"))
		} else {
			seen = nil
		}
	})
	if err := c.Call(ctx, "echo", []any{"hi"}, &reply); err != nil || seen != nil {
		t.Errorf("server without Software: call %v, %v; want no Server header", err, seen)
	}
}
