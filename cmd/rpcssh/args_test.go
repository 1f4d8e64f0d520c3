package main

import (
	"errors"
	"io/fs"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rpcssh/rpcssh/rpc"
)

func fakeFiles(files map[string]string) readFileFunc {
	return func(name string) ([]byte, error) {
		s, ok := files[name]
		if !ok {
			return nil, fs.ErrNotExist
		}
		return []byte(s), nil
	}
}

func TestParseArg(t *testing.T) {
	read := fakeFiles(map[string]string{"notes.txt": "line 1\nline 2\n", "bin": "\x00\xff"})
	date := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	tests := []struct {
		arg  string
		want any
	}{
		{"hi", "hi"},
		{"", ""},
		{"hello world", "hello world"},
		{"http://x:1/y", "http://x:1/y"},
		{"42", int64(42)},
		{"-7", int64(-7)},
		{"9876543210", int64(9876543210)},
		{"3.5", 3.5},
		{"1e3", 1000.0},
		{"007", "007"},
		{"1.2.3", "1.2.3"},
		{"-v", "-v"},
		{"true", true},
		{"false", false},
		{"null", nil},
		{`"42"`, "42"},
		{`[1,"a",null]`, []any{int64(1), "a", nil}},
		{`{"x":1,"y":[2.5]}`, map[string]any{"x": int64(1), "y": []any{2.5}}},
		{"int:7", int32(7)},
		{"int:-2147483648", int32(-2147483648)},
		{"i8:9876543210", rpc.I8(9876543210)},
		{"double:2", 2.0},
		{"bool:true", true},
		{"bool:0", false},
		{"string:42", "42"},
		{"string:", ""},
		{"date:2026-01-02T15:04:05Z", date},
		{"base64:aGk=", []byte("hi")},
		{"@notes.txt", "line 1\nline 2\n"},
		{"base64:@bin", []byte{0, 0xff}},
	}
	for _, tt := range tests {
		got, err := parseArg(tt.arg, read)
		if err != nil {
			t.Errorf("parseArg(%q) error = %v, want %#v", tt.arg, err, tt.want)
			continue
		}
		if tm, ok := tt.want.(time.Time); ok {
			if g, ok := got.(time.Time); !ok || !g.Equal(tm) {
				t.Errorf("parseArg(%q) = %#v, want %v", tt.arg, got, tm)
			}
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseArg(%q) = %#v (%T), want %#v (%T)", tt.arg, got, got, tt.want, tt.want)
		}
	}
}

func TestParseArgErrors(t *testing.T) {
	read := fakeFiles(map[string]string{"bin": "\xff\xfe"})
	tests := []struct{ arg, want string }{
		{"int:x", "not an integer"},
		{"int:2147483648", "use i8:"},
		{"i8:99999999999999999999", "not a 64-bit integer"},
		{"double:inf", "not a finite number"},
		{"double:abc", "not a finite number"},
		{"bool:yes", "not a boolean"},
		{"date:2026-01-02", "RFC 3339"},
		{"base64:!!", "not valid base64"},
		{"@missing", "read file"},
		{"base64:@missing", "read file"},
		{"@bin", "use base64:@file"},
		{"[1,2", "invalid JSON"},
		{`{"a":}`, "invalid JSON"},
		{`"open`, "invalid JSON"},
		{"[1] 2", "invalid JSON"},
		{"123456789012345678901234567890", "at most 64 bits"}, // never silently a string
		{"9223372036854775808", "at most 64 bits"},
		{"-9223372036854775809", "at most 64 bits"},
		{"[1,99999999999999999999]", "at most 64 bits"},
		{"1e999", "out of the range of a double"},
		{"1.2.3", ""}, // not a number at all: a plain word
	}
	for _, tt := range tests {
		got, err := parseArg(tt.arg, read)
		if tt.want == "" {
			if err != nil || got != tt.arg {
				t.Errorf("parseArg(%q) = %#v, %v; want the string itself", tt.arg, got, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("parseArg(%q) error = %v, want one containing %q", tt.arg, err, tt.want)
		}
	}
}

func TestParseArgsNamesTheArgument(t *testing.T) {
	_, err := parseArgs([]string{"ok", "int:x"}, fakeFiles(nil))
	var ae *argError
	if !errors.As(err, &ae) || ae.ExitCode() != exitUsage {
		t.Fatalf("parseArgs error = %#v, want *argError with exit %d", err, exitUsage)
	}
	if want := `argument 2 "int:x": not an integer`; err.Error() != want {
		t.Errorf("parseArgs error = %q, want %q", err, want)
	}
}

func TestParseArgsJSON(t *testing.T) {
	got, err := parseArgsJSON([]byte(`[1, "a", {"k": [true, null, 2.5]}]`))
	want := []any{int64(1), "a", map[string]any{"k": []any{true, nil, 2.5}}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("parseArgsJSON = %#v, %v; want %#v", got, err, want)
	}
	for _, bad := range []string{`{"a":1}`, `"x"`, `[1,`, ``, `[1] [2]`} {
		if _, err := parseArgsJSON([]byte(bad)); err == nil {
			t.Errorf("parseArgsJSON(%q) = nil error, want one", bad)
		}
	}
}

// FuzzParseArg checks that no argument crashes the parser, that errors
// stay on one line, and that a plain word is sent as typed.
func FuzzParseArg(f *testing.F) {
	for _, s := range []string{"hi", "42", "-1", "3.5e9", "null", `"x"`, `[1,{"a":[null]}]`,
		"int:7", "i8:1", "double:1", "bool:1", "string:x", "date:2026-01-02T15:04:05+01:00",
		"base64:aGk=", "@f", "base64:@f", "[", "{", "9999999999999999999999"} {
		f.Add(s)
	}
	read := fakeFiles(map[string]string{"f": "contents"})
	f.Fuzz(func(t *testing.T, arg string) {
		v, err := parseArg(arg, read)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("parseArg(%q) error has a newline: %q", arg, err)
			}
			return
		}
		if s, ok := v.(string); ok && !strings.HasPrefix(arg, "string:") && !strings.HasPrefix(arg, "@") && !strings.HasPrefix(arg, `"`) && s != arg {
			t.Errorf("parseArg(%q) = %q: a plain word must stay as typed", arg, s)
		}
	})
}
