//go:build !linux && !windows

package hotkey

import "fmt"

// Register is not implemented on this platform yet (macOS would need
// Carbon's RegisterEventHotKey through cgo); the tray and window still
// start and stop recordings.
func Register(h Hotkey) (*Listener, error) {
	return nil, fmt.Errorf("register %s: %w", h, ErrUnsupported)
}
