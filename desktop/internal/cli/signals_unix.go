//go:build !windows

package cli

import (
	"os"
	"os/signal"
	"syscall"
)

// pauseSignals delivers SIGUSR1, which toggles pause (for scripts and
// hotkey daemons: pkill -USR1 framecast).
func pauseSignals() (<-chan os.Signal, func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR1)
	return ch, func() { signal.Stop(ch) }
}
