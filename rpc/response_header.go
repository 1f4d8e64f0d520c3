package rpc

import (
	"context"
	"net/http"
)

type responseHeaderKey struct{}

// WithResponseHeader returns a ctx whose calls (Client.Call, Multicall)
// pass the HTTP header of every answer to f, before its body is read: a
// fault or a decoding error still had its header seen. It costs no round
// trip; rpcssh reads the Server field (ServerConfig.Software) with it to
// compare versions. f may be called from many goroutines at once (one per
// concurrent call) and must not keep or modify h.
func WithResponseHeader(ctx context.Context, f func(h http.Header)) context.Context {
	return context.WithValue(ctx, responseHeaderKey{}, f)
}

// seeResponseHeader passes h to the function set with WithResponseHeader.
func seeResponseHeader(ctx context.Context, h http.Header) {
	if f, _ := ctx.Value(responseHeaderKey{}).(func(http.Header)); f != nil {
		f(h)
	}
}
