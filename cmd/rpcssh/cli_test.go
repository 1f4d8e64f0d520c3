package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/alecthomas/kong"

	"github.com/rpcssh/rpcssh/rpc"
	"github.com/rpcssh/rpcssh/rpc/program"
)

func testEnv(vars map[string]string) (*env, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return &env{
		stdin:  strings.NewReader(""),
		stdout: &out,
		stderr: &errb,
		getenv: func(k string) string { return vars[k] },
	}, &out, &errb
}

// TestExitCodes checks the documented exit codes: 0 success, 1 error,
// 2 a fault from the server, 80 usage.
func TestExitCodes(t *testing.T) {
	t.Parallel()
	srv := rpc.NewServer(rpc.ServerConfig{Username: "user", Password: "pw"})
	if err := registerBuiltins(srv); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	url := hs.URL + "/RPC2"
	vars := map[string]string{"RPCSSH_PASSWORD": "pw"}
	tests := []struct {
		name string
		args []string
		vars map[string]string
		want int
	}{
		{"success", []string{"call", "--url", url, "echo", "hi"}, vars, exitOK},
		{"fault", []string{"call", "--url", url, "nope"}, vars, exitFault},
		{"wrong type is a fault", []string{"call", "--url", url, "echo", "1"}, vars, exitFault},
		{"unauthorized", []string{"call", "--url", url, "echo", "hi"}, nil, exitError},
		{"nothing listening", []string{"call", "--url", "http://127.0.0.1:1/RPC2", "echo", "hi"}, vars, exitError},
		{"no command prints the help", nil, nil, exitOK},
		{"version flag", []string{"--version"}, nil, exitOK},
		{"unknown flag", []string{"call", "--nope", "echo"}, nil, exitUsage},
		{"bad argument", []string{"call", "--url", url, "echo", "int:x"}, vars, exitUsage},
		{"bad method name", []string{"call", "--url", url, "a b"}, vars, exitUsage},
		{"host and url", []string{"call", "--url", url, "--host", "h", "echo"}, vars, exitUsage},
		{"public without flag", []string{"serve", "--host", "0.0.0.0"}, vars, exitUsage},
		{"serve without password", []string{"serve", "--port", "0"}, nil, exitError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, out, errb := testEnv(tt.vars)
			got := run(context.Background(), tt.args, e)
			if got != tt.want {
				t.Errorf("run(%q) = %d, want %d\nstdout: %s\nstderr: %s", tt.args, got, tt.want, out, errb)
			}
			if got != exitOK {
				if !strings.HasPrefix(errb.String(), "rpcssh: error: ") {
					t.Errorf("run(%q) stderr = %q, want it to start with rpcssh: error:", tt.args, errb)
				}
				if out.Len() != 0 {
					t.Errorf("run(%q) stdout = %q, want nothing on failure", tt.args, out)
				}
			}
		})
	}
}

func TestParseDestination(t *testing.T) {
	tests := []struct {
		in               string
		user, host, port string
		wantErr          bool
	}{
		{in: "ec2-1-2-3-4.compute.amazonaws.com", host: "ec2-1-2-3-4.compute.amazonaws.com"},
		{in: "ubuntu@10.0.0.5", user: "ubuntu", host: "10.0.0.5"},
		{in: "lab:2222", host: "lab", port: "2222"},
		{in: "me@lab:2222", user: "me", host: "lab", port: "2222"},
		{in: "[::1]:2200", host: "::1", port: "2200"},
		{in: "[fe80::1]", host: "fe80::1"},
		{in: "::1", host: "::1"},
		{in: "root@::1", user: "root", host: "::1"},
		{in: "a@b@host", user: "a@b", host: "host"},
		{in: "ssh://me@lab:2201", user: "me", host: "lab", port: "2201"},
		{in: "", wantErr: true},
		{in: "@host", wantErr: true},
		{in: "host:0", wantErr: true},
		{in: "host:99999", wantErr: true},
		{in: "host:ssh", wantErr: true},
		{in: "[::1", wantErr: true},
		{in: "me@", wantErr: true},
	}
	for _, tt := range tests {
		d, err := parseDestination(tt.in)
		if tt.wantErr {
			if err == nil {
				t.Errorf("parseDestination(%q) = %+v, want an error", tt.in, d)
			}
			continue
		}
		if err != nil || d.user != tt.user || d.host != tt.host || d.port != tt.port {
			t.Errorf("parseDestination(%q) = %+v, %v; want user=%q host=%q port=%q", tt.in, d, err, tt.user, tt.host, tt.port)
		}
	}
}

func TestIsLoopback(t *testing.T) {
	tests := map[string]bool{
		"127.0.0.1": true, "127.8.9.10": true, "::1": true, "[::1]": true, "localhost": true,
		"0.0.0.0": false, "": false, "::": false, "10.0.0.1": false, "example.com": false,
	}
	for in, want := range tests {
		if got := isLoopback(in); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", in, got, want)
		}
	}
}

// panicWriter panics on the first write, standing for any bug below run.
type panicWriter struct{}

func (panicWriter) Write([]byte) (int, error) { panic("boom in a writer") }

