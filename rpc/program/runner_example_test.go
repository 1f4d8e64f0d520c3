package program_test

import (
	"context"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/rpcssh/rpcssh/rpc/program"
)

// A program that embeds a Host starts job runners by re-executing
// itself: its main hands the runner's arguments to RunRunner before
// anything else.
func ExampleRunRunner() {
	if len(os.Args) == 3 && os.Args[1] == program.RunnerArg {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := program.RunRunner(ctx, os.Args[2])
		stop()
		if err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}

	f, err := program.Load("methods.toml")
	if err != nil {
		log.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		log.Fatal(err)
	}
	h, err := program.New(f, program.Config{
		StateDir:      "/var/lib/myserver",
		RunnerCommand: []string{exe, program.RunnerArg}, // the job's directory is appended
	})
	if err != nil {
		log.Fatal(err)
	}
	defer h.Close() // jobs go on; the next Host adopts them
	// ... h.Register(srv) and serve.
}
