package notify

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"framecast.dev/shared/testenv"
)

// TestNotificationIsShown sends a notification to a real notification
// daemon (dunst, on Xvfb and a private session bus) and reads it back from
// the daemon's history: what the user would have seen.
func TestNotificationIsShown(t *testing.T) {
	dunst := testenv.Require(t, "dunst")
	dunstctl := testenv.Require(t, "dunstctl")
	d := testenv.Xvfb(t, 800, 600)
	bus := testenv.SessionBus(t)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", bus)
	t.Setenv("DISPLAY", d.Name)

	cfg := t.TempDir() + "/dunstrc"
	os.WriteFile(cfg, []byte("[global]\n  history_length = 20\n"), 0o644)
	daemon := exec.Command(dunst, "-config", cfg)
	daemon.Env = append(os.Environ(), d.Env(), "DBUS_SESSION_BUS_ADDRESS="+bus)
	if err := daemon.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { daemon.Process.Kill(); daemon.Wait() })

	ctl := func(args ...string) string {
		c := exec.Command(dunstctl, args...)
		c.Env = append(os.Environ(), "DBUS_SESSION_BUS_ADDRESS="+bus)
		b, _ := c.CombinedOutput()
		return string(b)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(ctl("is-paused"), "false") {
		if time.Now().After(deadline) {
			t.Fatalf("dunst did not come up on the session bus")
		}
		time.Sleep(100 * time.Millisecond)
	}

	if err := Send("Link ready", "https://cast.example/v/abc copied to the clipboard"); err != nil {
		t.Fatalf("Send: %v", err)
	}
	// Move it from the screen to the history so dunstctl can list it.
	deadline = time.Now().Add(10 * time.Second)
	for {
		ctl("close-all")
		h := ctl("history")
		if strings.Contains(h, "Link ready") && strings.Contains(h, "copied to the clipboard") {
			if !strings.Contains(h, `"Framecast"`) {
				t.Fatalf("notification not attributed to Framecast:\n%s", h)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the notification never reached dunst; history:\n%s", h)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
