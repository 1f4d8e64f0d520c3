package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"
)

// jsonValue turns a decoded XML-RPC value into what encoding/json prints
// the way the README documents: base64 as base64 text, dateTime in RFC
// 3339, nil as null, a double always with a fraction or exponent (2.0,
// not 2, so it never looks like an int).
func jsonValue(v any) any {
	switch t := v.(type) {
	case float64:
		return jsonDouble(t)
	case []byte:
		return base64.StdEncoding.EncodeToString(t)
	case time.Time:
		return t.Format(time.RFC3339Nano)
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = jsonValue(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = jsonValue(e)
		}
		return out
	}
	return v
}

// jsonDouble is an XML-RPC double in JSON: a JSON number that keeps a
// fraction (2.0) so a reader can tell it from an int.
type jsonDouble float64

func (d jsonDouble) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(float64(d))
	if err != nil {
		return nil, err
	}
	if !bytes.ContainsAny(b, ".eE") {
		b = append(b, ".0"...)
	}
	return b, nil
}

// marshalJSON encodes v without escaping <, > and & (the CLI prints JSON
// for people and scripts, never into HTML), indented when indent is set,
// without a trailing newline.
func marshalJSON(v any, indent bool) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if indent {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// printResult writes a call's result: in text mode a string (or base64
// bytes) prints raw, anything else as indented JSON; in json mode it is
// always JSON.
func printResult(w io.Writer, v any, mode string) error {
	if mode == "text" {
		switch t := v.(type) {
		case string:
			// Not fmt.Fprintln: it would copy a large string into its
			// buffer before writing it.
			if _, err := io.WriteString(w, t); err != nil {
				return err
			}
			_, err := io.WriteString(w, "\n")
			return err
		case []byte, time.Time:
			s := jsonValue(t).(string)
			_, err := fmt.Fprintln(w, s)
			return err
		}
	}
	b, err := marshalJSON(jsonValue(v), true)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// writeOut writes a result to --out FILE: base64 bytes raw, a string as
// is, anything else as JSON.
func writeOut(path string, v any) error {
	var data []byte
	switch t := v.(type) {
	case []byte:
		data = t
	case string:
		data = []byte(t)
	default:
		b, err := marshalJSON(jsonValue(v), true)
		if err != nil {
			return err
		}
		data = append(b, '\n')
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("write result: %w", err)
	}
	return nil
}
