package main

import "fmt"

// programResult is the answer of a synchronous program method of 'rpcssh
// serve --methods': {exit_code, stdout, stderr, truncated, duration_s},
// stdout and stderr as strings, or base64 bytes when not XML text.
type programResult struct {
	exitCode       int
	stdout, stderr []byte
	truncated      bool
}

// asProgramResult recognises a program method's answer by its exact shape
// (those five members, of those types), so any other struct prints as
// JSON as before.
func asProgramResult(v any) (programResult, bool) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 5 {
		return programResult{}, false
	}
	code, okCode := m["exit_code"].(int64)
	stdout, okOut := outputBytes(m["stdout"])
	stderr, okErr := outputBytes(m["stderr"])
	truncated, okTrunc := m["truncated"].(bool)
	_, okDur := m["duration_s"].(float64)
	if !okCode || !okOut || !okErr || !okTrunc || !okDur || code < 0 || code > 255 {
		return programResult{}, false
	}
	return programResult{exitCode: int(code), stdout: stdout, stderr: stderr, truncated: truncated}, true
}

func outputBytes(v any) ([]byte, bool) {
	switch t := v.(type) {
	case string:
		return []byte(t), true
	case []byte:
		return t, true
	}
	return nil, false
}

// programExitError is a program that exited non-zero: rpcssh exits with
// the same code and prints no error line, as 'ssh host cmd' does (the
// program's stderr already said what went wrong).
type programExitError struct{ code int }

func (e *programExitError) Error() string {
	return fmt.Sprintf("the program exited with code %d", e.code)
}
func (e *programExitError) ExitCode() int { return e.code }

// exitErr is nil for exit code 0, else a *programExitError.
func (p programResult) exitErr() error {
	if p.exitCode == 0 {
		return nil
	}
	return &programExitError{code: p.exitCode}
}

// printRaw writes the program's stdout and stderr as they were, without
// an added newline, and warns when the server cut them.
func (p programResult) printRaw(e *env) error {
	if _, err := e.stdout.Write(p.stdout); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	if _, err := e.stderr.Write(p.stderr); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	if p.truncated {
		e.warnf("the program's output was cut at its method's output_cap")
	}
	return nil
}
