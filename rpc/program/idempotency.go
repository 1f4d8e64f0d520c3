package program

import (
	"context"
	"fmt"

	"github.com/rpcssh/rpcssh/rpc"
)

// IdempotencyHeader is the HTTP header of an async start's idempotency
// key: a second start with a key the store still holds returns the first
// job's id instead of starting another. The key lives as long as the job.
const IdempotencyHeader = "Idempotency-Key"

// maxKeyLen bounds an idempotency key.
const maxKeyLen = 128

// idempotencyKey reads the key of the call being served, if any.
func idempotencyKey(ctx context.Context) (string, error) {
	h := rpc.RequestHeader(ctx)
	if h == nil {
		return "", nil
	}
	vs := h.Values(IdempotencyHeader)
	if len(vs) == 0 {
		return "", nil
	}
	if len(vs) > 1 {
		return "", fmt.Errorf("%s header given %d times", IdempotencyHeader, len(vs))
	}
	k := vs[0]
	if k == "" || len(k) > maxKeyLen {
		return "", fmt.Errorf("%s: want 1 to %d characters, got %d", IdempotencyHeader, maxKeyLen, len(k))
	}
	for _, r := range k {
		if r <= ' ' || r > '~' {
			return "", fmt.Errorf("%s: only printable ASCII without spaces", IdempotencyHeader)
		}
	}
	return k, nil
}
