package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/rpcssh/rpcssh/rpc"
	"github.com/rpcssh/rpcssh/tunnel/fleet"
)

// fleetOutput is where a fan-out's results go besides one line per host
// on stdout: held back and grouped (--group), and one file per host
// (--output-dir). The zero value does neither.
type fleetOutput struct {
	group bool
	dir   string

	grouped map[string]string // host -> its line without "host: "
}

// keep records one host's result; it reports whether the host's line is
// held back for grouping (then the caller does not print it).
func (o *fleetOutput) keep(r hostResult, line string) (held bool, err error) {
	if o == nil || r.notStarted {
		return false, nil
	}
	if o.dir != "" {
		err = writeHostFiles(o.dir, r)
	}
	if !o.group {
		return false, err
	}
	if o.grouped == nil {
		o.grouped = make(map[string]string)
	}
	o.grouped[r.host] = strings.TrimSuffix(strings.TrimPrefix(line, r.host+": "), "\n")
	return true, err
}

// flush prints the groups, largest first: "web[01-48,50]: HI".
func (o *fleetOutput) flush(w io.Writer) error {
	if o == nil || !o.group {
		return nil
	}
	for _, g := range fleet.GroupOutputs(o.grouped) {
		if _, err := fmt.Fprintf(w, "%s: %s\n", g.Label(), g.Output); err != nil {
			return err
		}
	}
	return nil
}

// prepareOutputDir creates --output-dir (and its parents) if needed.
func prepareOutputDir(dir string) error {
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--output-dir: %w", err)
	}
	return nil
}

// hostFileName makes a destination safe as a file name: "/" (of an
// ssh:// URL) becomes "_"; "." and ".." cannot name a host file.
func hostFileName(host string) (string, error) {
	name := strings.ReplaceAll(host, "/", "_")
	if name == "." || name == ".." || name == "" || strings.ContainsRune(name, 0) {
		return "", fmt.Errorf("--output-dir: host %q cannot name a file", host)
	}
	return name, nil
}

// writeHostFiles writes DIR/HOST.json always, DIR/HOST.out for a result
// (raw bytes for base64, a string as is, else JSON) and DIR/HOST.err for
// a fault or an error.
func writeHostFiles(dir string, r hostResult) error {
	name, err := hostFileName(r.host)
	if err != nil {
		return err
	}
	base := filepath.Join(dir, name)
	line, err := formatHostLine(r, "json")
	if err != nil {
		return err
	}
	if err := os.WriteFile(base+".json", []byte(line), 0o644); err != nil {
		return fmt.Errorf("--output-dir: %w", err)
	}
	if r.err == nil {
		if err := writeOut(base+".out", r.value); err != nil {
			return fmt.Errorf("--output-dir: %w", err)
		}
		return nil
	}
	msg := "error: " + r.err.Error()
	var fault *rpc.Fault
	if errors.As(r.err, &fault) {
		msg = fmt.Sprintf("fault %d: %s", fault.Code, fault.Message)
	}
	if err := os.WriteFile(base+".err", []byte(msg+"\n"), 0o644); err != nil {
		return fmt.Errorf("--output-dir: %w", err)
	}
	return nil
}
