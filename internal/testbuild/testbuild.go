// Package testbuild builds the rpcssh command for the tests that need a
// real binary (no -race, or stamped as a release): a serve whose memory is
// its own, an install onto a host, two releases side by side. Each build
// is a link of a few seconds, so a Set makes each distinct one once per
// test process and hands out its path.
package testbuild

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"

	"github.com/rpcssh/rpcssh/tunnel/install"
)

// Command is the package a Set builds.
const Command = "github.com/rpcssh/rpcssh/cmd/rpcssh"

// ErrNoGo says there is no go command to build with: the test should be
// skipped, not failed.
var ErrNoGo = errors.New("testbuild: no go command to build rpcssh with")

// Set is the builds of one test process, one per -ldflags; its zero value
// is ready to use and safe for concurrent use.
type Set struct {
	mu  sync.Mutex
	dir string
	m   map[string]*build
}

type build struct {
	once sync.Once
	path string
	err  error
}

// Binary returns the path of rpcssh built as the README builds it
// (CGO_ENABLED=0 go build) with ldflags ("" for none), building it on the
// first call for those ldflags. The file must not be changed: copy it.
func (s *Set) Binary(ldflags string) (string, error) {
	s.mu.Lock()
	if s.dir == "" {
		dir, err := os.MkdirTemp("", "rpcssh-testbuild-")
		if err != nil {
			s.mu.Unlock()
			return "", err
		}
		s.dir, s.m = dir, map[string]*build{}
	}
	b := s.m[ldflags]
	if b == nil {
		b = &build{path: filepath.Join(s.dir, strconv.Itoa(len(s.m)), "rpcssh")}
		s.m[ldflags] = b
	}
	s.mu.Unlock()
	b.once.Do(func() { b.err = goBuild(b.path, ldflags) })
	return b.path, b.err
}

// Release returns Binary for a release build stating version v.
func (s *Set) Release(v string) (string, error) {
	return s.Binary("-X=" + install.ReleaseVersionSymbol + "=" + v)
}

// Remove deletes every binary the set built; TestMain calls it last.
func (s *Set) Remove() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dir == "" {
		return nil
	}
	return os.RemoveAll(s.dir)
}

func goBuild(out, ldflags string) error {
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		if goTool, err = exec.LookPath("go"); err != nil {
			return ErrNoGo
		}
	}
	args := []string{"build", "-o", out}
	if ldflags != "" {
		args = append(args, "-ldflags="+ldflags)
	}
	cmd := exec.Command(goTool, append(args, Command)...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("testbuild: go build %s: %v\n%s", ldflags, err, msg)
	}
	return nil
}
