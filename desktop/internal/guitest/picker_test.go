//go:build linux

package guitest

import (
	"image"
	"image/color"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"framecast.dev/desktop/internal/capture/screentest"
	"framecast.dev/shared/testenv"
)

// countLike counts pixels of the app's window (the top-left 1024x720 of
// the screen) that match: the thumbnails are JPEGs, so colours are near,
// not exact.
func countLike(img image.Image, match func(r, g, b uint8) bool) int {
	n := 0
	for y := 0; y < 720; y++ {
		for x := 0; x < 1024; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			if match(uint8(r>>8), uint8(g>>8), uint8(b>>8)) {
				n++
			}
		}
	}
	return n
}

func greenish(r, g, b uint8) bool { return r < 80 && g > 150 && b < 80 }
func blueish(r, g, b uint8) bool  { return r < 80 && g < 80 && b > 150 }

// The source picker shows what each screen shows, refreshed while it is
// open: a green window beside the app appears in the thumbnail, and turns
// blue there when it turns blue on the screen. Then Import video, through
// the real file dialog, puts a file in the library and it uploads.
func TestPickerThumbnailsAndImport(t *testing.T) {
	server := startServer(t)
	pulse := testenv.PulseAudio(t)
	s := startApp(t, append(pulse.Env(), "FRAMECAST_SERVER_URL="+server, "FRAMECAST_DEVICE_TOKEN="+deviceToken)...)
	s.waitForShell()
	// Beside the app's 1024x720 window, on the same screen.
	win, err := screentest.NewWindow(s.display.Name, image.Rect(1040, 520, 1280, 800))
	if err != nil {
		t.Fatal(err)
	}
	defer win.Close()
	if err := win.Fill(color.RGBA{G: 220, A: 255}); err != nil {
		t.Fatal(err)
	}
	if n := countLike(s.screenshot(), greenish); n != 0 {
		t.Fatalf("%d green pixels in the window before the picker opened", n)
	}

	// Keyboard: Record, Import, then the picker's button.
	for _, st := range [][]string{
		{"windowfocus", "--sync", s.window},
		{"key", "--clearmodifiers", "Tab"},
		{"key", "--clearmodifiers", "Tab"},
		{"key", "--clearmodifiers", "Tab"},
		{"key", "--clearmodifiers", "Return"},
	} {
		if _, err := s.x("xdotool", st...); err != nil {
			t.Fatalf("xdotool %v: %v", st, err)
		}
	}
	waitPixels := func(what string, match func(r, g, b uint8) bool, artefact string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			img := s.screenshot()
			if n := countLike(img, match); n >= 150 {
				if artefact != "" {
					saveArtifact(t, artefact, img)
				}
				return
			}
			if time.Now().After(deadline) {
				saveArtifact(t, "picker-failed.png", img)
				t.Fatalf("the window never showed the %s", what)
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
	waitPixels("green window in the picker's thumbnail", greenish, "picker.png")
	if err := win.Fill(color.RGBA{B: 230, A: 255}); err != nil {
		t.Fatal(err)
	}
	waitPixels("blue window in the refreshed thumbnail", blueish, "")

	// Import: the button before the picker's, then the GTK file dialog,
	// where Ctrl+L takes a typed path.
	video := filepath.Join(t.TempDir(), "team update.mp4")
	if b, err := exec.Command(testenv.Require(t, "ffmpeg"), "-hide_banner", "-loglevel", "error",
		"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=5", "-f", "lavfi", "-i", "sine=duration=5",
		"-c:v", "libx264", "-preset", "veryfast", "-g", "25", "-c:a", "aac", "-shortest", video).CombinedOutput(); err != nil {
		t.Fatalf("make a video: %v %s", err, b)
	}
	if _, err := s.x("xdotool", "key", "--clearmodifiers", "shift+Tab", "Return"); err != nil {
		t.Fatal(err)
	}
	var dialog string
	waitFor(t, 20*time.Second, "the Import file dialog", func() bool {
		out, _ := s.x("xdotool", "search", "--onlyvisible", "--name", "^Import a video$")
		dialog = strings.TrimSpace(out)
		return dialog != ""
	})
	dialog, _, _ = strings.Cut(dialog, "\n")
	for _, st := range [][]string{
		{"windowfocus", "--sync", dialog},
		{"key", "--clearmodifiers", "ctrl+l"},
		{"type", "--delay", "10", video},
		{"key", "--clearmodifiers", "Return"},
	} {
		if _, err := s.x("xdotool", st...); err != nil {
			t.Fatalf("xdotool %v: %v", st, err)
		}
		time.Sleep(300 * time.Millisecond)
	}
	waitUploaded(t, s, server, 1)
	// Close the picker (the button after Import) so the library shows.
	if _, err := s.x("xdotool", "windowfocus", "--sync", s.window); err != nil {
		t.Fatal(err)
	}
	if _, err := s.x("xdotool", "key", "--clearmodifiers", "Tab", "Return"); err != nil {
		t.Fatal(err)
	}
	// The library shows the import with its thumbnail: testsrc2's cyan
	// bar, a colour nothing else in the window has.
	waitPixels("imported video's thumbnail (cyan)", func(r, g, b uint8) bool { return r < 60 && g > 200 && b > 200 }, "import.png")
}
