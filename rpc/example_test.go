package rpc_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/rpcssh/rpcssh/rpc"
)

func ExampleClient_Call() {
	// A server with one method, behind Basic auth.
	srv := rpc.NewServer(rpc.ServerConfig{Username: "alice", Password: "correct horse"})
	if err := srv.Register("upper", func(s string) string { return strings.ToUpper(s) }); err != nil {
		fmt.Println(err)
		return
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()

	c, err := rpc.NewClient(rpc.ClientConfig{URL: hs.URL + "/RPC2", Username: "alice", Password: "correct horse"})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	var s string
	if err := c.Call(ctx, "upper", []any{"hello"}, &s); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s)

	// A fault is a *rpc.Fault.
	err = c.Call(ctx, "upper", []any{42}, &s)
	var f *rpc.Fault
	fmt.Println(errors.As(err, &f), f.Code == rpc.CodeInvalidParams)

	// Natural Go values come back in an any.
	var methods any
	_ = c.Call(ctx, "system.listMethods", nil, &methods)
	fmt.Printf("%T %d\n", methods, len(methods.([]any)))
	// Output:
	// HELLO
	// true true
	// []interface {} 6
}

func ExampleClient_Multicall() {
	srv := rpc.NewServer(rpc.ServerConfig{})
	_ = srv.Register("add", func(a, b int) int { return a + b })
	hs := httptest.NewServer(srv)
	defer hs.Close()

	c, _ := rpc.NewClient(rpc.ClientConfig{URL: hs.URL})
	var sum int
	res, err := c.Multicall(context.Background(), []rpc.MulticallCall{
		{Method: "add", Args: []any{1, 2}, Reply: &sum},
		{Method: "nosuch"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sum, res[0].Value)
	fmt.Println(res[1].Err)
	// Output:
	// 3 3
	// fault -32601: method "nosuch" not found
}

func ExampleServer_Serve() {
	// Stop on SIGINT or SIGTERM; calls in flight finish first.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := rpc.NewServer(rpc.ServerConfig{Username: "alice", Password: os.Getenv("RPC_PASSWORD")})
	_ = srv.Register("upper", strings.ToUpper)
	l, err := net.Listen("tcp", "127.0.0.1:8000")
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := srv.Serve(ctx, l); err != nil { // nil after a graceful shutdown
		fmt.Println(err)
	}
}
