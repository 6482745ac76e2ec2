//go:build linux

package guitest

import (
	"database/sql"
	"fmt"
	"image"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"framecast.dev/shared/testenv"
)

const deviceToken = "guitest-device-token-0123456789abcdef"

// startServer runs the framecast-server built in TestMain until the test
// ends and returns its address.
func startServer(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(binDir, "framecast-server")
	return testenv.StartServer(t, testenv.ServerConfig{Bin: bin, Token: deviceToken}).URL
}

// uploaded returns the slugs of the recordings the app's queue has
// delivered, read from its SQLite database as it stands.
func uploaded(t *testing.T, config string) []string {
	t.Helper()
	path := filepath.Join(config, "queue", "queue.db")
	if _, err := os.Stat(path); err != nil {
		return nil
	}
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_busy_timeout=2000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT COALESCE(slug, '') FROM recordings WHERE state = 'uploaded' ORDER BY created_at`)
	if err != nil {
		return nil // not migrated yet
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if rows.Scan(&s) == nil && s != "" {
			out = append(out, s)
		}
	}
	return out
}

// waitUploaded waits until n recordings are uploaded and checks that the
// newest plays: the server has the video and its playlist lists segments.
func waitUploaded(t *testing.T, s *session, server string, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var slugs []string
	for {
		if slugs = uploaded(t, s.config); len(slugs) >= n {
			break
		}
		if time.Now().After(deadline) {
			saveArtifact(t, fmt.Sprintf("upload-%d-failed.png", n), s.screenshot())
			t.Fatalf("%d recording(s) uploaded after 30s, want %d", len(slugs), n)
		}
		time.Sleep(250 * time.Millisecond)
	}
	resp, err := http.Get(server + "/v/" + slugs[n-1] + "/playlist.m3u8")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.Count(string(body), "#EXTINF") < 2 {
		t.Fatalf("playlist of recording %d: %d\n%s", n, resp.StatusCode, body)
	}
}

// keepScreenshot saves what the display shows as a test artefact.
func keepScreenshot(t *testing.T, s *session, name string) {
	saveArtifact(t, name, s.screenshot())
}

func (s *session) key(t *testing.T, keys string) {
	t.Helper()
	if _, err := s.x("xdotool", "key", "--clearmodifiers", keys); err != nil {
		t.Fatalf("xdotool key %s: %v", keys, err)
	}
}

var (
	itemRe  = regexp.MustCompile(`(?s)int32 (\d+)\s+array \[(.*?)\]`)
	labelRe = regexp.MustCompile(`string "label"\s+variant\s+string "([^"]*)"`)
)

// trayMenu reads the app's tray menu over DBus as a panel does.
func trayMenu(t *testing.T, bus string, pid int) map[string]int32 {
	t.Helper()
	cmd := exec.Command("dbus-send", "--session", "--print-reply", fmt.Sprintf("--dest=org.kde.StatusNotifierItem-%d-1", pid),
		"/StatusNotifierItem/menu", "com.canonical.dbusmenu.GetLayout", "int32:0", "int32:-1", "array:string:")
	cmd.Env = append(os.Environ(), "DBUS_SESSION_BUS_ADDRESS="+bus)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil
	}
	items := map[string]int32{}
	for _, m := range itemRe.FindAllStringSubmatch(string(out), -1) {
		if l := labelRe.FindStringSubmatch(m[2]); l != nil {
			id, _ := strconv.Atoi(m[1])
			items[l[1]] = int32(id)
		}
	}
	return items
}

