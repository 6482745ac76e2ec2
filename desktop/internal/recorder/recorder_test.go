//go:build linux

package recorder_test

import (
	"context"
	"errors"
	"fmt"
	"image/color"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"framecast.dev/desktop/internal/capture/screentest"
	"framecast.dev/desktop/internal/encode"
	"framecast.dev/desktop/internal/recorder"
	"framecast.dev/desktop/internal/yuv"
	"framecast.dev/shared/testenv"
)

// TestSyncAt1080p30 records a full HD screen with moving content and a
// window that lights up on every beep played into the system audio, and
// measures frame rate, duration, tone and audio/video offset in the MP4.
// TestSyncAt1080p30 records 1080p30 with sound. Frame rate and A/V offset
// are timing: a run disturbed by another process on a 2-core machine is
// retried once, and two misses in a row fail. Every other check fails at
// once.
func TestSyncAt1080p30(t *testing.T) { retryOnce(t, syncAt1080p30) }

// retryOnce runs a recording test whose checks that depend on the machine
// being undisturbed report through miss: a first miss is logged with the
// load average and the recording made again; a second fails the test.
// Every other check fails at once.
func retryOnce(t *testing.T, record func(t *testing.T, miss func(format string, args ...any))) {
	for attempt := 1; ; attempt++ {
		var missed []string
		record(t, func(format string, args ...any) { missed = append(missed, fmt.Sprintf(format, args...)) })
		if len(missed) == 0 || t.Failed() {
			return
		}
		if attempt == 2 {
			for _, m := range missed {
				t.Error(m)
			}
			return
		}
		load, _ := os.ReadFile("/proc/loadavg")
		t.Logf("attempt 1 missed (load average %s): %v; recording again", strings.TrimSpace(string(load)), missed)
	}
}

func syncAt1080p30(t *testing.T, timing func(format string, args ...any)) {
	d := xvfb(t, 1920, 1080)
	bg, err := screentest.NewWindow(d.Name, rect(0, 0, 1280, 720))
	if err != nil {
		t.Fatal(err)
	}
	defer bg.Close()
	stopAnim := bg.Animate(30)
	defer stopAnim()
	flashRect := rect(1400, 200, 320, 240)
	fl, err := screentest.NewFlasher(d.Name, flashRect, pulse.Env(), pulse.Monitor)
	if err != nil {
		t.Fatal(err)
	}
	defer fl.Close()

	const dur = 7 * time.Second
	r := start(t, recorder.Options{Duration: dur, SystemAudio: true})
	// Six 80 ms beeps of 1 kHz, one a second.
	play(t, pulse.Sink, wav(t, "0.08", "sine", "1000", "vol", "0.8", "pad", "0.42", "0.5", "repeat", "5"))
	st := r.wait(30 * time.Second)
	if st.Err != nil {
		t.Fatalf("recording failed: %v", st.Err)
	}
	res := st.Result
	t.Logf("result: %+v", res)

	// Frames: all there, nearly all fresh.
	if res.Frames != 210 || res.Duration != dur {
		t.Errorf("video has %d frames (%v), want 210 (7 s)", res.Frames, res.Duration)
	}
	if fps := float64(res.Captured) / dur.Seconds(); fps < 29 {
		timing("achieved %.1f fps (captured %d, dropped %d), want ≥ 29", fps, res.Captured, res.Dropped)
	} else {
		t.Logf("achieved %.2f fps, %d dropped", fps, res.Dropped)
	}
	if n := r.segmentsBefore(); n < 2 {
		t.Errorf("only %d segments were announced before the recording stopped", n)
	}

	// The MP4: right size, right length, plays to the end.
	v, a, f := probe(t, res.MP4, "v:0"), probe(t, res.MP4, "a:0"), probe(t, res.MP4, "")
	if v["codec_name"] != "h264" || v["width"] != "1920" || v["height"] != "1080" || v["pix_fmt"] != "yuv420p" {
		t.Errorf("video stream: %v", v)
	}
	if a["codec_name"] != "aac" || a["sample_rate"] != "48000" || a["channels"] != "2" {
		t.Errorf("audio stream: %v", a)
	}
	if vd := num(t, v, "duration"); math.Abs(vd-7) > 2.0/30 {
		t.Errorf("video lasts %.3f s, want 7 ± 2 frames", vd)
	}
	if fd := num(t, f, "duration"); math.Abs(fd-7) > 0.1 {
		t.Errorf("file lasts %.3f s, want 7", fd)
	}
	playsToTheEnd(t, res.MP4)

	// The sound: the 1 kHz tone, not something else.
	s := pcm(t, res.MP4)
	loud := loudest(s, 2400)
	if on, off := toneLevel(loud, 1000), toneLevel(loud, 1300); on < 0.3 || off > on/20 {
		t.Errorf("1 kHz level %.3f, 1.3 kHz level %.3f: the beep is not a 1 kHz tone", on, off)
	}

	// Sync: each beep's onset in the sound against the flash's onset in
	// the picture.
	luma, peak := trace(t, res.MP4, flashRect)
	flashes, beeps := rampOnsets(luma), beepOnsets(peak)
	t.Logf("flashes at %.3f", flashes)
	t.Logf("beeps   at %.3f", beeps)
	for _, fo := range flashes {
		near := false
		for _, b := range beeps {
			near = near || math.Abs(b-fo) < 0.3
		}
		if !near {
			var around []string
			for _, p := range peak {
				if p.t > fo-0.15 && p.t < fo+0.1 && int(p.t*1000)%5 == 0 {
					around = append(around, fmt.Sprintf("%.3f:%.0f", p.t, p.v))
				}
			}
			t.Logf("flash at %.3f s has no beep; sound around it (s:dBFS): %s", fo, strings.Join(around, " "))
		}
	}
	if len(beeps) < 5 || len(flashes) < 5 {
		t.Fatalf("found %d beeps and %d flashes, want ≥ 5 each (heard by the flasher: %d)", len(beeps), len(flashes), len(fl.Beeps()))
	}
	var offsets []float64
	for _, b := range beeps {
		best := math.Inf(1)
		for _, fo := range flashes {
			if math.Abs(b-fo) < math.Abs(best) {
				best = b - fo
			}
		}
		if math.Abs(best) > 0.3 {
			t.Errorf("beep at %.3f s has no flash near it", b)
			continue
		}
		offsets = append(offsets, best)
	}
	for _, ev := range r.all() {
		if w, ok := ev.(recorder.Warning); ok {
			t.Logf("warning: %s", w.Message)
		}
	}
	worst, sum := 0.0, 0.0
	for _, o := range offsets {
		sum += o
		worst = math.Max(worst, math.Abs(o))
	}
	t.Logf("audio − video offsets (ms): %.1f; mean %.1f ms, worst %.1f ms", scale(offsets, 1000), sum/float64(len(offsets))*1000, worst*1000)
	if worst > 0.040 {
		timing("audio/video offset up to %.1f ms, want ≤ 40 ms", worst*1000)
	}
}

