// Package hotkey registers a system-wide keyboard shortcut (default
// Ctrl+Shift+R) and reports each press. X11 uses XGrabKey on the root
// window, Windows RegisterHotKey; macOS is not supported yet (Register
// returns ErrUnsupported there, and the tray and window still work).
package hotkey

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Default is the shortcut Framecast registers unless the user picks another.
const Default = "Ctrl+Shift+R"

// Modifier is a set of modifier keys.
type Modifier uint8

const (
	Ctrl Modifier = 1 << iota
	Shift
	Alt
	Super
)

// Hotkey is a parsed shortcut: at least one modifier and one key.
type Hotkey struct {
	Mods Modifier
	Key  string // canonical key name: "A".."Z", "0".."9", "F1".."F12", "Space"
}

func (h Hotkey) String() string {
	var parts []string
	for _, m := range []struct {
		bit  Modifier
		name string
	}{{Ctrl, "Ctrl"}, {Shift, "Shift"}, {Alt, "Alt"}, {Super, "Super"}} {
		if h.Mods&m.bit != 0 {
			parts = append(parts, m.name)
		}
	}
	return strings.Join(append(parts, h.Key), "+")
}

var (
	// ErrUnsupported means this platform or session has no global hotkeys
	// (macOS for now; Wayland without X11).
	ErrUnsupported = errors.New("global hotkeys are not supported here")
	// ErrTaken means another program already holds the shortcut.
	ErrTaken = errors.New("the shortcut is already used by another program")
)

// Parse reads a shortcut such as "Ctrl+Shift+R" or "alt+f9".
func Parse(s string) (Hotkey, error) {
	var h Hotkey
	if strings.TrimSpace(s) == "" {
		return Hotkey{}, errors.New("the shortcut is empty (no key): type one such as Ctrl+Shift+R")
	}
	parts := strings.Split(strings.TrimSpace(s), "+")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		last := i == len(parts)-1
		switch strings.ToLower(p) {
		case "ctrl", "control":
			h.Mods |= Ctrl
		case "shift":
			h.Mods |= Shift
		case "alt", "option":
			h.Mods |= Alt
		case "super", "win", "cmd", "meta":
			h.Mods |= Super
		default:
			if !last {
				return Hotkey{}, fmt.Errorf("shortcut %q: %q is not a modifier (use Ctrl, Shift, Alt or Super)", s, p)
			}
			key, ok := canonicalKey(p)
			if !ok {
				return Hotkey{}, fmt.Errorf("shortcut %q: the key %q is not supported (use a letter, a digit, F1-F12 or Space)", s, p)
			}
			h.Key = key
		}
	}
	if h.Key == "" {
		return Hotkey{}, fmt.Errorf("shortcut %q has no key: end it with a letter, digit, F1-F12 or Space", s)
	}
	if h.Mods == 0 {
		return Hotkey{}, fmt.Errorf("shortcut %q needs at least one of Ctrl, Alt or Super so it does not swallow normal typing", s)
	}
	if h.Mods&(Ctrl|Alt) == Ctrl|Alt && h.Key[0] == 'F' && len(h.Key) > 1 {
		return Hotkey{}, fmt.Errorf("shortcut %q: Ctrl+Alt+F1-F12 switch virtual terminals on Linux and never reach apps; pick another", s)
	}
	if h.Mods == Shift {
		return Hotkey{}, fmt.Errorf("shortcut %q: Shift alone would swallow capital letters; add Ctrl, Alt or Super", s)
	}
	return h, nil
}

func canonicalKey(p string) (string, bool) {
	u := strings.ToUpper(p)
	switch {
	case len(u) == 1 && (u[0] >= 'A' && u[0] <= 'Z' || u[0] >= '0' && u[0] <= '9'):
		return u, true
	case u == "SPACE":
		return "Space", true
	case len(u) >= 2 && u[0] == 'F':
		var n int
		if _, err := fmt.Sscanf(u[1:], "%d", &n); err == nil && n >= 1 && n <= 12 && fmt.Sprint(n) == u[1:] {
			return u, true
		}
	}
	return "", false
}

// Event is one press of the registered shortcut.
type Event struct {
	At time.Time
}

// Listener delivers presses of one registered shortcut until Close.
type Listener struct {
	C     <-chan Event
	close func() error
}

// Close releases the shortcut; C is closed afterwards.
func (l *Listener) Close() error { return l.close() }

// debounce drops presses that follow the previous one too closely: key
// auto-repeat would otherwise start and at once stop a recording.
const debounce = 400 * time.Millisecond
