//go:build linux

package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func contextWithSignals() (context.Context, func()) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}
