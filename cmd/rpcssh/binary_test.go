package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
)

// builds holds the rpcssh binaries this test run built, one per -ldflags,
// so that the tests and scripts that need a real binary (without -race,
// or stamped as a release) link each one once, not once per test.
var builds struct {
	mu  sync.Mutex
	dir string // removed by removeBuilds
	bin map[string]*buildResult
}

type buildResult struct {
	once sync.Once
	path string
	err  error
}

// errNoGo says there is no go command to build rpcssh with.
var errNoGo = errors.New("no go command to build rpcssh with")

// rpcsshBinary returns the path of rpcssh built from this module as the
// README builds it (CGO_ENABLED=0, no -race), with ldflags added (""
// for none). Callers must not change the file: copy it instead.
func rpcsshBinary(ldflags string) (string, error) {
	builds.mu.Lock()
	if builds.dir == "" {
		dir, err := os.MkdirTemp("", "rpcssh-build-")
		if err != nil {
			builds.mu.Unlock()
			return "", err
		}
		builds.dir, builds.bin = dir, map[string]*buildResult{}
	}
	r := builds.bin[ldflags]
	if r == nil {
		r = &buildResult{path: filepath.Join(builds.dir, strconv.Itoa(len(builds.bin)), "rpcssh")}
		builds.bin[ldflags] = r
	}
	builds.mu.Unlock()
	r.once.Do(func() { r.err = goBuild(r.path, ldflags) })
	return r.path, r.err
}

func goBuild(out, ldflags string) error {
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		if goTool, err = exec.LookPath("go"); err != nil {
			return errNoGo
		}
	}
	args := []string{"build", "-o", out}
	if ldflags != "" {
		args = append(args, "-ldflags="+ldflags)
	}
	cmd := exec.Command(goTool, append(args, ".")...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return &buildError{err: err, out: string(b)}
	}
	return nil
}

// removeBuilds removes what rpcsshBinary built; TestMain calls it last.
func removeBuilds() {
	builds.mu.Lock()
	defer builds.mu.Unlock()
	if builds.dir != "" {
		os.RemoveAll(builds.dir)
	}
}

// testBinary is rpcsshBinary("") for a test: it skips the test when there
// is no go command and fails it when the build fails.
func testBinary(t testing.TB) string {
	t.Helper()
	bin, err := rpcsshBinary("")
	if errors.Is(err, errNoGo) {
		t.Skip("skipping: " + err.Error())
	}
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return "go build: " + e.err.Error() + "\n" + e.out }