// waitTray waits until the tray menu offers label.
func waitTray(t *testing.T, bus string, pid int, label string) int32 {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if id, ok := trayMenu(t, bus, pid)[label]; ok {
			return id
		}
		if time.Now().After(deadline) {
			t.Fatalf("the tray menu never offered %q: %v", label, trayMenu(t, bus, pid))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// clickTray picks the menu item labelled label, waiting for it to appear.
func clickTray(t *testing.T, bus string, pid int, label string) {
	t.Helper()
	id := waitTray(t, bus, pid, label)
	testenv.DBusSend(t, bus, fmt.Sprintf("--dest=org.kde.StatusNotifierItem-%d-1", pid), "/StatusNotifierItem/menu",
		"com.canonical.dbusmenu.Event", fmt.Sprintf("int32:%d", id), "string:clicked", "variant:int32:0", "uint32:0")
}

// The hotkey and the tray each start and stop a recording in the real app;
// each recording reaches the real server and plays there.
func TestHotkeyAndTrayRecordAndUpload(t *testing.T) {
	testenv.Require(t, "dbus-send")
	testenv.Exclusive(t, "recording")
	server := startServer(t)
	pulse := testenv.PulseAudio(t)
	bus := testenv.SessionBus(t)
	env := append(pulse.Env(), "DBUS_SESSION_BUS_ADDRESS="+bus, "HOME="+t.TempDir(),
		"FRAMECAST_SERVER_URL="+server, "FRAMECAST_DEVICE_TOKEN="+deviceToken)
	s := startApp(t, env...)
	dunst := startDunst(t, s, bus)
	s.waitForShell()
	keepScreenshot(t, s, "main-window.png")

	if n := countColour(s.screenshot(), hudRed); n != 0 {
		t.Fatalf("%d pixels of the HUD's red before recording", n)
	}

	// The hotkey: press, record ~4 s, press again. The window's HUD shows
	// the recording the hotkey started (the Go side's events reach it).
	s.key(t, "ctrl+shift+r")
	s.waitHUD(t) // shown once the recorder runs
	time.Sleep(4 * time.Second)
	s.key(t, "ctrl+shift+r")
	waitUploaded(t, s, server, 1)
	// What the user gets at Stop: the link on the clipboard, and a
	// notification saying so.
	link := server + "/v/" + uploaded(t, s.config)[0]
	waitFor(t, 15*time.Second, "the link on the clipboard", func() bool {
		out, _ := s.x("xclip", "-o", "-selection", "clipboard")
		return strings.TrimSpace(out) == link
	})
	waitFor(t, 15*time.Second, "the notification", func() bool {
		h := dunst.history()
		return strings.Contains(h, "Link ready") && strings.Contains(h, link)
	})

	// The tray: Start recording, ~4 s, Stop recording.
	pid := s.cmd.Process.Pid
	clickTray(t, bus, pid, "Start recording")
	waitTray(t, bus, pid, "Stop recording") // offered once the recorder runs
	time.Sleep(4 * time.Second)
	clickTray(t, bus, pid, "Stop recording")
	waitUploaded(t, s, server, 2)
	time.Sleep(2 * time.Second) // the recorder finishes its MP4; the window refreshes its library
	keepScreenshot(t, s, "library.png")
}

type dunstDaemon struct{ bus string }

// startDunst runs a notification daemon on the app's display and bus, as
// a desktop session would, until the test ends.
func startDunst(t *testing.T, s *session, bus string) *dunstDaemon {
	t.Helper()
	bin := testenv.Require(t, "dunst")
	testenv.Require(t, "dunstctl")
	cfg := filepath.Join(t.TempDir(), "dunstrc")
	if err := os.WriteFile(cfg, []byte("[global]\n  history_length = 50\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-config", cfg)
	cmd.Env = append(os.Environ(), s.display.Env(), "DBUS_SESSION_BUS_ADDRESS="+bus)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dunst: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	d := &dunstDaemon{bus: bus}
	waitFor(t, 10*time.Second, "dunst on the session bus", func() bool { return strings.Contains(d.ctl("is-paused"), "false") })
	return d
}

func (d *dunstDaemon) ctl(args ...string) string {
	c := exec.Command("dunstctl", args...)
	c.Env = append(os.Environ(), "DBUS_SESSION_BUS_ADDRESS="+d.bus)
	b, _ := c.CombinedOutput()
	return string(b)
}

// history moves what is on screen into dunst's history and returns it.
func (d *dunstDaemon) history() string {
	d.ctl("close-all")
	return d.ctl("history")
}

// hudRed is the recording HUD's "● REC" colour (.rec-dot in style.css).
var hudRed = [3]uint8{0xc6, 0x28, 0x28}

func countColour(img image.Image, c [3]uint8) int {
	b := img.Bounds()
	n := 0
	// The HUD sits under the header: the top half is enough, and faster.
	for y := b.Min.Y; y < b.Min.Y+b.Dy()/2; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if uint8(r>>8) == c[0] && uint8(g>>8) == c[1] && uint8(bl>>8) == c[2] {
				n++
			}
		}
	}
	return n
}

// waitHUD waits until the window shows the recording HUD and keeps its
// screenshot. The HUD shows once the recorder runs, and its start (encoder
// probe, first frames through ffmpeg) took over 10 s on a machine shared
// at a load of 10.
func (s *session) waitHUD(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		img := s.screenshot()
		if countColour(img, hudRed) >= 20 {
			saveArtifact(t, "hud.png", img)
			return
		}
		if time.Now().After(deadline) {
			saveArtifact(t, "hud-failed.png", img)
			t.Fatal("the window did not show the recording HUD within 30s of the hotkey (the recorder had not started)")
		}
		time.Sleep(200 * time.Millisecond)
	}
}
