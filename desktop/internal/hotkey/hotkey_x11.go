//go:build linux

package hotkey

import (
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"sync"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

// X11 modifier bits. Lock (Caps Lock) and Mod2 (Num Lock on every common
// layout) must not stop the shortcut from working, so each grab is made
// with and without them.
const (
	x11Shift = xproto.ModMaskShift
	x11Lock  = xproto.ModMaskLock
	x11Ctrl  = xproto.ModMaskControl
	x11Alt   = xproto.ModMask1
	x11Num   = xproto.ModMask2
	x11Super = xproto.ModMask4
)

var ignored = []uint16{0, x11Lock, x11Num, x11Lock | x11Num}

// xgb logs to stderr by default (missing ~/.Xauthority, closed connections);
// our errors already say what went wrong.
func init() { xgb.Logger = log.New(io.Discard, "", 0) }

// Register grabs the shortcut on the X server named by $DISPLAY.
func Register(h Hotkey) (*Listener, error) {
	if os.Getenv("DISPLAY") == "" {
		return nil, fmt.Errorf("register %s: no X11 display ($DISPLAY is empty): %w", h, ErrUnsupported)
	}
	conn, err := xgb.NewConn()
	if err != nil {
		return nil, fmt.Errorf("register %s: connect to X: %w", h, err)
	}
	root := xproto.Setup(conn).DefaultScreen(conn).Root
	code, err := keycode(conn, h.Key)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("register %s: %w", h, err)
	}
	mods := x11Mods(h.Mods)
	for i, extra := range ignored {
		err := xproto.GrabKeyChecked(conn, true, root, mods|extra, code, xproto.GrabModeAsync, xproto.GrabModeAsync).Check()
		if err != nil {
			for _, undo := range ignored[:i] {
				xproto.UngrabKey(conn, code, root, mods|undo)
			}
			conn.Close()
			var access xproto.AccessError
			if errors.As(err, &access) {
				return nil, fmt.Errorf("register %s: %w", h, ErrTaken)
			}
			return nil, fmt.Errorf("register %s: grab key: %w", h, err)
		}
	}

	events := make(chan Event, 4)
	var once sync.Once
	done := make(chan struct{})
	go func() {
		defer close(events)
		var last time.Time
		for {
			ev, err := conn.WaitForEvent()
			if ev == nil && err == nil { // connection closed
				return
			}
			press, ok := ev.(xproto.KeyPressEvent)
			if !ok || press.Detail != code || press.State&^(x11Lock|x11Num) != mods {
				continue
			}
			now := time.Now()
			if now.Sub(last) < debounce {
				continue
			}
			last = now
			select {
			case events <- Event{At: now}:
			case <-done:
				return
			default: // nobody is listening fast enough; a press is not worth blocking X for
			}
		}
	}()
	return &Listener{C: events, close: func() error {
		once.Do(func() {
			close(done)
			for _, extra := range ignored {
				xproto.UngrabKey(conn, code, root, mods|extra)
			}
			conn.Sync()
			conn.Close()
		})
		return nil
	}}, nil
}

func x11Mods(m Modifier) uint16 {
	var out uint16
	if m&Ctrl != 0 {
		out |= x11Ctrl
	}
	if m&Shift != 0 {
		out |= x11Shift
	}
	if m&Alt != 0 {
		out |= x11Alt
	}
	if m&Super != 0 {
		out |= x11Super
	}
	return out
}

// keysym returns the X keysym of a canonical key name.
func keysym(key string) xproto.Keysym {
	switch {
	case key == "Space":
		return 0x20
	case len(key) == 1 && key[0] >= 'A' && key[0] <= 'Z':
		return xproto.Keysym(key[0] - 'A' + 'a') // layouts map the lowercase keysym first
	case len(key) == 1:
		return xproto.Keysym(key[0])
	default: // F1..F12
		var n int
		fmt.Sscanf(key[1:], "%d", &n)
		return xproto.Keysym(0xffbe + n - 1)
	}
}

// keycode finds the physical key that produces the key's keysym in the
// current keyboard layout.
func keycode(conn *xgb.Conn, key string) (xproto.Keycode, error) {
	setup := xproto.Setup(conn)
	first, last := setup.MinKeycode, setup.MaxKeycode
	m, err := xproto.GetKeyboardMapping(conn, first, byte(last-first+1)).Reply()
	if err != nil {
		return 0, fmt.Errorf("read the keyboard layout: %w", err)
	}
	want := keysym(key)
	per := int(m.KeysymsPerKeycode)
	for i := 0; i*per < len(m.Keysyms); i++ {
		for j := 0; j < per && j < 2; j++ { // unshifted and shifted levels
			if m.Keysyms[i*per+j] == want {
				return first + xproto.Keycode(i), nil
			}
		}
	}
	return 0, fmt.Errorf("no key produces %s in the current keyboard layout", key)
}
