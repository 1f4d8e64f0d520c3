package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// interruptedError is the cause of a run's context when the user pressed
// Ctrl-C (SIGINT) or the process got SIGTERM: the exit code is 128 plus
// the signal number, as shells expect (130 for Ctrl-C).
type interruptedError struct{ sig syscall.Signal }

func (e *interruptedError) Error() string { return "interrupted (" + signalName(e.sig) + ")" }
func (e *interruptedError) ExitCode() int { return 128 + int(e.sig) }

// Is makes errors.Is(err, context.Canceled) true, as for any cancel.
func (e *interruptedError) Is(target error) bool { return target == context.Canceled }

func signalName(s syscall.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return fmt.Sprintf("signal %d", int(s))
}

// interruptible returns a context cancelled with an *interruptedError
// cause at the first SIGINT or SIGTERM; stop releases the signals.
func interruptible(parent context.Context) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(parent)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-sigs:
			sig, _ := s.(syscall.Signal)
			cancel(&interruptedError{sig: sig})
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel(nil)
	}
}

// interrupted returns the *interruptedError that ended ctx, if one did.
func interrupted(ctx context.Context) (*interruptedError, bool) {
	var ie *interruptedError
	if errors.As(context.Cause(ctx), &ie) {
		return ie, true
	}
	return nil, false
}
