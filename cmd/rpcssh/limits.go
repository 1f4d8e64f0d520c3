package main

import (
	"errors"
	"fmt"

	"github.com/rpcssh/rpcssh/rpc"
)

// maxResponseMiBCap is the largest --max-response-mib accepted (16 GiB),
// as serve's --max-body-mib, so the byte count cannot overflow.
const maxResponseMiBCap = 16 << 10

// responseFlags bound what the client accepts from the server. The
// default, 128 MiB, leaves room for a 64 MiB payload (serve's default
// request limit) in any form a server sends it back: as base64 it is 85.4
// MiB, plus the XML envelope. The bound exists so that a broken or
// hostile server cannot make the client hold gigabytes; a user who
// expects more raises it.
type responseFlags struct {
	MaxResponseMiB int `name:"max-response-mib" default:"128" placeholder:"MIB" help:"Largest response accepted from the server, in MiB (after gzip decoding)."`
}

// limits are the rpc client's limits from the flags; check catches a
// value out of range first.
func (f responseFlags) limits() rpc.Limits {
	return rpc.Limits{MaxBodyBytes: int64(f.MaxResponseMiB) << 20}
}

func (f responseFlags) check() error {
	if f.MaxResponseMiB < 1 || f.MaxResponseMiB > maxResponseMiBCap {
		return usageErrorf("--max-response-mib %d: want 1 to %d (16 GiB)", f.MaxResponseMiB, maxResponseMiBCap)
	}
	return nil
}

// limitHints are the hints for a size limit that was hit: the server's
// (413) or the client's own.
func limitHints(err error) []string {
	var httpErr *rpc.HTTPError
	switch {
	case errors.Is(err, rpc.ErrResponseTooLarge):
		return []string{"the server's answer is larger than --max-response-mib allows (default 128): raise it, e.g. --max-response-mib 512"}
	case errors.As(err, &httpErr) && httpErr.StatusCode == 413:
		return []string{"the server refused the request as too large: start 'rpcssh serve' with a larger --max-body-mib (default 64), or send less"}
	case errors.As(err, &httpErr) && httpErr.Location != "":
		return []string{fmt.Sprintf("rpcssh follows no redirect (it would send the password there): if you trust %s, call it with --url", httpErr.Location)}
	}
	return nil
}
