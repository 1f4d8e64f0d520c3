package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/rpcssh/rpcssh/rpc"
	"github.com/rpcssh/rpcssh/tunnel"
)

// jobsCmd works with the jobs of async methods (serve --methods).
type jobsCmd struct {
	List   jobsListCmd   `cmd:"" help:"List the server's jobs, oldest first."`
	Status jobsStatusCmd `cmd:"" help:"Show a job's status."`
	Follow jobsFollowCmd `cmd:"" help:"Print a job's output as it comes until the job ends; reconnects when the link drops."`
	Cancel jobsCancelCmd `cmd:"" help:"Stop a running job (SIGTERM to its process group, then SIGKILL)."`
	Wait   jobsWaitCmd   `cmd:"" help:"Wait for a job to end and exit with its exit code; reconnects when the link drops."`
}

func (c *jobsCmd) Help() string {
	return `An async method (async = true in the methods file of 'rpcssh serve --methods')
returns a job id at once; the job keeps running on the server when the call,
the SSH link or the laptop goes away, and when serve restarts (start serve
with --cancel-jobs-on-exit to stop its jobs with it).

The destination comes first, as for ssh and 'rpcssh call': rpcssh jobs
status lab ID. With --host DEST or --url URL, give the job id alone.

Examples:
  id=$(rpcssh call lab sim.run '{"steps":100000}')
  rpcssh jobs follow lab "$id"     # output until it ends; survives reconnects
  rpcssh jobs wait lab "$id"       # exits with the job's exit code
  rpcssh jobs list lab
  rpcssh jobs status lab "$id"
  rpcssh jobs cancel lab "$id"

Exit codes: 0 success (follow: the job exited 0), 1 error (follow: the job
failed, timed out, was cancelled or lost), 2 a fault, 80 usage, 130
interrupted by Ctrl-C (the job itself runs on).`
}

// jobsConn is how every jobs command reaches the server: as call does.
type jobsConn struct {
	sshFlags
	remoteFlags
	passwordFlags
	responseFlags
	URL     string        `placeholder:"URL" help:"Reach the server directly, without SSH: http://host:port/RPC2 or unix:///path/to.sock."`
	Timeout time.Duration `default:"1m" help:"Bound on each call, SSH set-up included (0: none)."`
}

// check finds the usage errors of the connection flags.
func (c *jobsConn) check() error {
	if err := checkTarget(c.URL, c.sshFlags); err != nil {
		return err
	}
	return c.responseFlags.check()
}

// connect opens the SSH link (unless --url) and the XML-RPC client; the
// returned func closes the link.
func (c *jobsConn) connect(ctx context.Context, e *env, user, password string) (*rpc.Client, func(), error) {
	if err := checkURLFlag(c.URL); err != nil {
		return nil, nil, err
	}
	if err := c.responseFlags.check(); err != nil {
		return nil, nil, err
	}
	client, link, err := connectRPC(ctx, e, c.sshFlags, c.remoteFlags, c.URL, user, password, c.limits())
	if err != nil {
		return nil, nil, err
	}
	if link == nil {
		return client, func() {}, nil
	}
	return client, func() { link.Close() }, nil
}

// call makes one call on a fresh connection, bounded by --timeout.
func (c *jobsConn) call(ctx context.Context, e *env, method string, args []any) (any, error) {
	var out any
	err := c.session(ctx, e, func(ctx context.Context, client *rpc.Client) error {
		var err error
		out, err = c.do(ctx, client, method, args)
		return err
	})
	return out, err
}

// session connects once and runs fn with the client; --timeout bounds the
// connection and fn together.
func (c *jobsConn) session(ctx context.Context, e *env, fn func(context.Context, *rpc.Client) error) error {
	if err := c.check(); err != nil {
		return err
	}
	user, password, err := c.clientCredentials(e, c.URL)
	if err != nil {
		return err
	}
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	client, closeLink, err := c.connect(ctx, e, user, password)
	if err != nil {
		return err
	}
	defer closeLink()
	return fn(ctx, client)
}

