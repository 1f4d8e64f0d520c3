package main

import (
	"context"
	"errors"
	"time"

	"github.com/rpcssh/rpcssh/rpc"
)

// methodNotFoundHTTP is an HTTP 404 for a call from a server that answers
// XML-RPC on the same path (system.listMethods got an answer): the path is
// right; the server (node's xmlrpc does this) says 404 for a method it
// does not have.
type methodNotFoundHTTP struct {
	err    error
	method string
}

func (e *methodNotFoundHTTP) Error() string { return e.err.Error() }
func (e *methodNotFoundHTTP) Unwrap() error { return e.err }

// explain404 asks the server, on a 404, whether it answers XML-RPC at all
// on that path, so the hint says which of the path and the method is
// wrong. Any other error is returned as is.
func explain404(ctx context.Context, client *rpc.Client, method string, err error) error {
	var httpErr *rpc.HTTPError
	if !errors.As(err, &httpErr) || httpErr.StatusCode != 404 || method == "system.listMethods" || ctx.Err() != nil {
		return err
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var fault *rpc.Fault
	if perr := client.Call(pctx, "system.listMethods", nil, nil); perr == nil || errors.As(perr, &fault) {
		return &methodNotFoundHTTP{err: err, method: method}
	}
	return err
}
