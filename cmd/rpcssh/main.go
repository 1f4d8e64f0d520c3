// Command rpcssh runs procedures on a remote machine over XML-RPC carried
// inside an SSH tunnel: `rpcssh serve` on the instance, `rpcssh call` (or
// `rpcssh tunnel`) on the laptop. See the README for a walk-through.
package main

import (
	"context"
	"os"
)

func main() {
	ctx, stop := interruptible(context.Background())
	code := run(ctx, os.Args[1:], newEnv())
	stop()
	os.Exit(code)
}
