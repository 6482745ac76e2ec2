//go:build linux

package guitest

import (
	"image"
	"image/color"
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
// blue there when it turns blue on the screen.
func TestPickerShowsLiveThumbnails(t *testing.T) {
	pulse := testenv.PulseAudio(t)
	s := startApp(t, pulse.Env()...)
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
				t.Fatalf("the picker's thumbnail never showed the %s window", what)
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
	waitPixels("green", greenish, "picker.png")
	if err := win.Fill(color.RGBA{B: 230, A: 255}); err != nil {
		t.Fatal(err)
	}
	waitPixels("blue (refreshed)", blueish, "")
}