// do makes one call, with the hint for a server that has no jobs.
func (c *jobsConn) do(ctx context.Context, client *rpc.Client, method string, args []any) (any, error) {
	var out any
	if err := client.Call(ctx, method, args, &out); err != nil {
		err = direct(c.URL, err)
		var f *rpc.Fault
		if errors.As(err, &f) && f.Code == rpc.CodeMethodNotFound {
			return nil, withHint(err, "the server has no jobs: start it with 'rpcssh serve --methods FILE'")
		}
		return nil, err
	}
	return out, nil
}

type jobsListCmd struct {
	jobsConn
	Dest   []string `arg:"" optional:"" name:"dest" help:"The SSH destination as ssh takes it (none with --host or --url)."`
	Output string   `enum:"text,json" default:"text" help:"text: a table; json: the statuses as JSON."`
}

func (c *jobsListCmd) Run(ctx context.Context, e *env) error {
	if _, err := c.takeDest(c.Dest, 0, "rpcssh jobs list DEST"); err != nil {
		return err
	}
	v, err := c.listAll(ctx, e)
	if err != nil {
		return err
	}
	if c.Output == "json" {
		return printResult(e.stdout, v, "json")
	}
	list, _ := v.([]any)
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tMETHOD\tSTATE\tEXIT\tSTARTED\tDURATION\tOUTPUT")
	for _, x := range list {
		st, _ := x.(map[string]any)
		exit := "-"
		if code, ok := st["exit_code"].(int64); ok {
			exit = fmt.Sprint(code)
		}
		started := "-"
		if t, ok := st["started"].(time.Time); ok {
			started = t.Local().Format("2006-01-02 15:04:05")
		}
		dur := "-"
		if d, ok := st["duration_s"].(float64); ok {
			dur = (time.Duration(d * float64(time.Second))).Round(time.Millisecond).String()
		}
		out := fmt.Sprintf("%vB", st["output_bytes"])
		if st["truncated"] == true {
			out += " (cut)"
		}
		fmt.Fprintf(tw, "%v\t%v\t%v\t%s\t%s\t%s\t%s\n", st["id"], st["method"], stateText(st), exit, started, dur, out)
	}
	return tw.Flush()
}

type jobsStatusCmd struct {
	jobsConn
	Target []string `arg:"" name:"dest-and-id" help:"The SSH destination as ssh takes it (none with --host or --url), then the job id."`
	ID     string   `kong:"-"`
}

func (c *jobsStatusCmd) Run(ctx context.Context, e *env) error {
	var err error
	if c.ID, err = c.takeID(c.Target, "status"); err != nil {
		return err
	}
	v, err := c.call(ctx, e, "jobs.status", []any{c.ID})
	if err != nil {
		return err
	}
	return printResult(e.stdout, v, "json")
}

type jobsCancelCmd struct {
	jobsConn
	Target []string `arg:"" name:"dest-and-id" help:"The SSH destination as ssh takes it (none with --host or --url), then the job id."`
	ID     string   `kong:"-"`
}

// Run cancels a running job and prints its status; a job that had
// already ended gets one line saying so, and exit 0.
func (c *jobsCancelCmd) Run(ctx context.Context, e *env) error {
	var err error
	if c.ID, err = c.takeID(c.Target, "cancel"); err != nil {
		return err
	}
	return c.session(ctx, e, func(ctx context.Context, client *rpc.Client) error {
		v, err := c.do(ctx, client, "jobs.status", []any{c.ID})
		if err != nil {
			return err
		}
		st, _ := v.(map[string]any)
		if state, _ := st["state"].(string); state != "" && state != "running" {
			msg := fmt.Sprintf("job %s had already ended (%s", c.ID, state)
			if code, ok := st["exit_code"].(int64); ok {
				msg += fmt.Sprintf(", exit code %d", code)
			}
			e.infof("%s): nothing to cancel", msg)
			return nil
		}
		v, err = c.do(ctx, client, "jobs.cancel", []any{c.ID})
		if err != nil {
			return err
		}
		return printResult(e.stdout, v, "json")
	})
}

