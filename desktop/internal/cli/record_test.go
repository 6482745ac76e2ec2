//go:build linux

package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"framecast.dev/shared/testenv"
)

// One PulseAudio server for the package's recording tests, started on
// first use (a fresh null sink needs ~2 s to settle).
var (
	pulseOnce sync.Once
	pulseSrv  *testenv.Pulse
	pulseErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if pulseSrv != nil {
		pulseSrv.Stop()
	}
	os.Exit(code)
}

func desktop(t *testing.T, w, h int) {
	t.Helper()
	testenv.Exclusive(t, "recording") // see recorder's tests
	pulseOnce.Do(func() { pulseSrv, pulseErr = testenv.StartPulseAudio() })
	if pulseErr != nil {
		t.Fatal(pulseErr)
	}
	for _, kv := range pulseSrv.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	d := testenv.Xvfb(t, w, h)
	t.Setenv("DISPLAY", d.Name)
}

// syncBuffer is written by the command's goroutines and read by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func runCtx(ctx context.Context, args ...string) (int, *syncBuffer, *syncBuffer) {
	var out, errb syncBuffer
	return Run(ctx, args, &out, &errb), &out, &errb
}

type jsonEvent struct {
	Type     string  `json:"type"`
	Index    *int    `json:"index"`
	Init     bool    `json:"init"`
	Path     string  `json:"path"`
	Seconds  float64 `json:"seconds"`
	State    string  `json:"state"`
	MP4      string  `json:"mp4"`
	Dir      string  `json:"dir"`
	Width    int     `json:"width"`
	Height   int     `json:"height"`
	Dropped  int64   `json:"dropped"`
	Segments int     `json:"segments"`
	Message  string  `json:"message"`
}

func events(t *testing.T, out string) []jsonEvent {
	t.Helper()
	var evs []jsonEvent
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var e jsonEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("not a JSON line: %q", sc.Text())
		}
		evs = append(evs, e)
	}
	return evs
}

func TestDevicesJSON(t *testing.T) {
	desktop(t, 800, 600)
	code, out, errb := runCtx(context.Background(), "devices", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb)
	}
	var d devicesJSON
	if err := json.Unmarshal([]byte(out.String()), &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Displays) != 1 || d.Displays[0].Width != 800 || d.Displays[0].Height != 600 || !d.Displays[0].Primary {
		t.Errorf("displays: %+v", d.Displays)
	}
	if len(d.SystemAudio) == 0 || !d.SystemAudio[0].Default || d.SystemAudio[0].ID != pulseSrv.Monitor {
		t.Errorf("system audio: %+v", d.SystemAudio)
	}
	code, out, _ = runCtx(context.Background(), "devices")
	if code != 0 || !strings.Contains(out.String(), "800x600") || !strings.Contains(out.String(), pulseSrv.Monitor) {
		t.Errorf("table (exit %d):\n%s", code, out)
	}
}

func TestRecordWritesSegmentsAndMP4(t *testing.T) {
	desktop(t, 640, 480)
	outDir := t.TempDir()
	code, out, errb := runCtx(context.Background(), "record", "--out", outDir, "--duration", "2500ms",
		"--mic", "none", "--system-audio", "--max-height", "240", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb)
	}
	evs := events(t, out.String())
	var segs []jsonEvent
	var stopped *jsonEvent
	for i, e := range evs {
		switch e.Type {
		case "segment":
			segs = append(segs, e)
		case "stopped":
			stopped = &evs[i]
		}
	}
	if stopped == nil || stopped.MP4 == "" || stopped.Width != 320 || stopped.Height != 240 {
		t.Fatalf("stopped: %+v", stopped)
	}
	if len(segs) < 3 || !segs[0].Init || *segs[0].Index != 0 || *segs[1].Index != 1 || *segs[2].Index != 2 {
		t.Fatalf("segments: %+v", segs)
	}
	for _, s := range segs {
		if _, err := os.Stat(s.Path); err != nil {
			t.Errorf("segment %d: %v", *s.Index, err)
		}
	}
	if filepath.Dir(stopped.MP4) != stopped.Dir || filepath.Dir(stopped.Dir) != outDir {
		t.Errorf("recording at %s, want a new folder inside %s", stopped.MP4, outDir)
	}
	if outp, err := exec.Command(testenv.Require(t, "ffmpeg"), "-v", "error", "-i", stopped.MP4, "-f", "null", "-").CombinedOutput(); err != nil {
		t.Fatalf("MP4 does not play: %v %s", err, outp)
	}
	if !strings.Contains(errb.String(), "Recording to "+stopped.Dir) {
		t.Errorf("stderr: %s", errb)
	}
}

