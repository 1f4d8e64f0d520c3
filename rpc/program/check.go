package program

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"runtime"
	"strings"
)

// CheckPrograms reports the first method whose program cannot be started:
// argv[0] does not exist, is not a regular file, or is not executable; a
// name without a slash is looked up in serve's PATH, as at call time. serve
// calls it at start, so a typo is found then, not at the first call. The
// error is a *ConfigError naming the argv line.
func (f *File) CheckPrograms() error {
	for i := range f.Methods {
		m := &f.Methods[i]
		if err := checkProgram(m.args[0].lit); err != nil {
			return &ConfigError{File: f.Path, Line: m.argvLine, Msg: fmt.Sprintf("method %q: %v", m.Name, err), Err: err}
		}
	}
	return nil
}

func checkProgram(prog string) error {
	if !strings.ContainsAny(prog, `/\`) {
		if _, err := exec.LookPath(prog); err != nil {
			return fmt.Errorf("program %q not found in serve's PATH: give its absolute path", prog)
		}
		return nil
	}
	fi, err := os.Stat(prog)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("program %s does not exist (a relative argv[0] is taken from the methods file's directory)", prog)
	case err != nil:
		return fmt.Errorf("program %s: %w", prog, err)
	case !fi.Mode().IsRegular():
		return fmt.Errorf("program %s is not a regular file", prog)
	case runtime.GOOS != "windows" && fi.Mode().Perm()&0o111 == 0:
		return fmt.Errorf("program %s is not executable (mode %04o): chmod +x %s", prog, fi.Mode().Perm(), prog)
	}
	return nil
}
