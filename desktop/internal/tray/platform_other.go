//go:build !linux && !windows

package tray

import "errors"

// Tray does nothing here.
//
// On macOS the status item must be created on the main thread, which Wails
// owns; starting systray from Wails' OnStartup crashed in our test. Until
// that is done and verified on a Mac, the tray is off there and the window
// and hotkey start and stop recordings.
type Tray struct{}

// Start reports that there is no tray on this platform.
func Start(Actions) (*Tray, error) {
	return nil, errors.New("the tray icon is not available on this platform yet")
}

func (*Tray) SetState(State) {}
func (*Tray) Stop()          {}
