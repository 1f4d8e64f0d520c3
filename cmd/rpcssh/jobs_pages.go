package main

import (
	"context"
	"fmt"

	"github.com/rpcssh/rpcssh/rpc/program"
)

// listAll reads every page of jobs.list over one connection.
func (c *jobsListCmd) listAll(ctx context.Context, e *env) (any, error) {
	user, password, err := c.clientCredentials(e, c.URL)
	if err != nil {
		return nil, err
	}
	r := &redialer{conn: &c.jobsConn, e: e, user: user, password: password, retryFor: 0, what: "listing jobs"}
	defer r.close()
	all := []any{}
	for {
		var out any
		if err := r.call(ctx, "jobs.list", []any{len(all), program.MaxListPage}, &out); err != nil {
			return nil, err
		}
		page, _ := out.([]any)
		all = append(all, page...)
		if len(page) < program.MaxListPage {
			return all, nil
		}
	}
}

// stateText is a job's state for the table: a queued job's place in its
// queue too ("queued #2").
func stateText(st map[string]any) string {
	s, _ := st["state"].(string)
	if p, ok := st["queue_position"].(int64); ok && s == "queued" {
		return fmt.Sprintf("%s #%d", s, p)
	}
	return s
}
