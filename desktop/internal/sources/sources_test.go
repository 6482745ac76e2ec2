//go:build linux

package sources_test

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"framecast.dev/desktop/internal/capture/screentest"
	"framecast.dev/desktop/internal/sources"
	"framecast.dev/shared/testenv"
)

func TestDownscaleAveragesBoxes(t *testing.T) {
	// 4x2 bgr0: left half pure blue (B=255), right half white.
	frame := make([]byte, 4*2*4)
	for y := 0; y < 2; y++ {
		for x := 0; x < 4; x++ {
			o := (y*4 + x) * 4
			if x < 2 {
				frame[o] = 255 // B in bgr0
			} else {
				frame[o], frame[o+1], frame[o+2] = 255, 255, 255
			}
		}
	}
	img := sources.Downscale(frame, image.Pt(4, 2), "bgr0", 2)
	if b := img.Bounds(); b.Dx() != 2 || b.Dy() != 1 {
		t.Fatalf("size %v, want 2x1", b)
	}
	if got := img.RGBAAt(0, 0); got != (color.RGBA{0, 0, 255, 255}) {
		t.Fatalf("left = %v, want blue", got)
	}
	if got := img.RGBAAt(1, 0); got != (color.RGBA{255, 255, 255, 255}) {
		t.Fatalf("right = %v, want white", got)
	}
}

// The picker's preview shows each screen's picture as it is now, and the
// microphone's level while a sound plays into it; closing it releases the
// microphone.
func TestPreviewShowsScreensAndMicLevel(t *testing.T) {
	d := testenv.Xvfb(t, 640, 360)
	t.Setenv("DISPLAY", d.Name)
	p := testenv.PulseAudio(t)
	for _, kv := range p.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	mic, micSink := p.Microphone(t, "pickermic")
	win, err := screentest.NewWindow(d.Name, image.Rect(0, 0, 320, 360))
	if err != nil {
		t.Fatal(err)
	}
	defer win.Close()
	if err := win.Fill(color.RGBA{R: 220, A: 255}); err != nil {
		t.Fatal(err)
	}

	// The test's sound server keeps its own streams open on the monitors;
	// the preview's are the ones beyond those.
	before := sourceOutputs(t, p)
	var mu sync.Mutex
	var list *sources.List
	var thumbs []sources.Thumbnail
	var loudest float64 = -90
	var errs []string
	prev := sources.StartPreview(sources.PreviewConfig{
		Interval: 300 * time.Millisecond,
		Audio:    sources.Audio{Mic: mic},
		OnList:   func(l sources.List) { mu.Lock(); list = &l; mu.Unlock() },
		OnThumbnail: func(th sources.Thumbnail) {
			mu.Lock()
			thumbs = append(thumbs, th)
			mu.Unlock()
		},
		OnLevels: func(l sources.Levels) {
			mu.Lock()
			loudest = max(loudest, l.Mic)
			mu.Unlock()
		},
		OnError: func(m string) { mu.Lock(); errs = append(errs, m); mu.Unlock() },
	})
	closed := false
	defer func() {
		if !closed {
			prev.Close()
		}
	}()
	playTone(t, p, micSink)

	deadline := time.Now().Add(15 * time.Second)
	for {
		mu.Lock()
		n, loud := len(thumbs), loudest
		mu.Unlock()
		if n >= 3 && loud > -20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 15s: %d thumbnails, loudest mic level %.1f dBFS (want > -20), errors %v", n, loud, errs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	mu.Lock()
	if list == nil || len(list.Screens) != 1 || list.Screens[0].Width != 640 || list.Screens[0].Height != 360 {
		t.Fatalf("screens = %+v", list)
	}
	found := false
	for _, m := range list.Audio.Microphones {
		found = found || m.ID == mic
	}
	for _, m := range list.Audio.System {
		found = found || m.ID == mic
	}
	if !found {
		t.Fatalf("the microphone %s is not offered: %+v", mic, list.Audio)
	}
	th := thumbs[len(thumbs)-1]
	mu.Unlock()
	if th.Width != 320 || th.Height != 180 {
		t.Fatalf("thumbnail %dx%d, want 320x180", th.Width, th.Height)
	}
	img := decode(t, th.Image)
	if r, g, b, _ := img.At(80, 90).RGBA(); r>>8 < 180 || g>>8 > 40 || b>>8 > 40 {
		t.Fatalf("the red window's side of the thumbnail is %d,%d,%d", r>>8, g>>8, b>>8)
	}
	if r, _, _, _ := img.At(240, 90).RGBA(); r>>8 > 60 {
		t.Fatalf("the uncovered side of the thumbnail has red %d; want the dark desktop", r>>8)
	}

	if n := sourceOutputs(t, p); n <= before {
		t.Fatalf("%d sound streams while the picker is open, %d before: the meter is not listening", n, before)
	}
	prev.Close()
	closed = true
	if n := sourceOutputs(t, p); n != before {
		t.Fatalf("%d sound streams open after the picker closed, %d before it opened: the microphone is still open", n, before)
	}
}

func sourceOutputs(t *testing.T, p *testenv.Pulse) int {
	t.Helper()
	out, err := p.Pactl("list", "short", "source-outputs")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(out, "\n") {
		if strings.TrimSpace(line) != "" {
			n++
		}
	}
	return n
}

func decode(t *testing.T, dataURL string) image.Image {
	t.Helper()
	b64, ok := strings.CutPrefix(dataURL, "data:image/jpeg;base64,")
	if !ok {
		t.Fatalf("not a JPEG data URL: %.40s", dataURL)
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	img, err := jpeg.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func playTone(t *testing.T, p *testenv.Pulse, sink string) {
	wav := filepath.Join(t.TempDir(), "tone.wav")
	gen := exec.Command(testenv.Require(t, "sox"), "-n", "-r", "48000", "-c", "2", wav, "synth", "10", "sine", "440", "vol", "0.5")
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("sox: %v %s", err, out)
	}
	play := exec.Command(testenv.Require(t, "paplay"), "--latency-msec=30", "--device="+sink, wav)
	play.Env = append(os.Environ(), p.Env()...)
	if err := play.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = play.Process.Kill(); _ = play.Wait() })
}
