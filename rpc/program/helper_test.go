package program_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/rpcssh/rpcssh/internal/racetest"
	"github.com/rpcssh/rpcssh/rpc"
	"github.com/rpcssh/rpcssh/rpc/program"
)

// testServer is a Host behind a real XML-RPC server and client.
type testServer struct {
	host   *program.Host
	client *rpc.Client
	dir    string // holds methods.toml
	state  string
}

func needTools(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"sh", "python3"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found", tool)
		}
	}
}

// writeMethods writes a methods file (mode 0600) in a fresh directory.
func writeMethods(t *testing.T, toml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "methods.toml")
	if err := os.WriteFile(path, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// startHost loads toml and serves it; state "" gets a fresh state directory.
func startHost(t *testing.T, toml, state string) *testServer {
	t.Helper()
	needTools(t)
	return startHostFile(t, mustLoad(t, writeMethods(t, toml)), state)
}

// mustLoad loads the methods file at path.
func mustLoad(t *testing.T, path string) *program.File {
	t.Helper()
	f, err := program.Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return f
}

func startHostFile(t *testing.T, f *program.File, state string) *testServer {
	t.Helper()
	cfg := hostConfig(t, state)
	if state == "" {
		// The test owns the state: its jobs must end before TempDir's
		// cleanup removes it (runners outlive a Host by default).
		state = t.TempDir()
		cfg.StateDir, cfg.CancelJobsOnClose = state, true
	}
	h, err := program.New(f, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := rpc.NewServer(rpc.ServerConfig{})
	if err := h.Register(srv); err != nil {
		t.Fatalf("Register: %v", err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { hs.Close(); h.Close() })
	c, err := rpc.NewClient(rpc.ClientConfig{URL: hs.URL + "/RPC2"})
	if err != nil {
		t.Fatal(err)
	}
	return &testServer{host: h, client: c, dir: filepath.Dir(f.Path), state: state}
}

func (s *testServer) call(t *testing.T, method string, args ...any) (any, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out any
	err := s.client.Call(ctx, method, args, &out)
	return out, err
}

func (s *testServer) mustCall(t *testing.T, method string, args ...any) any {
	t.Helper()
	out, err := s.call(t, method, args...)
	if err != nil {
		t.Fatalf("%s%v: %v", method, args, err)
	}
	return out
}

// result is a sync call's struct.
func result(t *testing.T, v any) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("result is %T, want struct", v)
	}
	return m
}

func faultCode(err error) int {
	var f *rpc.Fault
	if errors.As(err, &f) {
		return f.Code
	}
	return 0
}

// hostConfig is a Host's config with state and this test binary as
// the job runner.
func hostConfig(t testing.TB, state string) program.Config {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return program.Config{StateDir: state, RunnerCommand: []string{exe, program.RunnerArg}}
}

// TestMain lets the test binary be a serve that dies
// (PROGRAM_TEST_HELPER=serve) and a job runner (RunnerArg DIR).
func TestMain(m *testing.M) {
	if err := racetest.NoExitSleep(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if os.Getenv("PROGRAM_TEST_HELPER") == "serve" {
		os.Exit(helperServe())
	}
	if len(os.Args) == 3 && os.Args[1] == program.RunnerArg {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := program.RunRunner(ctx, os.Args[2])
		stop()
		if err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// argvPrinter starts an argv that prints the program's arguments, each
// followed by a NUL (exact for any bytes; sh starts fast, python3 takes
// seconds on a loaded machine).
func argvPrinter() string {
	return `argv = ["sh", "-c", 'for a; do printf "%s\0" "$a"; done', "sh", `
}

// pyArgvPrinter does the same in python3.
const pyArgvPrinter = `"python3", "-c", "import json,sys; print(json.dumps(sys.argv[1:]))"`
