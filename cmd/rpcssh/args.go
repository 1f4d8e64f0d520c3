package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/rpcssh/rpcssh/rpc"
)

// argsHelp is shown by `rpcssh call --help`: the argument syntax, with an
// example of each form.
const argsHelp = `Arguments (one XML-RPC param each):
  hi                  a bare word is a string
  42  3.5  true  null a JSON literal: int, double, boolean, nil
  '"42"'              a JSON string (quotes kept from the shell)
  '[1,"a"]'  '{"x":1}' a JSON array or object (struct)
  int:7  i8:9876543210  double:2  bool:true  string:42
  date:2026-01-02T15:04:05Z   an RFC 3339 dateTime.iso8601
  base64:aGk=         inline base64, sent as base64 bytes
  @notes.txt          a file's contents as a string
  base64:@image.png   a file's contents as base64 bytes
  --args-json FILE|-  the whole params array as JSON`

// maxArgFile bounds what one @file argument may read, so a typo such as
// @/dev/zero fails instead of filling memory.
const maxArgFile = 256 << 20

// argError is a bad command-line argument: a usage error (exit 80).
type argError struct{ msg string }

func (e *argError) Error() string { return e.msg }
func (e *argError) ExitCode() int { return exitUsage }

func argErrorf(format string, a ...any) error {
	return &argError{msg: fmt.Sprintf(format, a...)}
}

// readFile reads a whole file for an argument; it is a parameter so the
// parser can be fuzzed without touching the disk. The bytes it returns
// are handed over: nothing else holds or writes them, so an @file
// argument becomes a string without a copy of a file that may be hundreds
// of MiB.
type readFileFunc func(name string) ([]byte, error)

func readArgFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Sized from Stat, as os.ReadFile does, so a large file is read into
	// one buffer instead of ReadAll's doubling copies.
	size := 512
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size += int(min(st.Size(), maxArgFile))
	}
	b := make([]byte, 0, size)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := f.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if len(b) > maxArgFile {
			return nil, fmt.Errorf("larger than %d MiB", maxArgFile>>20)
		}
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// parseArgs turns the command line's METHOD arguments into XML-RPC params.
func parseArgs(args []string, read readFileFunc) ([]any, error) {
	params := make([]any, 0, len(args))
	for i, a := range args {
		v, err := parseArg(a, read)
		if err != nil {
			return nil, argErrorf("argument %d %q: %v", i+1, shorten(a), err)
		}
		params = append(params, v)
	}
	return params, nil
}

func shorten(s string) string {
	if len(s) > 40 {
		return s[:37] + "..."
	}
	return s
}

// parseArg converts one argument; see argsHelp for the syntax.
func parseArg(a string, read readFileFunc) (any, error) {
	if prefix, rest, ok := strings.Cut(a, ":"); ok {
		switch prefix {
		case "string":
			return rest, nil
		case "int":
			n, err := strconv.ParseInt(rest, 10, 32)
			if err != nil {
				if errors.Is(err, strconv.ErrRange) {
					return nil, errors.New("out of range for a 32-bit int (use i8:)")
				}
				return nil, errors.New("not an integer")
			}
			return int32(n), nil
		case "i8":
			n, err := strconv.ParseInt(rest, 10, 64)
			if err != nil {
				return nil, errors.New("not a 64-bit integer")
			}
			return rpc.I8(n), nil
		case "double":
			f, err := strconv.ParseFloat(rest, 64)
			if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
				return nil, errors.New("not a finite number")
			}
			return f, nil
		case "bool":
			switch strings.ToLower(rest) {
			case "true", "1":
				return true, nil
			case "false", "0":
				return false, nil
			}
			return nil, errors.New("not a boolean (true, false, 1 or 0)")
		case "date":
			t, err := time.Parse(time.RFC3339, rest)
			if err != nil {
				return nil, errors.New("not an RFC 3339 time such as 2026-01-02T15:04:05Z")
			}
			return t, nil
		case "base64":
			if name, ok := strings.CutPrefix(rest, "@"); ok {
				b, err := read(name)
				if err != nil {
					return nil, fmt.Errorf("read file: %w", err)
				}
				return b, nil
			}
			b, err := base64.StdEncoding.DecodeString(rest)
			if err != nil {
				return nil, errors.New("not valid base64")
			}
			return b, nil
		}
	}
	if name, ok := strings.CutPrefix(a, "@"); ok {
		b, err := read(name)
		if err != nil {
			return nil, fmt.Errorf("read file: %w", err)
		}
		if !utf8.Valid(b) {
			return nil, errors.New("file is not UTF-8 text (use base64:@file)")
		}
		if len(b) == 0 {
			return "", nil
		}
		return unsafe.String(&b[0], len(b)), nil // b is ours (see readFileFunc)
	}
	return parseLiteral(a)
}