func scale(xs []float64, k float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = x * k
	}
	return out
}

// loudest returns the n-sample window of s with the largest peak.
func loudest(s []float32, n int) []float32 {
	best, at := float32(0), 0
	for i, x := range s {
		if x < 0 {
			x = -x
		}
		if x > best {
			best, at = x, i
		}
	}
	from := max(0, at-n/2)
	return s[from:min(len(s), from+n)]
}

// TestPauseRemovesTheSpan pauses for a while in which the screen turns
// green and a 2 kHz tone plays: neither may be in the recording, and the
// microphone's 440 Hz before and after must be.
//
// The tone check is retried once, like the timing checks of
// TestSyncAt1080p30: once in many CI runs the microphone's tone came out
// weak (0.08 against 0.1), and the profile logged on a miss tells a late
// start from a dropout. Two misses in a row fail.
func TestPauseRemovesTheSpan(t *testing.T) { retryOnce(t, pauseRemovesTheSpan) }

func pauseRemovesTheSpan(t *testing.T, miss func(format string, args ...any)) {
	d := xvfb(t, 640, 480)
	win, err := screentest.NewWindow(d.Name, rect(0, 0, 640, 480))
	if err != nil {
		t.Fatal(err)
	}
	defer win.Close()
	red, green, blue := color.RGBA{220, 0, 0, 255}, color.RGBA{0, 220, 0, 255}, color.RGBA{0, 0, 220, 255}
	win.Fill(red)
	play(t, micSink, wav(t, "10", "sine", "440", "vol", "0.5"))

	r := start(t, recorder.Options{Mic: mic, SystemAudio: true})
	began := time.Now()
	time.Sleep(1500 * time.Millisecond)
	if err := r.rec.Pause(); err != nil {
		t.Fatal(err)
	}
	paused := time.Now()
	win.Fill(green)
	tone := play(t, pulse.Sink, wav(t, "1", "sine", "2000", "vol", "0.8"))
	time.Sleep(1500 * time.Millisecond)
	tone.Process.Kill()
	win.Fill(blue)
	if st := r.rec.Status(); st.State != recorder.Paused {
		t.Errorf("status while paused: %+v", st)
	}
	if paused, err := r.rec.TogglePause(); err != nil || paused {
		t.Fatalf("TogglePause while paused: %v, %v", paused, err)
	}
	resumed := time.Now()
	time.Sleep(1500 * time.Millisecond)
	stopped := time.Now()
	res, err := r.rec.Stop(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	<-r.done

	// Wall time minus the pause, plus up to a third of a second of the
	// first frame held while the encoder warmed up (before Start returned).
	want := stopped.Sub(began) - resumed.Sub(paused)
	if d := res.Duration - want; d < -100*time.Millisecond || d > 400*time.Millisecond {
		t.Errorf("recorded %v, want about %v (wall time minus the pause)", res.Duration, want)
	}
	v := probe(t, res.MP4, "v:0")
	if vd := num(t, v, "duration"); math.Abs(vd-res.Duration.Seconds()) > 2.0/30 {
		t.Errorf("MP4 video lasts %.3f s, the recorder says %v", vd, res.Duration)
	}
	colors := frameColors(t, res.MP4)
	isColor := func(c [3]byte, want color.RGBA) bool {
		return math.Abs(float64(c[0])-float64(want.R)) < 40 && math.Abs(float64(c[1])-float64(want.G)) < 40 && math.Abs(float64(c[2])-float64(want.B)) < 40
	}
	var nRed, nGreen, nBlue int
	for _, c := range colors {
		switch {
		case isColor(c, red):
			nRed++
		case isColor(c, green):
			nGreen++
		case isColor(c, blue):
			nBlue++
		}
	}
	if nGreen > 0 || nRed < 40 || nBlue < 40 || !isColor(colors[0], red) || !isColor(colors[len(colors)-1], blue) {
		t.Errorf("frames: %d red, %d green (paused), %d blue of %d", nRed, nGreen, nBlue, len(colors))
	}
	s := pcm(t, res.MP4)
	if len(s) < int(0.9*res.Duration.Seconds()*48000) {
		t.Errorf("%d samples of sound for %v of video", len(s), res.Duration)
	}
	mid := s[len(s)/4 : len(s)*3/4]
	if l440, l2k := toneLevel(mid, 440), toneLevel(mid, 2000); l440 < 0.1 || l2k > 0.01 {
		var profile []string
		for i := 0; i+12000 <= len(s); i += 12000 { // 250 ms windows
			profile = append(profile, fmt.Sprintf("%.2f", toneLevel(s[i:i+12000], 440)))
		}
		miss("440 Hz (microphone) at %.3f, 2 kHz (played while paused) at %.3f; 440 Hz per 250 ms: %s",
			l440, l2k, strings.Join(profile, " "))
	}
	var states []recorder.State
	loudestMic, loudestSystem := -100.0, -100.0
	for _, ev := range r.all() {
		switch ev := ev.(type) {
		case recorder.StateChanged:
			states = append(states, ev.State)
		case recorder.Level:
			loudestMic, loudestSystem = math.Max(loudestMic, ev.Mic), math.Max(loudestSystem, ev.System)
		}
	}
	// The microphone's tone peaks at 0.5 (-6 dBFS); the 2 kHz tone played
	// while paused still moves the system meter (meters run while paused).
	if loudestMic < -10 || loudestMic > -3 || loudestSystem < -10 {
		t.Errorf("meters peaked at mic %.1f dBFS, system %.1f dBFS", loudestMic, loudestSystem)
	}
	if len(states) != 3 || states[0] != recorder.Paused || states[1] != recorder.Recording || states[2] != recorder.Stopping {
		t.Errorf("state changes: %v", states)
	}
	if err := r.rec.Pause(); !errors.Is(err, recorder.ErrNotRecording) {
		t.Errorf("Pause after the end: %v", err)
	}
}

// A region records its own size (an odd side loses its last pixel, as
// 4:2:0 needs), with the picture's colours, whichever side converts them:
// the recorder (AVX2 machines) or ffmpeg (elsewhere).
func TestRegionHasTheRegionsSize(t *testing.T) {
	d := xvfb(t, 640, 480)
	win, err := screentest.NewWindow(d.Name, rect(100, 60, 321, 241))
	if err != nil {
		t.Fatal(err)
	}
	defer win.Close()
	win.Fill(color.RGBA{250, 200, 0, 255})
	// The recorder converts only where it has the vector code (amd64 with
	// AVX2, which every x86-64 CPU since 2013 has).
	paths := []bool{false}
	if runtime.GOARCH == "amd64" {
		paths = append(paths, true)
	}
	for _, here := range paths {
		name := map[bool]string{true: "converted-by-recorder", false: "converted-by-ffmpeg"}[here]
		t.Run(name, func(t *testing.T) {
			if here && !yuv.Fast() {
				t.Fatal("this amd64 machine lacks AVX2: the recorder's conversion cannot be tested here")
			}
			old := recorder.ConvertInRecorder(here)
			defer recorder.ConvertInRecorder(old)
			r := start(t, recorder.Options{Region: rect(100, 60, 321, 241), Duration: 2 * time.Second})
			st := r.wait(20 * time.Second)
			if st.Err != nil {
				t.Fatal(st.Err)
			}
			v := probe(t, st.Result.MP4, "v:0")
			if v["width"] != "320" || v["height"] != "240" {
				t.Fatalf("region video is %sx%s, want 320x240", v["width"], v["height"])
			}
			c := frameColors(t, st.Result.MP4)
			if got := c[len(c)/2]; math.Abs(float64(got[0])-250) > 30 || math.Abs(float64(got[1])-200) > 30 || got[2] > 40 {
				t.Fatalf("region shows %v, want the window's yellow", got)
			}
			// Without sound there is no audio stream, and the MP4 still plays.
			if out, _ := exec.Command(testenv.Require(t, "ffprobe"), "-v", "error", "-select_streams", "a",
				"-show_entries", "stream=index", "-of", "csv", st.Result.MP4).Output(); len(strings.TrimSpace(string(out))) > 0 {
				t.Errorf("an audio stream without sound sources: %s", out)
			}
			playsToTheEnd(t, st.Result.MP4)
		})
	}
}

// A recording with a duration ends by itself; the frame writer may finish
// before capture has asked to stop (here it always does), and that is
// the normal end, not ffmpeg failing (it used to be: ffmpeg was killed
// two seconds later and the recording lost, once in a few CI runs).
func TestDurationEndsCleanlyWhateverFinishesFirst(t *testing.T) {
	d := xvfb(t, 640, 480)
	win, err := screentest.NewWindow(d.Name, rect(0, 0, 320, 240))
	if err != nil {
		t.Fatal(err)
	}
	defer win.Close()
	win.Fill(color.RGBA{0, 120, 250, 255})
	defer recorder.DelayStopRequest(300 * time.Millisecond)()
	r := start(t, recorder.Options{Region: rect(0, 0, 320, 240), Duration: time.Second})
	st := r.wait(20 * time.Second)
	if st.Err != nil {
		t.Fatalf("a recording that reached its duration failed: %v", st.Err)
	}
	if st.Result.Frames != 30 {
		t.Errorf("%d frames, want 30", st.Result.Frames)
	}
	playsToTheEnd(t, st.Result.MP4)
}

func TestBadInputFailsBeforeWritingAnything(t *testing.T) {
	xvfb(t, 640, 480)
	ro := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", ro).CombinedOutput(); err != nil {
		t.Fatalf("mount a read-only tmpfs (tests run as root): %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", ro).Run() })
	noFFmpeg := t.TempDir()

	for _, c := range []struct {
		name string
		opts recorder.Options
		env  map[string]string
		want string
	}{
		{"unknown display", recorder.Options{Display: 3}, nil, "display 3 does not exist"},
		{"region off screen", recorder.Options{Region: rect(500, 400, 320, 240)}, nil, "not on the desktop"},
		{"unknown microphone", recorder.Options{Mic: "no-such-mic"}, nil, `microphone "no-such-mic" not found`},
		{"unwritable folder", recorder.Options{Dir: filepath.Join(ro, "rec")}, nil, "cannot create the output folder"},
		{"ffmpeg missing", recorder.Options{}, map[string]string{"PATH": noFFmpeg, "FRAMECAST_FFMPEG": ""}, "ffmpeg not found"},
		{"bad frame rate", recorder.Options{FPS: 500}, nil, "out of range"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			if c.opts.Dir == "" {
				c.opts.Dir = filepath.Join(t.TempDir(), "rec")
			}
			rec, err := recorder.Start(context.Background(), c.opts)
			if err == nil {
				rec.Cancel()
				t.Fatal("Start succeeded")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not say %q", err, c.want)
			}
			if _, serr := os.Stat(c.opts.Dir); serr == nil {
				t.Fatalf("%s was left behind", c.opts.Dir)
			}
		})
	}
}