// TestPanicIsOneErrorLine: a panic inside a command becomes one
// "rpcssh: error: internal error: ..." line (plus a hint) and exit 1,
// never a stack trace.
func TestPanicIsOneErrorLine(t *testing.T) {
	srv := rpc.NewServer(rpc.ServerConfig{Username: "user", Password: "pw"})
	if err := registerBuiltins(srv); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	e, _, errb := testEnv(map[string]string{"RPCSSH_PASSWORD": "pw"})
	e.stdout = panicWriter{}
	got := run(context.Background(), []string{"call", "--url", hs.URL + "/RPC2", "echo", "hi"}, e)
	if got != exitError {
		t.Errorf("run = %d, want %d", got, exitError)
	}
	lines := strings.Split(strings.TrimSpace(errb.String()), "\n")
	if len(lines) == 0 || lines[0] != "rpcssh: error: internal error: boom in a writer" {
		t.Errorf("stderr = %q, want it to start with the internal error line", errb.String())
	}
	for _, l := range lines[1:] {
		if !strings.HasPrefix(l, "rpcssh: hint: ") {
			t.Errorf("stderr line %q: want only hints after the error", l)
		}
	}
}

// TestHelpAndVersion: rpcssh alone prints the help on stdout, --version
// the version, both exit 0; --help shows the defaults hidden by
// placeholders.
func TestHelpAndVersion(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{nil, []string{"Usage: rpcssh <command>", "call"}},
		{[]string{"--version"}, []string{"rpcssh "}},
		{[]string{"bench", "--help"}, []string{"(default: 1000)", "(default: 10)"}},
		{[]string{"--help"}, []string{"130 interrupted", "the program's own exit code"}},
		{[]string{"call", "--help"}, []string{"130", "its exit code, as 'ssh host cmd'", "--max-response-mib=MIB", "(default: 128)"}},
		{[]string{"tunnel", "--help"}, []string{"(default: 127.0.0.1:8000)"}},
	}
	for _, tt := range tests {
		e, out, errb := testEnv(nil)
		got := run(context.Background(), tt.args, e)
		if got != exitOK {
			t.Errorf("run(%q) = %d, want 0; stderr %s", tt.args, got, errb)
		}
		flat := strings.Join(strings.Fields(out.String()), " ") // kong rewraps text
		for _, w := range tt.want {
			if !strings.Contains(flat, w) {
				t.Errorf("run(%q) stdout lacks %q:\n%s", tt.args, w, out)
			}
		}
	}
}

// TestJSONOutput: JSON is printed without HTML escaping, and a double
// keeps a fraction in text and json mode so it never reads as an int.
func TestJSONOutput(t *testing.T) {
	srv := rpc.NewServer(rpc.ServerConfig{Username: "user", Password: "pw"})
	if err := registerBuiltins(srv); err != nil {
		t.Fatal(err)
	}
	if err := srv.RegisterMethod(rpc.Method{Name: "args", Raw: func(_ context.Context, params []any) (any, error) { return params, nil }}); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	url := hs.URL + "/RPC2"
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"call", "--url", url, "--output", "json", "echo", "a<b>&c"}, "\"A<B>&C\"\n"},
		{[]string{"call", "--url", url, "args", "double:2", "2", "1.5"}, "[\n  2.0,\n  2,\n  1.5\n]\n"},
		{[]string{"call", "--url", url, "--output", "json", "args", "double:2", "[\"<&>\"]"}, "[\n  2.0,\n  [\n    \"<&>\"\n  ]\n]\n"},
	}
	for _, tt := range tests {
		e, out, errb := testEnv(map[string]string{"RPCSSH_PASSWORD": "pw"})
		if got := run(context.Background(), tt.args, e); got != exitOK || out.String() != tt.want {
			t.Errorf("run(%q) = %d, stdout %q; want 0, %q\nstderr: %s", tt.args, got, out, tt.want, errb)
		}
	}
	line, err := formatHostLine(hostResult{host: "h", value: []any{"<&>", 2.0}}, "json")
	if want := `{"host":"h","ok":true,"result":["<&>",2.0],"duration_ms":0}` + "\n"; err != nil || line != want {
		t.Errorf("formatHostLine = %q, %v; want %q", line, err, want)
	}
	line, err = formatHostLine(hostResult{host: "h", value: 3.0}, "text")
	if want := "h: 3.0\n"; err != nil || line != want {
		t.Errorf("formatHostLine = %q, %v; want %q", line, err, want)
	}
}

// TestCommandsForBuildsOnlyTheNamedCommand: a command line that starts
// with a command builds that command alone, under the name kong gives
// it; any other builds them all, as --help lists them.
func TestCommandsForBuildsOnlyTheNamedCommand(t *testing.T) {
	names := func(t *testing.T, plugins kong.Plugins) []string {
		t.Helper()
		cli := CLI{Plugins: plugins}
		k, err := kong.New(&cli, kong.Name("rpcssh"))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range k.Model.Children {
			got = append(got, c.Name)
		}
		return got
	}
	all := names(t, commandsFor(nil))
	want := []string{"serve", "call", "tunnel", "bench", "jobs", "demo", "install", "status", "version", program.RunnerArg, "control"}
	if !slices.Equal(all, want) {
		t.Fatalf("commands with no arguments = %q, want %q", all, want)
	}
	for _, name := range all {
		if got := names(t, commandsFor([]string{name, "--help"})); !slices.Equal(got, []string{name}) {
			t.Errorf("commands for %q = %q, want only %q", name, got, name)
		}
	}
	for _, args := range [][]string{{"--help"}, {"--version"}, {"frobnicate"}, {"Call"}} {
		if got := names(t, commandsFor(args)); !slices.Equal(got, all) {
			t.Errorf("commands for %q = %q, want all of them", args, got)
		}
	}
}
