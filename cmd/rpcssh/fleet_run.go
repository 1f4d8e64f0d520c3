package main

import (
	"errors"
	"fmt"

	"github.com/rpcssh/rpcssh/tunnel/fleet"
)

// fromFleet turns a fleet.Result into the CLI's hostResult, naming the
// flags that bounded the host.
func fromFleet(res fleet.Result, maxFail fleet.Limit) hostResult {
	r := hostResult{host: res.Host, value: res.Value, err: res.Err, elapsed: res.Elapsed}
	var te *fleet.TimeoutError
	switch {
	case res.Status == fleet.NotStarted:
		r.notStarted = true
	case res.Status == fleet.Skipped:
		r.skipped = true
		r.err = fmt.Errorf("skipped: --max-fail %s reached", maxFail)
	case errors.As(res.Err, &te) && res.Err == error(te):
		r.err = fmt.Errorf("--timeout %s: %w", te.Timeout, te.Err)
	}
	return r
}
