package main

import (
	"context"
	"errors"
	"time"
)

// jobEndedError is how a followed or awaited job ended when it did not
// exit 0. jobs follow exits 1 with it; jobs wait and call --wait exit
// with the job's own exit code (jobExitError).
type jobEndedError struct {
	msg     string
	code    int
	hasCode bool
}

func (e *jobEndedError) Error() string { return e.msg }

// jobExitError makes the exit code rpcssh's own: the job's, or 1 when it
// has none (lost, failed, cancelled while queued).
type jobExitError struct{ *jobEndedError }

func (e *jobExitError) Unwrap() error { return e.jobEndedError }

func (e *jobExitError) ExitCode() int {
	if e.hasCode && e.code > 0 && e.code < 256 {
		return e.code
	}
	return exitError
}

// withJobExitCode turns a job's end into rpcssh's exit code.
func withJobExitCode(err error) error {
	var je *jobEndedError
	if errors.As(err, &je) {
		return &jobExitError{je}
	}
	return err
}

type jobsWaitCmd struct {
	jobsConn
	RetryFor time.Duration `default:"5m" help:"Give up when the server has been unreachable this long."`
	Target   []string      `arg:"" name:"dest-and-id" help:"The SSH destination as ssh takes it (none with --host or --url), then the job id."`
	ID       string        `kong:"-"`
}

func (c *jobsWaitCmd) Help() string {
	return `Waits until the job ends (a queued job first waits for its turn), prints
its status as JSON and exits with the job's exit code: 0 when it exited 0,
its code when it exited otherwise (143 when SIGTERM killed it, as a shell
says), 1 when it has none (lost, or cancelled while queued) or on an error
of rpcssh's own; 2 a fault (no such job). The link may drop, and serve may
restart, while it waits: it reconnects, as 'jobs follow' does.

Example:
  rpcssh jobs wait lab "$id" && echo done`
}

// waitChunk is how long one jobs.wait call waits on the server.
const waitChunk = 30 * time.Second

func (c *jobsWaitCmd) Run(ctx context.Context, e *env) error {
	var err error
	if c.ID, err = c.takeID(c.Target, "wait"); err != nil {
		return err
	}
	user, password, err := c.clientCredentials(e, c.URL)
	if err != nil {
		return err
	}
	chunk := waitChunk
	if c.Timeout > 0 && c.Timeout < 2*chunk {
		chunk = c.Timeout / 2
	}
	r := &redialer{conn: &c.jobsConn, e: e, user: user, password: password, retryFor: c.RetryFor, what: "waiting for job " + c.ID}
	defer r.close()
	for {
		var out any
		if err := r.call(ctx, "jobs.wait", []any{c.ID, chunk.Seconds()}, &out); err != nil {
			return err
		}
		st, _ := out.(map[string]any)
		state, _ := st["state"].(string)
		if state != "queued" && state != "running" {
			if err := printResult(e.stdout, st, "json"); err != nil {
				return err
			}
			return withJobExitCode(jobEnded(e, c.ID, st))
		}
	}
}
