package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/rpcssh/rpcssh/rpc"
	"github.com/rpcssh/rpcssh/tunnel"
)

var errNoTerminal = errors.New("no terminal to prompt on")

// usageError is a mistake on the command line: exit 80.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }
func (e *usageError) ExitCode() int { return exitUsage }

func usageErrorf(format string, a ...any) error {
	return &usageError{msg: fmt.Sprintf(format, a...)}
}

// hinted attaches what the user can do about an error found in cmd/.
type hinted struct {
	err   error
	hints []string
}

func (h *hinted) Error() string { return h.err.Error() }
func (h *hinted) Unwrap() error { return h.err }

func withHint(err error, format string, a ...any) error {
	return &hinted{err: err, hints: []string{fmt.Sprintf(format, a...)}}
}

// report prints err as one `rpcssh: error:` line followed by the hints
// that apply, and returns the exit code.
func report(e *env, err error) int {
	var prog *programExitError
	if errors.As(err, &prog) {
		return prog.ExitCode() // silent, as ssh: the program's stderr said it
	}
	var intr *interruptedError
	if errors.As(err, &intr) {
		e.errorLine("%s", intr) // what was interrupted does not matter
		return intr.ExitCode()
	}
	first, rest := errorLines(err)
	e.errorLine("%s", first)
	for _, l := range rest {
		fmt.Fprintf(e.stderr, "    %s\n", l)
	}
	for _, h := range hints(err) {
		e.hintf("%s", h)
	}
	var coder interface{ ExitCode() int }
	if errors.As(err, &coder) {
		return coder.ExitCode()
	}
	var fault *rpc.Fault
	if errors.As(err, &fault) {
		return exitFault
	}
	return exitError
}

// hints maps the errors a user can act on to what to do next.
func hints(err error) []string {
	var out []string
	var h *hinted
	if errors.As(err, &h) {
		out = append(out, h.hints...)
	}
	var unknown *tunnel.UnknownHostError
	var changed *tunnel.HostKeyChangedError
	var revoked *tunnel.RevokedHostKeyError
	var missing *ssh.PassphraseMissingError
	var httpErr *rpc.HTTPError
	var opErr *net.OpError
	var openErr *tunnel.OpenError
	if h := directHint(err); h != "" {
		return append(out, h)
	}
	if lh := limitHints(err); lh != nil {
		return append(out, lh...)
	}
	var direct *directError
	var notFound *methodNotFoundHTTP
	switch {
	case errors.As(err, &unknown):
		host, port := splitHostPortDefault(unknown.Host)
		file := "~/.ssh/known_hosts"
		if len(unknown.Files) > 0 {
			file = unknown.Files[0] // the file in use: --known-hosts, UserKnownHostsFile
		}
		out = append(out,
			fmt.Sprintf("the server's key is %s; check it with the host's owner, then add it with: ssh-keyscan -p %s %s >> %s", unknown.Fingerprint(), port, host, file),
			"or trust it on first use with --strict-host-key-checking accept-new")
	case errors.As(err, &changed):
		out = append(out,
			fmt.Sprintf("someone may be intercepting the connection (man-in-the-middle); the host now offers %s", changed.Fingerprint()),
			fmt.Sprintf("if the host was really reinstalled, remove the old key at %s:%d with: ssh-keygen -R '%s' -f %s", changed.File, changed.Line, knownhosts.Normalize(changed.Host), changed.File))
	case errors.As(err, &revoked):
		out = append(out, "the host's key is marked @revoked in known_hosts: do not connect; ask the host's owner")
	case errors.As(err, &missing):
		out = append(out, "the key is encrypted: set RPCSSH_PASSPHRASE, run on a terminal to be prompted, or load it with ssh-add")
	case errors.Is(err, rpc.ErrUnauthorized):
		out = append(out, "the XML-RPC server refused the password: check RPCSSH_PASSWORD (or --password-file) and --username")
	case errors.As(err, &notFound):
		out = append(out, fmt.Sprintf("the server answers XML-RPC on this path but has no method %q (some servers say 404 for an unknown method): list its methods with system.listMethods", notFound.method))
	case errors.As(err, &httpErr) && httpErr.StatusCode == 404:
		out = append(out, "the server has no XML-RPC endpoint at that path: check --path (rpcssh serve answers on / and /RPC2)")
	case errors.As(err, &openErr) && openErr.Network == "unix" && errors.Is(err, fs.ErrNotExist):
		out = append(out, fmt.Sprintf("there is no socket at %s on the remote host: is 'rpcssh serve --socket %s' running?", openErr.Addr, openErr.Addr))
	case errors.As(err, &openErr) && errors.Is(err, fs.ErrPermission):
		out = append(out, "the SSH user may not open that socket: check its owner and 'rpcssh serve --socket-mode'")
	case errors.As(err, &openErr) && openErr.Network == "unix" && !errors.Is(err, tunnel.ErrForwardProhibited):
		out = append(out, fmt.Sprintf("the SSH server would not open %s: the socket may not exist, the SSH user may not have permission, or sshd_config forbids it (AllowStreamLocalForwarding)", openErr.Addr))
	case errors.Is(err, tunnel.ErrRemoteRefused):
		out = append(out, "nothing listens there on the remote host: is 'rpcssh serve' running, on that --port (or --socket)?")
	case errors.Is(err, tunnel.ErrForwardProhibited):
		out = append(out, "the SSH server does not allow this forward: check AllowTcpForwarding, AllowStreamLocalForwarding and PermitOpen in its sshd_config")
	case strings.Contains(err.Error(), "unable to authenticate"):
		out = append(out, "the SSH server refused every key: check --key, the user (--user or user@host), and ssh-add -l for the agent's keys")
	case errors.Is(err, context.DeadlineExceeded) && len(out) == 0:
		out = append(out, "it took too long: check the host and port, or raise --connect-timeout / --timeout")
	case errors.As(err, &opErr) && opErr.Op == "dial" && !errors.As(err, &direct):
		out = append(out, "the SSH port is not reachable: check --host, --ssh-port and the instance's security group")
	}
	return out
}

func splitHostPortDefault(hostport string) (host, port string) {
	h, p, err := net.SplitHostPort(hostport)
	if err != nil {
		return hostport, "22"
	}
	return h, p
}

// errorLines splits an error for printing: a fault's message keeps its
// lines (a traceback, a program's stderr), the first on the error line and
// the others after it, indented; any other error is one line.
func errorLines(err error) (first string, rest []string) {
	msg := err.Error()
	var fault *rpc.Fault
	if !errors.As(err, &fault) || !strings.ContainsAny(msg, "\r\n") {
		return oneLine(msg), nil
	}
	lines := strings.Split(strings.TrimRight(strings.ReplaceAll(msg, "\r\n", "\n"), "\n"), "\n")
	for _, l := range lines[1:] {
		rest = append(rest, strings.TrimRight(strings.ReplaceAll(l, "\r", " "), " \t"))
	}
	return oneLine(lines[0]), rest
}
