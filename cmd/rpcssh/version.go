package main

import (
	"context"
	"fmt"
	"runtime"
)

type versionCmd struct{}

func (versionCmd) Run(_ context.Context, e *env) error {
	_, err := fmt.Fprintf(e.stdout, "rpcssh %s %s/%s %s\n", version(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	return err
}
