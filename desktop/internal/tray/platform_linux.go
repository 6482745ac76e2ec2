package tray

import (
	"errors"
	"fmt"
	"os"
)

var (
	iconIdle      = pngIdle
	iconRecording = pngRecording
	iconPaused    = pngPaused
)

// supported checks for a session bus: the StatusNotifierItem lives on it,
// and without one systray only logs errors.
func supported() error {
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		if _, err := os.Stat(fmt.Sprintf("/run/user/%d/bus", os.Getuid())); err != nil {
			return fmt.Errorf("start tray: %w", errors.New("no DBus session bus, so there is no tray to show an icon in"))
		}
	}
	return nil
}
