package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"strings"
)

// checkURLFlag refuses a --url the rpc client would misread: one without
// a scheme (127.0.0.1:8000) gets the form to write instead.
func checkURLFlag(raw string) error {
	if raw == "" || strings.Contains(raw, "://") {
		return nil
	}
	if strings.HasPrefix(raw, "/") {
		return usageErrorf("--url %q has no scheme: for a Unix socket write unix://%s", raw, raw)
	}
	return usageErrorf("--url %q has no scheme: write http://%s/RPC2 (or unix:///path/to.sock)", redactedURL(raw), strings.TrimSuffix(redactedURL(raw), "/"))
}

// redactedURL is a --url safe to print: any password replaced.
func redactedURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		if i := strings.LastIndex(raw, "@"); i >= 0 && err != nil {
			return "xxxxx@" + raw[i+1:]
		}
		return raw
	}
	return u.Redacted()
}

// directError is an error of a call made with --url, without SSH: its
// hints talk about the server at that URL, never about SSH.
type directError struct {
	url string // redacted
	err error
}

func (e *directError) Error() string { return e.err.Error() }
func (e *directError) Unwrap() error { return e.err }

// direct marks err as coming from a call to --url raw (no-op without one).
func direct(raw string, err error) error {
	var de *directError
	if raw == "" || err == nil || errors.As(err, &de) {
		return err
	}
	return &directError{url: redactedURL(raw), err: err}
}

// directHint is the hint for a --url server that could not be reached,
// and "" for any other error.
func directHint(err error) string {
	var de *directError
	var opErr *net.OpError
	if !errors.As(err, &de) || !errors.As(err, &opErr) || opErr.Op != "dial" {
		return ""
	}
	if strings.HasPrefix(de.url, "unix:") {
		sock, _, _ := strings.Cut(strings.TrimPrefix(de.url, "unix://"), ":/")
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Sprintf("there is no socket at %s: is 'rpcssh serve --socket %s' running on this machine?", sock, sock)
		}
		return fmt.Sprintf("is rpcssh serve running at %s, and may this user open the socket?", sock)
	}
	return fmt.Sprintf("is rpcssh serve running at %s? (nothing answered there; --url connects directly, without SSH)", de.url)
}

// checkTarget finds the usage errors of where a single-server command
// goes (--url and --host together, neither, a bad --url) before anything
// else is asked for, such as the password.
func checkTarget(raw string, f sshFlags) error {
	if raw != "" {
		if len(f.Host) > 0 {
			return usageErrorf("give --host (through SSH) or --url (direct), not both")
		}
		return checkURLFlag(raw)
	}
	_, err := f.singleHost()
	return err
}