// TestDiskFillingUp records onto a 2 MB disk: the recording stops with a
// clear error, what was announced is intact, nothing incomplete is left.
func TestDiskFillingUp(t *testing.T) {
	d := xvfb(t, 640, 480)
	win, err := screentest.NewWindow(d.Name, rect(0, 0, 640, 480))
	if err != nil {
		t.Fatal(err)
	}
	defer win.Close()
	stop := win.Animate(30)
	defer stop()
	disk := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", disk).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs (tests run as root): %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", disk).Run() })

	r := start(t, recorder.Options{Dir: filepath.Join(disk, "rec"), Duration: 60 * time.Second, Preset: "ultrafast"})
	st := r.wait(90 * time.Second)
	if !errors.Is(st.Err, recorder.ErrDiskFull) || !strings.Contains(st.Err.Error(), "Free up space") {
		t.Fatalf("stopped with %v, want a disk-full error", st.Err)
	}
	if st.Result.Duration >= 60*time.Second {
		t.Fatal("the recording ran its full length on a 2 MB disk")
	}
	var sawError bool
	var announced []string
	for _, ev := range r.all() {
		switch ev := ev.(type) {
		case recorder.Error:
			sawError = true
		case recorder.SegmentClosed:
			announced = append(announced, ev.Path)
			if err := encode.VerifyFragment(ev.Path, ev.Init); err != nil {
				t.Errorf("announced segment is damaged: %v", err)
			}
		}
	}
	if !sawError || len(announced) < 2 {
		t.Fatalf("error event %v, %d segments announced", sawError, len(announced))
	}
	dir := filepath.Join(disk, "rec")
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range left {
		base := filepath.Base(f)
		switch {
		case base == recorder.MP4Name || strings.HasSuffix(base, ".part") || strings.HasSuffix(base, ".tmp"):
			t.Errorf("%s left behind", base)
		case strings.HasSuffix(base, ".m4s"):
			if err := encode.VerifyFragment(f, false); err != nil {
				t.Errorf("incomplete segment left behind: %v", err)
			}
		}
	}
	// The recorder stops while there is room to finish the segment in
	// progress, so the playlist may be complete; it must list only
	// whole segments.
	if p, err := encode.ReadPlaylist(dir); err == nil {
		for _, sg := range p.Segments {
			if err := encode.VerifyFragment(filepath.Join(dir, sg.File), false); err != nil {
				t.Errorf("playlist lists a damaged segment: %v", err)
			}
		}
	}
	t.Logf("stopped after %v with %d segments: %v", st.Result.Duration, st.Result.Segments, st.Err)
}

