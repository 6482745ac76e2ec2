package hotkey

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"framecast.dev/shared/testenv"
)

func TestParse(t *testing.T) {
	good := map[string]string{
		"Ctrl+Shift+R":    "Ctrl+Shift+R",
		" ctrl + shift+r": "Ctrl+Shift+R",
		"alt+f9":          "Alt+F9",
		"Super+Space":     "Super+Space",
		"Control+Alt+0":   "Ctrl+Alt+0",
		"cmd+shift+F12":   "Shift+Super+F12",
	}
	for in, want := range good {
		h, err := Parse(in)
		if err != nil || h.String() != want {
			t.Errorf("Parse(%q) = %v, %v; want %s", in, h, err, want)
		}
	}
	bad := map[string]string{
		"":            "no key",
		"R":           "at least one",
		"Shift+R":     "Shift alone",
		"Ctrl+Shift":  "no key",
		"Ctrl+F13":    "not supported",
		"Ctrl+F01":    "not supported",
		"Ctrl+Tab":    "not supported",
		"Hyper+R":     "not a modifier",
		"Ctrl+RR":     "not supported",
		"Ctrl+Alt+F2": "virtual terminals",
	}
	for in, want := range bad {
		if _, err := Parse(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) error = %v; want it to say %q", in, err, want)
		}
	}
}

// xdo presses keys on the test display as a user would.
func xdo(t *testing.T, d *testenv.Display, args ...string) {
	t.Helper()
	cmd := exec.Command("xdotool", args...)
	cmd.Env = append(os.Environ(), d.Env())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("xdotool %v: %v: %s", args, err, out)
	}
}

func expectPress(t *testing.T, l *Listener, want bool, what string) {
	t.Helper()
	select {
	case _, ok := <-l.C:
		if !want {
			t.Fatalf("%s: got a hotkey press, want none", what)
		}
		if !ok {
			t.Fatalf("%s: listener closed", what)
		}
	case <-time.After(1500 * time.Millisecond):
		if want {
			t.Fatalf("%s: no hotkey press within 1.5s", what)
		}
	}
}

func TestX11HotkeyPresses(t *testing.T) {
	testenv.Require(t, "xdotool")
	d := testenv.Xvfb(t, 640, 480)
	t.Setenv("DISPLAY", d.Name)

	h, _ := Parse(Default)
	l, err := Register(h)
	if err != nil {
		t.Fatalf("Register(%s): %v", h, err)
	}
	defer l.Close()

	xdo(t, d, "key", "ctrl+shift+r")
	expectPress(t, l, true, "Ctrl+Shift+R")

	time.Sleep(debounce)
	xdo(t, d, "key", "ctrl+r")
	expectPress(t, l, false, "Ctrl+R (no Shift)")
	xdo(t, d, "key", "ctrl+shift+t")
	expectPress(t, l, false, "Ctrl+Shift+T")

	// Num Lock on must not disable the shortcut.
	xdo(t, d, "key", "Num_Lock")
	xdo(t, d, "key", "ctrl+shift+r")
	expectPress(t, l, true, "Ctrl+Shift+R with Num Lock")
	xdo(t, d, "key", "Num_Lock")
}

func TestX11HotkeyRepeatIsDebounced(t *testing.T) {
	testenv.Require(t, "xdotool")
	d := testenv.Xvfb(t, 640, 480)
	t.Setenv("DISPLAY", d.Name)
	h, _ := Parse("Ctrl+Alt+K")
	l, err := Register(h)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	// Three presses in quick succession, as key auto-repeat produces.
	xdo(t, d, "key", "--delay", "50", "ctrl+alt+k", "ctrl+alt+k", "ctrl+alt+k")
	expectPress(t, l, true, "first press")
	expectPress(t, l, false, "auto-repeat")
}

func TestX11HotkeyTakenAndReleased(t *testing.T) {
	d := testenv.Xvfb(t, 640, 480)
	t.Setenv("DISPLAY", d.Name)
	h, _ := Parse("Ctrl+Shift+R")
	first, err := Register(h)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Register(h); !errors.Is(err, ErrTaken) {
		t.Fatalf("second Register = %v, want ErrTaken", err)
	}
	first.Close()
	if _, ok := <-first.C; ok {
		t.Fatalf("C still open after Close")
	}
	again, err := Register(h)
	if err != nil {
		t.Fatalf("Register after Close: %v", err)
	}
	again.Close()
}

func TestNoDisplayIsUnsupported(t *testing.T) {
	t.Setenv("DISPLAY", "")
	h, _ := Parse(Default)
	if _, err := Register(h); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("Register without a display = %v, want ErrUnsupported", err)
	}
}
