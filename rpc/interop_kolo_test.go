package rpc_test

import (
	"strings"
	"testing"
	"time"

	xmlrpc "github.com/kolo/xmlrpc"

	"github.com/rpcssh/rpcssh/rpc"
)

// TestKoloClient calls our server with kolo/xmlrpc, an independent Go
// client, for the types kolo supports (see the notes: no nil, base64 as
// text, faults flattened to strings).
func TestKoloClient(t *testing.T) {
	_, hs := newTestServer(t, rpc.ServerConfig{})
	kc, err := xmlrpc.NewClient(userURL(t, hs.URL, testPass), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kc.Close() })

	var s string
	if err := kc.Call("echo", "hi <there> & 😀", &s); err != nil || s != "hi <there> & 😀" {
		t.Errorf("echo(string) = %q, %v", s, err)
	}
	var n int
	if err := kc.Call("add", []any{40, 2}, &n); err != nil || n != 42 {
		t.Errorf("add(40, 2) = %d, %v; want 42", n, err)
	}
	var big int64
	if err := kc.Call("big", nil, &big); err != nil || big != 1<<40 {
		t.Errorf("big() = %d, %v; want %d (an i8)", big, err, int64(1)<<40)
	}
	var b bool
	if err := kc.Call("echo", true, &b); err != nil || !b {
		t.Errorf("echo(true) = %v, %v", b, err)
	}
	var f float64
	if err := kc.Call("echo", 2.5, &f); err != nil || f != 2.5 {
		t.Errorf("echo(2.5) = %v, %v", f, err)
	}
	when := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var tm time.Time
	if err := kc.Call("echo", when, &tm); err != nil || !tm.Equal(when) {
		t.Errorf("echo(time) = %v, %v; want %v", tm, err, when)
	}
	type pair struct {
		Name  string `xmlrpc:"name"`
		Count int    `xmlrpc:"count"`
	}
	var p pair
	if err := kc.Call("echo", pair{"x", 3}, &p); err != nil || p != (pair{"x", 3}) {
		t.Errorf("echo(struct) = %+v, %v", p, err)
	}
	var list []any
	if err := kc.Call("echo", []any{[]any{1, "a", false}}, &list); err != nil || len(list) != 3 || list[1] != "a" {
		t.Errorf("echo(array) = %#v, %v", list, err)
	}
	var methods []string
	if err := kc.Call("system.listMethods", nil, &methods); err != nil || len(methods) == 0 || methods[0] != "add" {
		t.Errorf("system.listMethods = %q, %v", methods, err)
	}
	if err := kc.Call("fail", nil, nil); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("fail() = %v, want an error with the fault message", err)
	}

	bad, err := xmlrpc.NewClient(userURL(t, hs.URL, "wrong"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bad.Close() })
	if err := bad.Call("echo", "x", &s); err == nil {
		t.Error("wrong password: nil error, want one")
	}
}
