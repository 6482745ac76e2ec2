//go:build linux

// Package guitest starts the real desktop app under Xvfb and checks what a
// user would see and do: the window opens, shows the app (not a blank or
// error page), and a setting typed into it is saved by the Go side.
package guitest

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"framecast.dev/shared/testenv"
)

// band is the header colour of the app shell (--band in frontend/src/style.css).
var band = [3]uint8{0xff, 0x5a, 0x36}

var (
	binDir    string // holds framecast and framecast-server, built once
	appBinary string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "fc-guitest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	appBinary, err = buildApp(dir)
	if err == nil {
		err = buildServer(dir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildApp builds the windowed binary once for all tests here.
func buildApp(dir string) (string, error) {
	root, err := filepath.Abs("../..")
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(root, "dist", "ui", "index.html")); err != nil {
		return "", fmt.Errorf("the UI is not built (desktop/dist/ui/index.html missing): run `make frontend` first")
	}
	out := filepath.Join(dir, "framecast")
	cmd := exec.Command("go", "build", "-tags", "desktop,production,webkit2_41", "-o", out, ".")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the desktop app: %v\n%s", err, b)
	}
	return out, nil
}

// buildServer builds framecast-server into dir, where `make run`'s script
// looks for it.
func buildServer(dir string) error {
	bin, err := testenv.BuildServer(dir)
	if err == nil && bin != filepath.Join(dir, "framecast-server") {
		err = os.Symlink(bin, filepath.Join(dir, "framecast-server"))
	}
	return err
}

type session struct {
	t       *testing.T
	cmd     *exec.Cmd
	display *testenv.Display
	config  string
	window  string
	logs    *bytes.Buffer
}

func startApp(t *testing.T, env ...string) *session {
	t.Helper()
	testenv.Require(t, "xdotool")
	testenv.Require(t, "import")
	d := testenv.Xvfb(t, 1280, 800)
	s := &session{t: t, display: d, config: t.TempDir(), logs: &bytes.Buffer{}}
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "FRAMECAST_CONFIG_DIR="); ok {
			s.config = v // the test prepared it
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, appBinary)
	cmd.Env = append(os.Environ(), d.Env(), "FRAMECAST_CONFIG_DIR="+s.config, "NO_AT_BRIDGE=1", "FRAMECAST_SERVER_URL=")
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout, cmd.Stderr = s.logs, s.logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start app: %v", err)
	}
	s.cmd = cmd
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("app output:\n%s", s.logs.String())
		}
	})

	deadline := time.Now().Add(60 * time.Second)
	for s.window == "" {
		out, _ := s.x("xdotool", "search", "--onlyvisible", "--name", "^Framecast$")
		s.window, _, _ = strings.Cut(strings.TrimSpace(out), "\n")
		if s.window == "" {
			if time.Now().After(deadline) {
				t.Fatalf("no Framecast window appeared within 60s")
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	return s
}

// x runs an X client against the test display.
func (s *session) x(name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), s.display.Env())
	out, err := cmd.Output()
	return string(out), err
}

func (s *session) screenshot() image.Image {
	s.t.Helper()
	cmd := exec.Command("import", "-window", "root", "png:-")
	cmd.Env = append(os.Environ(), s.display.Env())
	out, err := cmd.Output()
	if err != nil {
		s.t.Fatalf("screenshot: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(out))
	if err != nil {
		s.t.Fatalf("decode screenshot: %v", err)
	}
	return img
}

// bandRows counts full-width rows of the window that are the header colour.
func bandRows(img image.Image) int {
	b := img.Bounds()
	rows := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		hits := 0
		for x := b.Min.X; x < b.Max.X; x += 4 {
			r, g, bl, _ := img.At(x, y).RGBA()
			if uint8(r>>8) == band[0] && uint8(g>>8) == band[1] && uint8(bl>>8) == band[2] {
				hits++
			}
		}
		if hits*4 >= 600 { // a band at least 600px wide on this row
			rows++
		}
	}
	return rows
}

func saveArtifact(t *testing.T, name string, img image.Image) {
	dir := os.Getenv("FRAMECAST_ARTIFACTS")
	if dir == "" {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Logf("artifact dir: %v", err)
		return
	}
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		t.Logf("artifact: %v", err)
		return
	}
	defer f.Close()
	_ = png.Encode(f, img)
}

// waitForShell waits until the app shell is drawn. The shell stays hidden
// until the Go side answers the UI's first calls, so the band proves the
// JS→Go bindings work, not only that a page loaded.
func (s *session) waitForShell() image.Image {
	s.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		img := s.screenshot()
		if n := bandRows(img); n >= 40 {
			return img
		}
		if time.Now().After(deadline) {
			saveArtifact(s.t, "window-failed.png", img)
			s.t.Fatalf("the window never showed the Framecast header band (#ff5a36) within 60s")
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// The window opens, in the dark appearance when that is the setting.
func TestWindowShowsApp(t *testing.T) {
	config := t.TempDir()
	if err := os.WriteFile(filepath.Join(config, "settings.json"), []byte(`{"serverURL": "http://127.0.0.1:8080", "theme": "dark"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startApp(t, "FRAMECAST_CONFIG_DIR="+config)
	img := s.waitForShell()
	saveArtifact(t, "window-dark.png", img)
	// --bg of the dark theme (style.css) fills most of the window.
	dark := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r>>8 == 0x15 && g>>8 == 0x18 && bl>>8 == 0x1c {
				dark++
			}
		}
	}
	if dark*4 < 200_000 {
		t.Fatalf("%d pixels of the dark background; the dark appearance was not applied", dark*4)
	}
}

func TestSettingTypedIntoWindowIsSaved(t *testing.T) {
	xdg := t.TempDir()
	s := startApp(t, "XDG_CONFIG_HOME="+xdg)
	s.waitForShell()

	// Keyboard only, as a user without a mouse would: Tab passes the Record,
	// Import and source-picker buttons and reaches the server address field
	// (the library is empty); six more reach "Start at login", one more Save.
	steps := [][]string{
		{"windowfocus", "--sync", s.window},
		{"key", "--clearmodifiers", "Tab", "Tab", "Tab", "Tab"},
		{"key", "--clearmodifiers", "ctrl+a"},
		{"type", "--delay", "15", "http://127.0.0.1:9191"},
		{"key", "--clearmodifiers", "Tab", "Tab", "Tab", "Tab", "Tab", "Tab"},
		{"key", "--clearmodifiers", "space"},
		{"key", "--clearmodifiers", "Tab", "Return"},
	}
	for _, st := range steps {
		if _, err := s.x("xdotool", st...); err != nil {
			t.Fatalf("xdotool %v: %v", st, err)
		}
	}

	path := filepath.Join(s.config, "settings.json")
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		if strings.Contains(string(b), `"http://127.0.0.1:9191"`) && strings.Contains(string(b), `"startAtLogin": true`) {
			break
		}
		if time.Now().After(deadline) {
			saveArtifact(t, "settings-failed.png", s.screenshot())
			t.Fatalf("settings.json after typing into the window = %q; want the typed server address and start at login", b)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Start at login is what the desktop session reads: an XDG autostart
	// entry that runs this very program.
	entry, err := os.ReadFile(filepath.Join(xdg, "autostart", "framecast.desktop"))
	if err != nil {
		t.Fatalf("no autostart entry after ticking Start at login: %v", err)
	}
	exe, _ := filepath.EvalSymlinks(appBinary) // as the app names itself
	if !strings.Contains(string(entry), `Exec="`+exe+`"`) {
		t.Fatalf("the autostart entry does not run %s:\n%s", exe, entry)
	}
}
