// Command framecast is the Framecast desktop app. Run without arguments it
// opens the window (when built with the desktop tag); with a command it is a
// CLI over the same engine (framecast --help).
package main

import (
	"context"
	"embed"
	"os"
	"os/signal"
	"syscall"

	"framecast.dev/desktop/internal/cli"
)

// The web UI, built by Vite from ../frontend into dist/.
//
//go:embed all:dist
var assets embed.FS

func main() {
	if len(os.Args) > 1 {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(runGUI(assets))
}
