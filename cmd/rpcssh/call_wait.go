package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"time"

	"github.com/rpcssh/rpcssh/rpc"
	"github.com/rpcssh/rpcssh/rpc/program"
)

// callJobRetryFor is how long call --wait and --idempotency-key keep
// redialing a server they cannot reach (jobs follow's default).
const callJobRetryFor = 5 * time.Minute

// runJob starts an async method with an idempotency key, so a start
// whose answer was lost with the link is retried without starting a
// second job, and with --wait follows the job to its end and exits with
// its exit code.
func (c *callCmd) runJob(ctx context.Context, e *env, fleet bool, params []any, user, password string) error {
	switch {
	case fleet:
		return usageErrorf("--wait and --idempotency-key take one host")
	case c.Wait && c.Out != "":
		return usageErrorf("--wait prints the job's output: it cannot take --out")
	}
	key := c.IdempotencyKey
	if key == "" {
		var b [16]byte
		_, _ = rand.Read(b[:])
		key = hex.EncodeToString(b[:])
	}
	if len(key) > 128 {
		return usageErrorf("--idempotency-key: at most 128 characters")
	}
	for _, r := range key {
		if r <= ' ' || r > '~' {
			return usageErrorf("--idempotency-key %q: use printable ASCII without spaces", key)
		}
	}
	jc := jobsConn{sshFlags: c.sshFlags, remoteFlags: c.remoteFlags, passwordFlags: c.passwordFlags, responseFlags: c.responseFlags, URL: c.URL, Timeout: c.Timeout}
	r := &redialer{conn: &jc, e: e, user: user, password: password, retryFor: callJobRetryFor, retryUnanswered: true, what: "starting " + c.Method + " again (same idempotency key)"}
	var out any
	err := r.call(rpc.WithHeader(ctx, http.Header{program.IdempotencyHeader: {key}}), c.Method, params, &out)
	r.close()
	if err != nil {
		return err
	}
	id, isID := out.(string)
	if !c.Wait {
		return printResult(e.stdout, out, c.Output)
	}
	if !isID {
		if err := printResult(e.stdout, out, c.Output); err != nil {
			return err
		}
		return withHint(fmt.Errorf("%s returned a result, not a job id: --wait is for async methods", c.Method), "drop --wait for a method that is not async")
	}
	e.infof("job %s started; following its output", id)
	f := &jobsFollowCmd{jobsConn: jc, RetryFor: callJobRetryFor, ID: id}
	return withJobExitCode(f.Run(ctx, e))
}
