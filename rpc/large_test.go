package rpc_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/rpcssh/rpcssh/rpc"
)

// Bodies and results past 1 MiB take other paths: the server decodes long
// strings as views of a body it never reuses and streams a large response
// (encoded twice: counted and checked, then sent); the client streams a
// large request the same way. These tests cross that size both ways.

// largeText is n bytes of text that needs escaping and carries \r and
// non-ASCII, so that references and line-end normalization are exercised.
func largeText(n int, seed byte) string {
	unit := "<tag a=\"1\"> & \r\n caf\u00e9 " + string(rune('a'+seed%26)) + "\r"
	return strings.Repeat(unit, n/len(unit)+1)[:n-n%len(unit)]
}

func TestLargeEchoAcrossSpill(t *testing.T) {
	for _, gz := range []bool{false, true} {
		s := rpc.NewServer(rpc.ServerConfig{Gzip: gz})
		if err := s.Register("echo", func(a, b string) []string { return []string{b, a} }); err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewServer(s)
		t.Cleanup(hs.Close)
		c, err := rpc.NewClient(rpc.ClientConfig{URL: hs.URL})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{1000, 1<<20 - 4096, 1<<20 + 4096, 3 << 20} {
			a, b := largeText(n, 1), "plain "+strconv.Itoa(n)+strings.Repeat("z", n/2)
			var got []string
			if err := c.Call(context.Background(), "echo", []any{a, b}, &got); err != nil {
				t.Fatalf("gzip %v, %d bytes: %v", gz, n, err)
			}
			if len(got) != 2 || got[0] != b || got[1] != a {
				t.Errorf("gzip %v, %d bytes: echo differs (got %d values)", gz, n, len(got))
			}
		}
	}
}

// TestLargeResponseHeaders checks a streamed response on the wire: the
// Content-Length the first pass counted, or gzip when asked for.
func TestLargeResponseHeaders(t *testing.T) {
	s := rpc.NewServer(rpc.ServerConfig{Gzip: true})
	big := largeText(2<<20, 2)
	if err := s.Register("big", func() string { return big }); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	var call bytes.Buffer
	if err := rpc.EncodeCall(&call, "big", nil); err != nil {
		t.Fatal(err)
	}
	for _, gz := range []bool{false, true} {
		req, err := http.NewRequest(http.MethodPost, hs.URL, bytes.NewReader(call.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		if gz {
			req.Header.Set("Accept-Encoding", "gzip")
		}
		tr := &http.Transport{DisableCompression: true}
		t.Cleanup(tr.CloseIdleConnections)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got := resp.Header.Get("Content-Encoding") == "gzip"; got != gz {
			t.Fatalf("gzip asked %v: Content-Encoding %q", gz, resp.Header.Get("Content-Encoding"))
		}
		if gz {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if body, err = io.ReadAll(zr); err != nil {
				t.Fatal(err)
			}
		} else if resp.ContentLength != int64(len(body)) {
			t.Errorf("Content-Length %d, body %d bytes", resp.ContentLength, len(body))
		}
		var got string
		if err := rpc.DecodeResponse(bytes.NewReader(body), rpc.Limits{}, &got); err != nil || got != big {
			t.Errorf("gzip %v: decoded %d bytes, err %v; want %d bytes", gz, len(got), err, len(big))
		}
	}
}

// TestLargeResultUnencodable: a result past the buffered size that cannot
// be encoded (a control character at its end) is still a fault, not a cut
// stream; a long fault message is sent whole.
func TestLargeResultUnencodable(t *testing.T) {
	s := rpc.NewServer(rpc.ServerConfig{})
	long := strings.Repeat("x", 3<<20)
	if err := s.Register("bad", func() string { return long + "\x01" }); err != nil {
		t.Fatal(err)
	}
	if err := s.Register("fails", func() error { return errors.New(long) }); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	c, err := rpc.NewClient(rpc.ClientConfig{URL: hs.URL})
	if err != nil {
		t.Fatal(err)
	}
	var f *rpc.Fault
	err = c.Call(context.Background(), "bad", nil, nil)
	if !errors.As(err, &f) || f.Code != rpc.CodeInternal || !strings.Contains(f.Message, "U+1") {
		t.Errorf("bad: err = %v, want a CodeInternal fault naming U+1", err)
	}
	err = c.Call(context.Background(), "fails", nil, nil)
	if !errors.As(err, &f) || f.Code != rpc.CodeApplication || f.Message != long {
		t.Errorf("fails: err = %.100v, want a CodeApplication fault with the %d-byte message", err, len(long))
	}
	// The connection and the server are fine afterwards.
	var got []string
	if err := c.Call(context.Background(), "system.listMethods", nil, &got); err != nil {
		t.Fatal(err)
	}
}

// TestLargeRequestUnencodable: a large call that cannot be encoded fails
// in the client before anything is sent.
func TestLargeRequestUnencodable(t *testing.T) {
	var hits atomic.Int64
	hs := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	t.Cleanup(hs.Close)
	c, err := rpc.NewClient(rpc.ClientConfig{URL: hs.URL})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Call(context.Background(), "m", []any{strings.Repeat("y", 3<<20) + "\xff"}, nil)
	if err == nil || !strings.Contains(err.Error(), "invalid UTF-8") {
		t.Errorf("err = %v, want invalid UTF-8", err)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("server got %d requests, want 0", n)
	}
}

// TestLargeStringsKept: strings decoded as views of large bodies stay
// intact while a method keeps them and later calls run (a body is never
// reused while a string points into it).
func TestLargeStringsKept(t *testing.T) {
	s := rpc.NewServer(rpc.ServerConfig{})
	var mu sync.Mutex
	kept := map[string]string{}
	if err := s.Register("keep", func(k, v string) int {
		mu.Lock()
		defer mu.Unlock()
		kept[k] = v
		return len(v)
	}); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	c, err := rpc.NewClient(rpc.ClientConfig{URL: hs.URL})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	var wg sync.WaitGroup
	sizes := []int{64 << 10, 512 << 10, 1 << 20} // pooled bodies, and one not
	errs := make(chan error, 16)
	for i := range 16 {
		k := strconv.Itoa(i)
		v := strings.Repeat(string(rune('a'+i)), sizes[i%len(sizes)]+i*4096) + k
		want[k] = v
		wg.Go(func() {
			var n int
			if err := c.Call(context.Background(), "keep", []any{k, v}, &n); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for k, v := range want {
		if kept[k] != v {
			t.Errorf("kept[%s]: %d bytes, changed; want %d bytes", k, len(kept[k]), len(v))
		}
	}
}
