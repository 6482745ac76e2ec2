//go:build windows

package hotkey

import (
	"fmt"
	"runtime"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

var (
	user32               = syscall.NewLazyDLL("user32.dll")
	kernel32             = syscall.NewLazyDLL("kernel32.dll")
	procRegisterHotKey   = user32.NewProc("RegisterHotKey")
	procUnregisterHotKey = user32.NewProc("UnregisterHotKey")
	procGetMessageW      = user32.NewProc("GetMessageW")
	procPostThreadMsgW   = user32.NewProc("PostThreadMessageW")
	procGetCurrentThread = kernel32.NewProc("GetCurrentThreadId")
)

const (
	modAlt      = 0x0001
	modControl  = 0x0002
	modShift    = 0x0004
	modWin      = 0x0008
	modNoRepeat = 0x4000
	wmHotkey    = 0x0312
	wmQuit      = 0x0012
	hotkeyID    = 0x4643 // "FC"
)

type msg struct {
	hwnd    uintptr
	message uint32
	wParam  uintptr
	lParam  uintptr
	time    uint32
	pt      struct{ x, y int32 }
}

// Register calls RegisterHotKey on a dedicated OS thread, which then runs
// the message loop that receives WM_HOTKEY.
func Register(h Hotkey) (*Listener, error) {
	var mods uintptr = modNoRepeat
	if h.Mods&Ctrl != 0 {
		mods |= modControl
	}
	if h.Mods&Shift != 0 {
		mods |= modShift
	}
	if h.Mods&Alt != 0 {
		mods |= modAlt
	}
	if h.Mods&Super != 0 {
		mods |= modWin
	}
	vk := virtualKey(h.Key)

	events := make(chan Event, 4)
	started := make(chan error, 1)
	var thread uintptr
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		defer close(events)
		thread, _, _ = procGetCurrentThread.Call()
		if r, _, err := procRegisterHotKey.Call(0, hotkeyID, mods, vk); r == 0 {
			started <- fmt.Errorf("register %s: %w (%v)", h, ErrTaken, err)
			return
		}
		defer procUnregisterHotKey.Call(0, hotkeyID)
		started <- nil
		var last time.Time
		var m msg
		for {
			r, _, _ := procGetMessageW.Call(uintptr(unsafe.Pointer(&m)), 0, 0, 0)
			if int32(r) <= 0 { // WM_QUIT or error
				return
			}
			if m.message != wmHotkey || m.wParam != hotkeyID {
				continue
			}
			now := time.Now()
			if now.Sub(last) < debounce {
				continue
			}
			last = now
			select {
			case events <- Event{At: now}:
			default:
			}
		}
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	var once sync.Once
	return &Listener{C: events, close: func() error {
		once.Do(func() { procPostThreadMsgW.Call(thread, wmQuit, 0, 0) })
		return nil
	}}, nil
}

func virtualKey(key string) uintptr {
	switch {
	case key == "Space":
		return 0x20
	case len(key) == 1: // 'A'..'Z' and '0'..'9' are their own virtual-key codes
		return uintptr(key[0])
	default: // F1..F12
		var n int
		fmt.Sscanf(key[1:], "%d", &n)
		return uintptr(0x70 + n - 1)
	}
}
