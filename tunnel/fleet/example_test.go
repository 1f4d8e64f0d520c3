package fleet_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/rpcssh/rpcssh/tunnel/fleet"
)

// A rollout in batches of two that stops once one host has failed: the
// batch in which web4 fails finishes, the last batch is skipped.
func ExampleRunner() {
	r := fleet.Runner{
		Parallel: 8,
		Batch:    fleet.Limit{N: 2},
		MaxFail:  fleet.Limit{N: 1},
		Do: func(ctx context.Context, host string) (any, error) {
			if host == "web4" {
				return nil, errors.New("disk full")
			}
			return strings.ToUpper(host), nil
		},
	}
	status := map[string]string{}
	for res := range r.Run(context.Background(), []string{"web1", "web2", "web3", "web4", "web5"}) {
		switch {
		case res.Status == fleet.Skipped:
			status[res.Host] = "skipped"
		case res.Err != nil:
			status[res.Host] = "failed: " + res.Err.Error()
		default:
			status[res.Host] = fmt.Sprint(res.Value)
		}
	}
	for _, h := range []string{"web1", "web2", "web3", "web4", "web5"} {
		fmt.Printf("%s: %s\n", h, status[h])
	}
	// Output:
	// web1: WEB1
	// web2: WEB2
	// web3: WEB3
	// web4: failed: disk full
	// web5: skipped
}

func ExampleGroupOutputs() {
	outputs := map[string]string{"web01": "HI", "web02": "HI", "web03": "HI", "web05": "HI", "db1": "fault 42: disk full"}
	for _, g := range fleet.GroupOutputs(outputs) {
		fmt.Printf("%s: %s\n", g.Label(), g.Output)
	}
	// Output:
	// web[01-03,05]: HI
	// db1: fault 42: disk full
}
