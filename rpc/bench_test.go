package rpc_test

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/kolo/xmlrpc"

	"github.com/rpcssh/rpcssh/rpc"
)

// Benchmarks of our codec against kolo/xmlrpc on the same data. Compare the
// MB/s of the ours/kolo pairs (go test -bench . -run ^$ ./rpc).

type benchRecord struct {
	Name  string  `xmlrpc:"name"`
	ID    int     `xmlrpc:"id"`
	Score float64 `xmlrpc:"score"`
	OK    bool    `xmlrpc:"ok"`
}

// bigString is 1 MiB of text with some markup characters and line breaks.
func bigString() string {
	const line = "The quick brown fox jumps over the lazy dog <b>&amp; friends</b> 0123456789\n"
	s := strings.Repeat(line, (1<<20)/len(line)+1)
	return s[:1<<20]
}

func records() []benchRecord {
	rs := make([]benchRecord, 10000)
	for i := range rs {
		rs[i] = benchRecord{Name: "record name", ID: i, Score: float64(i) * 1.5, OK: i%2 == 0}
	}
	return rs
}

func encodedResponse(tb testing.TB, v any) []byte {
	var buf bytes.Buffer
	if err := rpc.EncodeResponse(&buf, v); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func BenchmarkEncodeString1MiB(b *testing.B) {
	s := bigString()
	b.Run("ours", func(b *testing.B) {
		b.SetBytes(int64(len(s)))
		for b.Loop() {
			if err := rpc.EncodeCall(io.Discard, "echo", []any{s}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("kolo", func(b *testing.B) {
		b.SetBytes(int64(len(s)))
		for b.Loop() {
			if _, err := xmlrpc.EncodeMethodCall("echo", s); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkEncodeStructs10k(b *testing.B) {
	rs := records()
	size := int64(len(encodedResponse(b, rs)))
	b.Run("ours", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			if err := rpc.EncodeCall(io.Discard, "echo", []any{rs}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("kolo", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			if _, err := xmlrpc.EncodeMethodCall("echo", rs); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkDecodeString1MiB(b *testing.B) {
	body := encodedResponse(b, bigString())
	b.Run("ours", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			var s string
			if err := rpc.DecodeResponse(bytes.NewReader(body), rpc.Limits{}, &s); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ours_bytes.Buffer", func(b *testing.B) { // the body already in memory, as at the server
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			var s string
			if err := rpc.DecodeResponse(bytes.NewBuffer(body), rpc.Limits{}, &s); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("kolo", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			var s string
			if err := xmlrpc.Response(body).Unmarshal(&s); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkDecodeStructs10k(b *testing.B) {
	body := encodedResponse(b, records())
	b.Run("ours", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			var rs []benchRecord
			if err := rpc.DecodeResponse(bytes.NewReader(body), rpc.Limits{}, &rs); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ours_bytes.Buffer", func(b *testing.B) { // the body already in memory, as at the server
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			var rs []benchRecord
			if err := rpc.DecodeResponse(bytes.NewBuffer(body), rpc.Limits{}, &rs); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("kolo", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			var rs []benchRecord
			if err := xmlrpc.Response(body).Unmarshal(&rs); err != nil {
				b.Fatal(err)
			}
		}
	})
}