type jobsFollowCmd struct {
	jobsConn
	From     int64         `default:"0" placeholder:"OFFSET" help:"Byte offset of the output to start from."`
	RetryFor time.Duration `default:"5m" help:"Give up when the server has been unreachable this long."`
	Target   []string      `arg:"" name:"dest-and-id" help:"The SSH destination as ssh takes it (none with --host or --url), then the job id."`
	ID       string        `kong:"-"`
}

// Reconnect backoff and output polling intervals of follow.
const (
	followMinBackoff = 500 * time.Millisecond
	followMaxBackoff = 15 * time.Second
	followMinPoll    = 100 * time.Millisecond
	followMaxPoll    = time.Second
)

// Run prints the output from --from on; when a call fails for a reason
// other than a fault (the link dropped, serve restarting), it redials
// with backoff and asks again from the last offset, so nothing is printed
// twice or skipped.
func (c *jobsFollowCmd) Run(ctx context.Context, e *env) error {
	if c.ID == "" { // from the command line; call --wait sets the id itself
		var err error
		if c.ID, err = c.takeID(c.Target, "follow"); err != nil {
			return err
		}
	}
	return direct(c.URL, c.follow(ctx, e))
}

func (c *jobsFollowCmd) follow(ctx context.Context, e *env) error {
	if c.From < 0 {
		return usageErrorf("--from must not be negative")
	}
	if err := c.check(); err != nil {
		return err
	}
	user, password, err := c.clientCredentials(e, c.URL)
	if err != nil {
		return err
	}
	r := &redialer{conn: &c.jobsConn, e: e, user: user, password: password, retryFor: c.RetryFor}
	defer r.close()
	offset, poll := c.From, followMinPoll
	for {
		// what follows "reconnected; " once serve answers again.
		r.what = fmt.Sprintf("following job %s from byte %d", c.ID, offset)
		r.resume = fmt.Sprintf("run 'rpcssh jobs follow --from %d %s' to continue", offset, c.ID)
		var out any
		if err := r.call(ctx, "jobs.output", []any{c.ID, offset}, &out); err != nil {
			return err
		}
		chunk, _ := out.(map[string]any)
		n, err := writeChunk(e.stdout, chunk["data"])
		if err != nil {
			return err
		}
		if next, ok := chunk["next_offset"].(int64); ok {
			offset = next
		}
		if chunk["done"] == true {
			break
		}
		if n > 0 {
			poll = followMinPoll
			continue
		}
		if err := sleepCtx(ctx, poll); err != nil {
			return err
		}
		poll = min(poll*2, followMaxPoll)
	}
	r.what = fmt.Sprintf("reading the status of job %s", c.ID)
	var st any
	if err := r.call(ctx, "jobs.status", []any{c.ID}, &st); err != nil {
		return err
	}
	status, _ := st.(map[string]any)
	return jobEnded(e, c.ID, status)
}

// writeChunk writes output data: a string, or raw bytes sent as base64.
func writeChunk(w io.Writer, data any) (int, error) {
	switch d := data.(type) {
	case string:
		return io.WriteString(w, d)
	case []byte:
		return w.Write(d)
	}
	return 0, nil
}

// jobEnded reports how the job ended: nil only when it exited 0.
func jobEnded(e *env, id string, st map[string]any) error {
	state, _ := st["state"].(string)
	if st["truncated"] == true {
		e.warnf("the job's output was cut at its method's output_cap")
	}
	code, hasCode := st["exit_code"].(int64)
	if state == "exited" && hasCode && code == 0 {
		e.infof("job %s exited with code 0", id)
		return nil
	}
	msg := fmt.Sprintf("job %s ended: %s", id, state)
	if hasCode {
		msg += fmt.Sprintf(" (exit code %d)", code)
	}
	if reason, ok := st["error"].(string); ok {
		msg += ": " + reason
	}
	return &jobEndedError{msg: msg, code: int(code), hasCode: hasCode}
}

// permanentDialError: redialing cannot help when the host key is wrong.
func permanentDialError(err error) bool {
	var unknown *tunnel.UnknownHostError
	var changed *tunnel.HostKeyChangedError
	var revoked *tunnel.RevokedHostKeyError
	var usage *usageError
	return errors.As(err, &unknown) || errors.As(err, &changed) || errors.As(err, &revoked) || errors.As(err, &usage)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
