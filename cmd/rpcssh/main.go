// Command rpcssh runs procedures on a remote machine over XML-RPC carried
// inside an SSH tunnel: `rpcssh serve` on the instance, `rpcssh call` (or
// `rpcssh tunnel`) on the laptop. See the README for a walk-through.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], newEnv())
	stop()
	os.Exit(code)
}
