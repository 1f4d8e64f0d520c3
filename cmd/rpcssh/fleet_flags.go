package main

import (
	"github.com/rpcssh/rpcssh/tunnel/fleet"
)

// fleetFlags choose and pace the hosts of a fan-out: an Ansible inventory
// and pattern, a failure limit, batches, and how results are kept.
type fleetFlags struct {
	Inventory string `type:"path" placeholder:"FILE" help:"Call the hosts of an Ansible inventory: INI, YAML, or an executable script answering --list; with --limit, only those it selects. Adds to --host."`
	Limit     string `placeholder:"PATTERN" help:"With --inventory: Ansible's host pattern, e.g. web, web:&prod, web:!web03, 'web[0:9]', '~db\\d+'."`
	MaxFail   string `name:"max-fail" placeholder:"N|P%" help:"Stop starting hosts once N hosts (or P% of the hosts done) have failed or faulted; those in flight finish, the rest are reported as skipped."`
	Batch     string `placeholder:"N|P%" help:"Call the hosts in serial batches of N (or P% of all hosts), each finishing before the next starts (Ansible's serial); --max-fail is checked between batches too."`
	Group     bool   `help:"Text output: once all hosts are done, print each distinct result once, preceded by its hosts in range form (web[01-48,50]: HI), like dshbak -c."`
	OutputDir string `name:"output-dir" type:"path" placeholder:"DIR" help:"Also write each host's result to DIR/HOST.out, its error or fault to DIR/HOST.err, and its JSON line to DIR/HOST.json, like pssh -o."`
}

// fleetOnly reports whether a flag that only makes sense for a fleet is
// set; any of them makes even one host a fleet.
func (f fleetFlags) fleetOnly() bool {
	return f.Inventory != "" || f.MaxFail != "" || f.Batch != "" || f.Group || f.OutputDir != ""
}

// rollout checks the pacing flags and returns them as fleet.Limits.
func (f fleetFlags) rollout(output string) (maxFail, batch fleet.Limit, err error) {
	if f.Limit != "" && f.Inventory == "" {
		return maxFail, batch, usageErrorf("--limit selects hosts of an --inventory: give one")
	}
	if f.Group && output != "text" {
		return maxFail, batch, usageErrorf("--group groups text lines: it cannot take --output %s", output)
	}
	if f.MaxFail != "" {
		if maxFail, err = fleet.ParseLimit(f.MaxFail); err != nil {
			return maxFail, batch, usageErrorf("--max-fail %s: want N (at least 1) or P%% (above 0, at most 100)", f.MaxFail)
		}
	}
	if f.Batch != "" {
		if batch, err = fleet.ParseLimit(f.Batch); err != nil {
			return maxFail, batch, usageErrorf("--batch %s: want N (at least 1) or P%% (above 0, at most 100)", f.Batch)
		}
	}
	return maxFail, batch, nil
}
