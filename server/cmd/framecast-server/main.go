// Command framecast-server is the Framecast server: the sync API the
// desktop app uploads to and the share pages viewers open. Run with -h for
// its settings; every flag has a FRAMECAST_* environment variable.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"framecast.dev/server/internal/config"
	"framecast.dev/server/internal/daemon"
)

func main() {
	cfg, err := config.Load(os.Args[1:], os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "framecast-server: configuration:", err)
		os.Exit(2)
	}
	if cfg.PrintConfig {
		cfg.Print(os.Stdout)
		return
	}
	log := daemon.NewLogger(cfg, os.Stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := daemon.Run(ctx, cfg, log); err != nil {
		log.Error("framecast-server stopped with an error", "err", err)
		os.Exit(1)
	}
}
