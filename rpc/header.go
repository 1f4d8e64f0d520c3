package rpc

import (
	"context"
	"net/http"
)

type callHeaderKey struct{}

type requestHeaderKey struct{}

// WithHeader returns a ctx whose calls (Client.Call) send h's fields as
// HTTP headers beside their own, e.g. an Idempotency-Key for a method
// that honours it. Content-Type, Accept-Encoding, User-Agent and
// Authorization are the Client's and cannot be set this way.
func WithHeader(ctx context.Context, h http.Header) context.Context {
	return context.WithValue(ctx, callHeaderKey{}, h.Clone())
}

// RequestHeader returns the HTTP headers of the request a method is
// serving, from the ctx the Server passes it (nil outside a call).
func RequestHeader(ctx context.Context) http.Header {
	h, _ := ctx.Value(requestHeaderKey{}).(http.Header)
	return h
}

func withRequestHeader(ctx context.Context, h http.Header) context.Context {
	return context.WithValue(ctx, requestHeaderKey{}, h)
}

// addCallHeader copies the fields set with WithHeader to a request.
func addCallHeader(ctx context.Context, h http.Header) {
	extra, _ := ctx.Value(callHeaderKey{}).(http.Header)
	for k, vs := range extra {
		switch http.CanonicalHeaderKey(k) {
		case "Content-Type", "Accept-Encoding", "User-Agent", "Authorization", "Content-Length", "Content-Encoding", "Host":
			continue
		}
		for _, v := range vs {
			h.Add(k, v)
		}
	}
}
