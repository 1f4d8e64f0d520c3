package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/rpcssh/rpcssh/rpc/program"
)

// jobRunnerCmd is the hidden entry point of a job's runner: serve starts
// "rpcssh __job-runner DIR" for every async job (see program.RunRunner).
type jobRunnerCmd struct {
	Dir string `arg:"" help:"The job's directory."`
}

func (c *jobRunnerCmd) Run(ctx context.Context) error {
	return program.RunRunner(ctx, c.Dir)
}

// runnerCommand is how serve starts job runners: this same program. When
// it runs under another name than its file's (a link, as testscript
// makes), that name is kept, as it may select the program.
func runnerCommand() ([]string, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	if arg0 := os.Args[0]; filepath.Base(arg0) != filepath.Base(exe) {
		if p, err := lookArg0(arg0); err == nil {
			exe = p
		}
	}
	return []string{exe, program.RunnerArg}, nil
}

// lookArg0 makes the name a program was started with an absolute path.
func lookArg0(arg0 string) (string, error) {
	if strings.ContainsRune(arg0, filepath.Separator) || strings.ContainsRune(arg0, '/') {
		return filepath.Abs(arg0)
	}
	p, err := exec.LookPath(arg0)
	if err != nil {
		return "", err
	}
	return filepath.Abs(p)
}
