package tray

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"

	"framecast.dev/shared/testenv"
)

const menuPath = "/StatusNotifierItem/menu"

// menu reads the tray's menu over DBus as a panel does: label → item id.
func menu(t *testing.T, bus string) map[string]int32 {
	t.Helper()
	out := testenv.DBusSend(t, bus, "--dest="+service(), menuPath,
		"com.canonical.dbusmenu.GetLayout", "int32:0", "int32:-1", "array:string:")
	// Each item is "int32 ID" followed by its properties, among them
	// string "label" / variant string "TEXT".
	re := regexp.MustCompile(`(?s)int32 (\d+)\s+array \[(.*?)\]`)
	items := map[string]int32{}
	labelRe := regexp.MustCompile(`string "label"\s+variant\s+string "([^"]*)"`)
	for _, m := range re.FindAllStringSubmatch(out, -1) {
		if l := labelRe.FindStringSubmatch(m[2]); l != nil {
			id, _ := strconv.Atoi(m[1])
			items[l[1]] = int32(id)
		}
	}
	return items
}

func service() string { return fmt.Sprintf("org.kde.StatusNotifierItem-%d-1", os.Getpid()) }

func click(t *testing.T, bus string, id int32) {
	t.Helper()
	testenv.DBusSend(t, bus, "--dest="+service(), menuPath, "com.canonical.dbusmenu.Event",
		fmt.Sprintf("int32:%d", id), "string:clicked", "variant:int32:0", "uint32:0")
}

func waitFor(t *testing.T, ch <-chan string, want string) {
	t.Helper()
	select {
	case got := <-ch:
		if got != want {
			t.Fatalf("action %q, want %q", got, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("no %q action within 5s", want)
	}
}

func TestTrayMenuOverDBus(t *testing.T) {
	bus := testenv.SessionBus(t)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", bus)

	acts := make(chan string, 4)
	tr, err := Start(Actions{
		StartStop: func() { acts <- "startstop" },
		Pause:     func() { acts <- "pause" },
		Open:      func() { acts <- "open" },
		Quit:      func() { acts <- "quit" },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Stop()

	var items map[string]int32
	deadline := time.Now().Add(10 * time.Second)
	for {
		items = menu(t, bus)
		if _, ok := items["Start recording"]; ok || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, l := range []string{"Start recording", "Pause", "Open Framecast", "Quit"} {
		if _, ok := items[l]; !ok {
			t.Fatalf("menu has no %q item: %v", l, items)
		}
	}

	click(t, bus, items["Start recording"])
	waitFor(t, acts, "startstop")

	tr.SetState(Recording)
	items = menu(t, bus)
	if _, ok := items["Stop recording"]; !ok {
		t.Fatalf("while recording the menu should offer Stop recording: %v", items)
	}
	click(t, bus, items["Pause"])
	waitFor(t, acts, "pause")

	tr.SetState(Paused)
	if _, ok := menu(t, bus)["Resume"]; !ok {
		t.Fatalf("while paused the menu should offer Resume")
	}
	click(t, bus, items["Open Framecast"])
	waitFor(t, acts, "open")
	click(t, bus, items["Quit"])
	waitFor(t, acts, "quit")

	tr.SetState(Idle)
	if _, ok := menu(t, bus)["Start recording"]; !ok {
		t.Fatalf("back to idle the menu should offer Start recording")
	}
}

func TestNoSessionBus(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	if _, err := os.Stat(fmt.Sprintf("/run/user/%d/bus", os.Getuid())); err == nil {
		t.Fatalf("this machine has a user bus at /run/user; the test needs one without")
	}
	if _, err := Start(Actions{}); err == nil {
		t.Fatalf("Start without a session bus succeeded")
	}
}
