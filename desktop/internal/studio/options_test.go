//go:build linux

package studio_test

import (
	"context"
	"image"
	"image/color"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"framecast.dev/desktop/internal/capture/screentest"
	"framecast.dev/desktop/internal/settings"
	"framecast.dev/desktop/internal/studio"
)

// What the picker and the quality settings saved is what gets recorded:
// the region, at the frame rate chosen. A red window covers exactly the
// region, so a region off by a pixel shows the black desktop at an edge.
func TestRecordsThePickedRegionAtTheChosenRate(t *testing.T) {
	url := startServer(t)
	dir := env(t, url)
	win, err := screentest.NewWindow(os.Getenv("DISPLAY"), image.Rect(100, 50, 420, 230))
	if err != nil {
		t.Fatal(err)
	}
	defer win.Close()
	if err := win.Fill(color.RGBA{R: 230, A: 255}); err != nil {
		t.Fatal(err)
	}
	store := settings.NewStore(dir)
	st, _ := store.Load()
	st.Region = &settings.Region{X: 100, Y: 50, Width: 320, Height: 180}
	st.FPS, st.Mic, st.Tracking = 15, "none", "off"
	if err := store.Save(st); err != nil {
		t.Fatal(err)
	}
	saved, err := store.Load()
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	s, err := studio.Open(studio.Config{Dir: dir, OutDir: out})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Start(ctx, studio.OptionsFrom(saved)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2500 * time.Millisecond)
	res, err := s.Stop(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The tracking setting went with the video: its share page says no
	// viewer data is kept.
	if res.ShareURL == "" {
		t.Fatalf("no link: %+v", res)
	}
	if code, page := get(t, res.ShareURL); code != 200 || !strings.Contains(page, `class="tracking" data-level="off"`) {
		t.Fatalf("share page %d does not show tracking off:\n%s", code, page)
	}
	for s.Recording() && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
	}
	mp4s, _ := filepath.Glob(filepath.Join(out, "framecast-*", "recording.mp4"))
	if len(mp4s) != 1 {
		t.Fatalf("recordings: %v", mp4s)
	}
	b, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height,avg_frame_rate",
		"-of", "default=nw=1", mp4s[0]).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe: %v %s", err, b)
	}
	got := strings.Join(strings.Fields(string(b)), " ")
	if got != "width=320 height=180 avg_frame_rate=15/1" {
		t.Fatalf("recorded %s; want the 320x180 region at 15 fps", got)
	}
	raw, err := exec.Command("ffmpeg", "-v", "error", "-ss", "1", "-i", mp4s[0], "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-").Output()
	if err != nil || len(raw) != 320*180*3 {
		t.Fatalf("a frame of the recording: %v (%d bytes)", err, len(raw))
	}
	for _, p := range []image.Point{{3, 3}, {316, 3}, {3, 176}, {316, 176}, {160, 90}} {
		o := (p.Y*320 + p.X) * 3
		if r, g, b := raw[o], raw[o+1], raw[o+2]; r < 180 || g > 60 || b > 60 {
			t.Fatalf("pixel %v of the recording is %d,%d,%d; the region shows something beside the red window", p, r, g, b)
		}
	}
}