// TestRecordPausesOnSIGUSR1 pauses and resumes with the signal, and stops
// as on Ctrl-C (the context main cancels on SIGINT/SIGTERM).
func TestRecordPausesOnSIGUSR1(t *testing.T) {
	desktop(t, 320, 240)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	codec := make(chan int, 1)
	launched := time.Now()
	go func() {
		codec <- Run(ctx, []string{"record", "--out", t.TempDir(), "--mic", "none", "--json"}, &out, &errb)
	}()
	waitFor := func(what string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !strings.Contains(out.String(), what) {
			if time.Now().After(deadline) {
				t.Fatalf("no %s in:\n%s\n%s", what, out.String(), errb.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor(`"type":"level"`) // recording, and the signal handler is in place
	syscall.Kill(os.Getpid(), syscall.SIGUSR1)
	waitFor(`"state":"paused"`)
	pausedAt := time.Now()
	time.Sleep(time.Second)
	syscall.Kill(os.Getpid(), syscall.SIGUSR1)
	waitFor(`"state":"recording"`)
	resumedAt := time.Now()
	time.Sleep(time.Second)
	stoppedAt := time.Now()
	cancel()
	var code int
	select {
	case code = <-codec:
	case <-time.After(20 * time.Second):
		t.Fatal("record did not stop after cancel")
	}
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var st jsonEvent
	for _, e := range events(t, out.String()) {
		if e.Type == "stopped" {
			st = e
		}
	}
	// Recorded: everything from the start (a moment after launch) to the
	// stop, except the pause.
	most := stoppedAt.Sub(launched) - resumedAt.Sub(pausedAt)
	if st.MP4 == "" || st.Seconds > most.Seconds()+0.1 || st.Seconds < most.Seconds()-1.5 {
		t.Fatalf("stopped %+v, want a little under %.2f s recorded", st, most.Seconds())
	}
}

func TestRecordBadInput(t *testing.T) {
	desktop(t, 640, 480)
	ro := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", ro).CombinedOutput(); err != nil {
		t.Fatalf("mount read-only tmpfs (tests run as root): %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", ro).Run() })
	full := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", full).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", full).Run() })
	os.WriteFile(filepath.Join(full, "filler"), make([]byte, 900<<10), 0o644)

	for _, c := range []struct {
		name string
		args []string
		env  map[string]string
		code int
		want string
	}{
		{"region syntax", []string{"--region", "1,2,3"}, nil, 2, "want four numbers"},
		{"fps", []string{"--fps", "0"}, nil, 2, "out of range"},
		{"unknown display", []string{"--display", "4"}, nil, 1, "display 4 does not exist"},
		{"region off screen", []string{"--region", "600,400,200,200"}, nil, 1, "not on the desktop"},
		{"unknown microphone", []string{"--mic", "nosuch"}, nil, 1, `microphone "nosuch" not found`},
		{"unknown system audio", []string{"--system-audio", "--system-audio-device", "nosuch"}, nil, 1, `system audio "nosuch" not found`},
		{"unwritable folder", []string{"--out", filepath.Join(ro, "x")}, nil, 1, "cannot create the output folder"},
		{"full disk", []string{"--out", full}, nil, 1, "disk is full"},
		{"no ffmpeg", nil, map[string]string{"PATH": t.TempDir(), "FRAMECAST_FFMPEG": ""}, 1, "ffmpeg not found"},
		{"no X display", nil, map[string]string{"DISPLAY": ""}, 1, "DISPLAY is not set"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			out := t.TempDir()
			args := append([]string{"record", "--out", out, "--mic", "none", "--duration", "1s"}, c.args...)
			code, _, errb := runCtx(context.Background(), args...)
			if code != c.code || !strings.Contains(errb.String(), c.want) {
				t.Fatalf("exit %d (want %d), stderr %q (want %q)", code, c.code, errb.String(), c.want)
			}
			if entries, _ := os.ReadDir(out); len(entries) > 0 {
				t.Fatalf("left behind in --out: %v", entries)
			}
			if entries, _ := os.ReadDir(full); len(entries) > 1 {
				t.Fatalf("left behind on the full disk: %v", entries)
			}
		})
	}
}
