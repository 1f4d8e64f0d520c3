package rpc_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/rpcssh/rpcssh/rpc"
)

func TestCallHeadersReachTheMethod(t *testing.T) {
	srv := rpc.NewServer(rpc.ServerConfig{})
	err := srv.RegisterMethod(rpc.Method{Name: "header", Raw: func(ctx context.Context, params []any) (any, error) {
		h := rpc.RequestHeader(ctx)
		return []any{h.Get(params[0].(string)), h.Get("Content-Type")}, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	c, err := rpc.NewClient(rpc.ClientConfig{URL: hs.URL + "/RPC2"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, header, value, want string
	}{
		{"idempotency key", "Idempotency-Key", "k-1", "k-1"},
		{"none set", "X-Other", "", ""},
		{"content type is the client's", "Content-Type", "text/plain", "text/xml"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if tt.value != "" {
				ctx = rpc.WithHeader(ctx, http.Header{tt.header: {tt.value}})
			}
			var got []any
			if err := c.Call(ctx, "header", []any{tt.header}, &got); err != nil {
				t.Fatal(err)
			}
			if got[0] != tt.want || got[1] != "text/xml" {
				t.Errorf("method saw %s = %q (Content-Type %q), want %q (text/xml)", tt.header, got[0], got[1], tt.want)
			}
		})
	}
	if h := rpc.RequestHeader(context.Background()); h != nil {
		t.Errorf("RequestHeader outside a call = %v, want nil", h)
	}
}
