package main

import "strings"

// takeDest reads a jobs command's positional arguments as ssh reads its
// own: the destination first (`rpcssh jobs status lab ID`), unless --host
// or --url names the server, then want arguments (the job id, or none
// for list). usage is the command's form, for the error.
func (c *jobsConn) takeDest(args []string, want int, usage string) ([]string, error) {
	switch {
	case len(args) == want+1 && (len(c.Host) > 0 || c.URL != ""):
		return nil, usageErrorf("unexpected argument %q: --host or --url names the server already (%s)", args[0], usage)
	case len(args) == want+1:
		c.Host = []string{args[0]}
		return args[1:], nil
	case len(args) == want && len(c.Host) == 0 && c.URL == "":
		return nil, usageErrorf("missing destination: %s (or --host DEST, or --url for a direct call)", usage)
	case len(args) == want:
		return args, nil
	case len(args) > want+1:
		return nil, usageErrorf("unexpected arguments %s: %s", strings.Join(args[want+1:], " "), usage)
	}
	return nil, usageErrorf("missing job id: %s", usage)
}

// takeID is takeDest for the commands on one job.
func (c *jobsConn) takeID(args []string, sub string) (string, error) {
	rest, err := c.takeDest(args, 1, "rpcssh jobs "+sub+" DEST ID")
	if err != nil {
		return "", err
	}
	return rest[0], nil
}
