// Package autostart makes Framecast open when the user logs in, the way
// each system expects: an XDG autostart .desktop file on Linux (and other
// freedesktop systems), the HKCU Run key on Windows, a LaunchAgent on
// macOS. Only the Linux way is exercised by tests here; the Windows and
// macOS ones are compiled for their systems but were not run.
package autostart

import (
	"fmt"
	"os"
	"path/filepath"
)

// Name identifies Framecast's entry (file name, registry value, label).
const Name = "framecast"

// Set turns starting at login on (for the executable exe) or off. Turning
// it off when it is off is not an error.
func Set(on bool, exe string) error {
	if on {
		if exe == "" {
			return fmt.Errorf("start at login: no program path")
		}
		abs, err := filepath.Abs(exe)
		if err != nil {
			return fmt.Errorf("start at login: %w", err)
		}
		return enable(abs)
	}
	return disable()
}

// Enabled says whether Framecast starts at login.
func Enabled() (bool, error) { return enabled() }

// Executable is the running program's path, with symbolic links resolved
// so an entry survives the link being replaced by an update.
func Executable() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find Framecast's program file: %w", err)
	}
	if r, err := filepath.EvalSymlinks(exe); err == nil {
		exe = r
	}
	return exe, nil
}
