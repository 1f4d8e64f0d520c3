package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rpcssh/rpcssh/rpc"
)

// redialer makes calls over a link it reopens, with backoff, when a call
// fails for a reason other than a fault (the link dropped, serve
// restarting), until the server has been unreachable for retryFor. jobs
// follow, jobs wait, jobs list's pages and call --wait's start all call
// through one.
type redialer struct {
	conn     *jobsConn
	e        *env
	user     string
	password string
	retryFor time.Duration // 0: a failed call is not retried
	// retryUnanswered retries a call that fails before serve has ever
	// answered: a start whose answer was lost with the link. Without it
	// such a failure ends the call at once (serve is not there).
	retryUnanswered bool
	what            string // for the messages: "waiting for job X"
	resume          string // for the hint on giving up: how to carry on, or ""

	client    *rpc.Client
	closeLink func()
	connected bool // a link was opened once: a failed dial is retried
	answered  bool // serve answered once
}

func (r *redialer) close() {
	if r.closeLink != nil {
		r.closeLink()
	}
}

func (r *redialer) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if r.conn.Timeout > 0 {
		return context.WithTimeout(ctx, r.conn.Timeout)
	}
	return context.WithCancel(ctx)
}

// call makes one call, retrying it over a new link as long as allowed;
// a call is retried only when it is safe to repeat (reads, and starts
// carrying an idempotency key).
func (r *redialer) call(ctx context.Context, method string, args []any, out *any) error {
	return direct(r.conn.URL, r.callRetrying(ctx, method, args, out))
}

func (r *redialer) callRetrying(ctx context.Context, method string, args []any, out *any) error {
	lastOK, backoff := time.Now(), followMinBackoff
	reconnecting := false // "reconnected" is said once serve answers, not SSH
	for {
		var err error
		if r.client == nil {
			cctx, cancel := r.bound(ctx)
			var closeLink func()
			r.client, closeLink, err = r.conn.connect(cctx, r.e, r.user, r.password)
			cancel()
			if err == nil {
				r.closeLink = closeLink
				reconnecting = r.connected
				r.connected = true
			} else if !r.connected || permanentDialError(err) || ctx.Err() != nil {
				return err
			}
		}
		if err == nil {
			cctx, cancel := r.bound(ctx)
			err = r.client.Call(cctx, method, args, out)
			cancel()
			if err == nil {
				if reconnecting {
					r.e.infof("reconnected; %s", r.what)
				}
				r.answered = true
				return nil
			}
			var f *rpc.Fault
			if ctx.Err() != nil || errors.As(err, &f) || errors.Is(err, rpc.ErrUnauthorized) || (!r.answered && !r.retryUnanswered) {
				return err
			}
			r.close()
			r.client, r.closeLink = nil, nil
		}
		if r.retryFor <= 0 || time.Since(lastOK) > r.retryFor {
			return r.giveUp(err)
		}
		r.e.warnf("link lost (%v); reconnecting in %s", err, backoff)
		if err := sleepCtx(ctx, backoff); err != nil {
			return err
		}
		backoff = min(backoff*2, followMaxBackoff)
	}
}

// giveUp ends a call that may not be retried any more, with a hint at how
// long it tried and how to carry on.
func (r *redialer) giveUp(err error) error {
	var hint []string
	if r.retryFor > 0 {
		hint = append(hint, fmt.Sprintf("the server was unreachable for more than --retry-for %s", r.retryFor))
	}
	if r.resume != "" {
		hint = append(hint, r.resume)
	}
	if len(hint) == 0 {
		return err
	}
	return withHint(err, "%s", strings.Join(hint, "; "))
}
