package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// env is what a command may touch of the outside world, bound into every
// Run method by kong so that nothing reads os.* directly.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// stdinTerminal and stderrTerminal say whether a person is at the
	// keyboard (prompts) and watching (progress lines).
	stdinTerminal  bool
	stderrTerminal bool
	// stdinFd is the descriptor prompts read from when stdinTerminal.
	stdinFd int
	// share and self are connection sharing's settings and the executable
	// a master runs (empty: no master is started); see control.go.
	share shareFlags
	self  string
}

func newEnv() *env {
	return &env{
		stdin:          os.Stdin,
		stdout:         os.Stdout,
		stderr:         os.Stderr,
		getenv:         os.Getenv,
		stdinTerminal:  term.IsTerminal(int(os.Stdin.Fd())),
		stderrTerminal: term.IsTerminal(int(os.Stderr.Fd())),
		stdinFd:        int(os.Stdin.Fd()),
		self:           executable(),
	}
}

// oneLine keeps every message on one line, whatever a peer sent.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	return strings.Join(strings.Fields(strings.NewReplacer("\r", " ", "\n", "; ").Replace(s)), " ")
}

func (e *env) printf(kind, format string, a ...any) {
	msg := oneLine(fmt.Sprintf(format, a...))
	if kind == "" {
		fmt.Fprintf(e.stderr, "rpcssh: %s\n", msg)
		return
	}
	fmt.Fprintf(e.stderr, "rpcssh: %s: %s\n", kind, msg)
}

func (e *env) infof(format string, a ...any)     { e.printf("", format, a...) }
func (e *env) warnf(format string, a ...any)     { e.printf("warning", format, a...) }
func (e *env) hintf(format string, a ...any)     { e.printf("hint", format, a...) }
func (e *env) errorLine(format string, a ...any) { e.printf("error", format, a...) }

// prompt reads a secret from the terminal without echo.
func (e *env) prompt(question string) ([]byte, error) {
	if !e.stdinTerminal {
		return nil, errNoTerminal
	}
	fmt.Fprintf(e.stderr, "%s", question)
	b, err := term.ReadPassword(e.stdinFd)
	fmt.Fprintln(e.stderr)
	return b, err
}
