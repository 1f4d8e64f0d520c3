package rpc_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rpcssh/rpcssh/rpc"
)

// BenchmarkEchoUpper echoes large strings, upper-cased as 'rpcssh serve'
// does, through our Server and Client over loopback HTTP: what the codec
// and buffering cost per payload byte on both sides.
//
//	go test -run '^$' -bench EchoUpper -benchtime 10x ./rpc
func BenchmarkEchoUpper(b *testing.B) {
	for _, size := range []int{1 << 20, 8 << 20, 64 << 20} {
		b.Run(fmt.Sprintf("%dMiB", size>>20), func(b *testing.B) {
			s := rpc.NewServer(rpc.ServerConfig{Limits: rpc.Limits{MaxBodyBytes: 192 << 20}})
			if err := s.Register("echo", strings.ToUpper); err != nil {
				b.Fatal(err)
			}
			hs := httptest.NewServer(s)
			defer hs.Close()
			cl, err := rpc.NewClient(rpc.ClientConfig{URL: hs.URL, Limits: rpc.Limits{MaxBodyBytes: 192 << 20}})
			if err != nil {
				b.Fatal(err)
			}
			arg := strings.Repeat("a", size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				var got string
				if err := cl.Call(context.Background(), "echo", []any{arg}, &got); err != nil {
					b.Fatal(err)
				}
				if len(got) != size || got[0] != 'A' || got[size-1] != 'A' {
					b.Fatalf("echo: %d bytes, want %d upper-cased", len(got), size)
				}
			}
		})
	}
}