// TestFFmpegDyingKeepsClosedSegments kills the encoder mid-recording.
func TestFFmpegDyingKeepsClosedSegments(t *testing.T) {
	d := xvfb(t, 640, 480)
	win, err := screentest.NewWindow(d.Name, rect(0, 0, 640, 480))
	if err != nil {
		t.Fatal(err)
	}
	defer win.Close()
	stop := win.Animate(30)
	defer stop()
	r := start(t, recorder.Options{Mic: mic})
	deadline := time.Now().Add(15 * time.Second)
	for r.rec.Status().Segments < 1 {
		if time.Now().After(deadline) {
			t.Fatal("no segment within 15 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	pid := childFFmpeg(t, "libx264")
	if err := syscallKill(pid); err != nil {
		t.Fatal(err)
	}
	select {
	case <-r.done:
	case <-time.After(20 * time.Second):
		t.Fatal("the recorder did not notice ffmpeg dying")
	}
	st := r.stopped()
	if st.Err == nil || !strings.Contains(st.Err.Error(), "ffmpeg stopped") || !strings.Contains(st.Err.Error(), "segment(s) recorded before that are kept") {
		t.Fatalf("stopped with %v", st.Err)
	}
	for _, ev := range r.all() {
		if sc, ok := ev.(recorder.SegmentClosed); ok {
			if err := encode.VerifyFragment(sc.Path, sc.Init); err != nil {
				t.Errorf("segment %d: %v", sc.Index, err)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(r.dir, recorder.MP4Name)); err == nil {
		t.Error("an MP4 was made from a failed recording")
	}
}

func TestCancelRemovesTheFolder(t *testing.T) {
	xvfb(t, 320, 240)
	r := start(t, recorder.Options{})
	time.Sleep(500 * time.Millisecond)
	r.rec.Cancel()
	<-r.done
	if _, err := os.Stat(r.dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("folder still there after Cancel: %v", err)
	}
	if st := r.stopped(); st.Err != nil || st.Result.MP4 != "" {
		t.Fatalf("Stopped after Cancel: %+v", st)
	}
}
