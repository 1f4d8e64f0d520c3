package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

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

// prompt reads a secret from the terminal without echo. Ctrl-C or
// SIGTERM while it waits restores the terminal (echo back on) and returns
// an *interruptedError at once.
func (e *env) prompt(question string) ([]byte, error) {
	if !e.stdinTerminal {
		return nil, errNoTerminal
	}
	state, err := term.GetState(e.stdinFd)
	if err != nil {
		return nil, fmt.Errorf("prompt: %w", err)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)

	fmt.Fprintf(e.stderr, "%s", question)
	type answer struct {
		b   []byte
		err error
	}
	answers := make(chan answer, 1)
	go func() {
		// Left blocked on the terminal after an interrupt: the process
		// is about to exit.
		b, err := term.ReadPassword(e.stdinFd)
		answers <- answer{b, err}
	}()
	select {
	case a := <-answers:
		fmt.Fprintln(e.stderr)
		return a.b, a.err
	case s := <-sigs:
		_ = term.Restore(e.stdinFd, state)
		fmt.Fprintln(e.stderr)
		sig, _ := s.(syscall.Signal)
		return nil, &interruptedError{sig: sig}
	}
}

// lockedWriter serialises writes to a writer that goroutines share: a
// fan-out's hosts report on stderr at once (accept-new's "Permanently
// added", ProxyCommand's own stderr), and a test's buffer is no *os.File.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