// parseLiteral reads a JSON literal; anything that does not look like one
// is a plain string. Something that starts like JSON but is not valid is
// an error rather than silently a string.
func parseLiteral(a string) (any, error) {
	if a == "" {
		return "", nil
	}
	switch a {
	case "true":
		return true, nil
	case "false":
		return false, nil
	case "null":
		return nil, nil
	}
	c := a[0]
	looksJSON := c == '{' || c == '[' || c == '"'
	looksNumber := c == '-' || (c >= '0' && c <= '9')
	if !looksJSON && !looksNumber {
		return a, nil
	}
	v, err := decodeJSON([]byte(a))
	if err != nil {
		if looksJSON || errors.Is(err, errNumberRange) {
			return nil, fmt.Errorf("invalid JSON (prefix with string: to send it as text): %v", err)
		}
		return a, nil // 007, 1.2.3, -v: plain words
	}
	return v, nil
}

// parseArgsJSON reads a whole params array for --args-json.
func parseArgsJSON(data []byte) ([]any, error) {
	v, err := decodeJSON(data)
	if err != nil {
		return nil, argErrorf("--args-json: %v", err)
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, argErrorf("--args-json: want a JSON array of params, got %s", jsonKind(v))
	}
	return arr, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	default:
		return "a number"
	}
}

// decodeJSON decodes one JSON value with numbers as int64 where they are
// integers and float64 otherwise, rejecting trailing data.
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("trailing data after the JSON value")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the JSON value")
	}
	return convertNumbers(v)
}

// errNumberRange is a JSON number that XML-RPC cannot carry: never sent
// silently as a string instead.
var errNumberRange = errors.New("is out of the range")

func convertNumbers(v any) (any, error) {
	switch t := v.(type) {
	case json.Number:
		s := t.String()
		if !strings.ContainsAny(s, ".eE") {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("integer %s %w: XML-RPC carries at most 64 bits (send it as text with string:)", shorten(s), errNumberRange)
			}
			return n, nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("number %s %w of a double", shorten(s), errNumberRange)
		}
		return f, nil
	case []any:
		for i := range t {
			c, err := convertNumbers(t[i])
			if err != nil {
				return nil, err
			}
			t[i] = c
		}
	case map[string]any:
		for k := range t {
			c, err := convertNumbers(t[k])
			if err != nil {
				return nil, err
			}
			t[k] = c
		}
	}
	return v, nil
}

// dateWarning says what XML-RPC's dateTime.iso8601 (whole seconds, no
// zone) drops of the date: arguments among params, "" when nothing: a
// fraction of a second, or a zone other than UTC (the time is sent
// converted to UTC, so the instant is kept to the second).
func dateWarning(params []any) string {
	var notes []string
	for i, p := range params {
		t, ok := p.(time.Time)
		if !ok {
			continue
		}
		var dropped []string
		if t.Nanosecond() != 0 {
			dropped = append(dropped, "the fraction of a second ("+t.Format(".999999999")+")")
		}
		if _, off := t.Zone(); off != 0 {
			dropped = append(dropped, "the zone "+t.Format("-07:00")+" (converted to UTC)")
		}
		if len(dropped) > 0 {
			notes = append(notes, fmt.Sprintf("argument %d sent as %s: dropped %s", i+1,
				t.UTC().Format("20060102T15:04:05"), strings.Join(dropped, " and ")))
		}
	}
	if len(notes) == 0 {
		return ""
	}
	return "XML-RPC's dateTime carries whole seconds and no zone: " + strings.Join(notes, "; ")
}
