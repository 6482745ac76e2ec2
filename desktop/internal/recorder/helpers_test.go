//go:build linux

package recorder_test

import (
	"bufio"
	"context"
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"framecast.dev/desktop/internal/recorder"
	"framecast.dev/shared/testenv"
)

// One PulseAudio server for the package (a fresh null sink takes ~2 s to
// settle), with a stand-in microphone.
var (
	pulse   *testenv.Pulse
	mic     string // the microphone's source id
	micSink string // play into this to be heard on mic
)

func TestMain(m *testing.M) {
	var err error
	if pulse, mic, micSink, err = testenv.PulseForPackage("fakemic"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	pulse.Stop()
	os.Exit(code)
}

// xvfb starts a private X server for a recording test. Recording tests
// measure frame rates and timing, so they take turns with those of other
// packages (testenv.Exclusive).
func xvfb(t *testing.T, w, h int) *testenv.Display {
	t.Helper()
	testenv.Exclusive(t, "recording")
	d := testenv.Xvfb(t, w, h)
	t.Setenv("DISPLAY", d.Name)
	return d
}

// run is a recording under test with every event it emitted.
type run struct {
	t      *testing.T
	rec    *recorder.Recorder
	dir    string
	mu     sync.Mutex
	events []recorder.Event
	done   chan struct{}
}

func start(t *testing.T, opts recorder.Options) *run {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = filepath.Join(t.TempDir(), "rec")
	}
	if opts.Preset == "" {
		opts.Preset = "veryfast"
	}
	rec, err := recorder.Start(context.Background(), opts)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	r := &run{t: t, rec: rec, dir: opts.Dir, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for ev := range rec.Events() {
			r.mu.Lock()
			r.events = append(r.events, ev)
			r.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		select {
		case <-rec.Done():
		default:
			rec.Cancel()
		}
	})
	return r
}

// wait waits for the recording to end by itself and returns Stopped.
func (r *run) wait(timeout time.Duration) recorder.Stopped {
	r.t.Helper()
	select {
	case <-r.done:
	case <-time.After(timeout):
		r.t.Fatalf("recording did not end within %v", timeout)
	}
	return r.stopped()
}

func (r *run) stopped() recorder.Stopped {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.events) == 0 {
		r.t.Fatal("no events")
	}
	st, ok := r.events[len(r.events)-1].(recorder.Stopped)
	if !ok {
		r.t.Fatalf("last event is %T, not Stopped", r.events[len(r.events)-1])
	}
	return st
}

func (r *run) all() []recorder.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recorder.Event(nil), r.events...)
}

// segmentsBefore counts media segments announced before the recording
// began to stop.
func (r *run) segmentsBefore() int {
	n := 0
	for _, ev := range r.all() {
		switch ev := ev.(type) {
		case recorder.SegmentClosed:
			if !ev.Init {
				n++
			}
		case recorder.StateChanged:
			if ev.State == recorder.Stopping {
				return n
			}
		}
	}
	return n
}

// probe returns ffprobe's key=value facts about a stream ("v:0", "a:0")
// or the format ("").
func probe(t *testing.T, file, stream string) map[string]string {
	t.Helper()
	args := []string{"-v", "error", "-of", "default=nw=1"}
	if stream == "" {
		args = append(args, "-show_entries", "format=duration,format_name")
	} else {
		args = append(args, "-select_streams", stream, "-show_entries",
			"stream=codec_name,width,height,pix_fmt,nb_frames,duration,start_time,r_frame_rate,sample_rate,channels")
	}
	out, err := exec.Command(testenv.Require(t, "ffprobe"), append(args, file)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe %s: %v\n%s", file, err, out)
	}
	m := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			m[k] = v
		}
	}
	return m
}

func num(t *testing.T, m map[string]string, k string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(m[k], 64)
	if err != nil {
		t.Fatalf("%s=%q: %v (%v)", k, m[k], err, m)
	}
	return v
}

// playsToTheEnd decodes the whole file.
func playsToTheEnd(t *testing.T, file string) {
	t.Helper()
	out, err := exec.Command(testenv.Require(t, "ffmpeg"), "-v", "error", "-i", file, "-f", "null", "-").CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("%s does not decode cleanly: %v\n%s", file, err, out)
	}
}

// wav writes a WAV made by sox's synth arguments.
func wav(t *testing.T, synth ...string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "sound.wav")
	args := append([]string{"-n", "-r", "48000", "-c", "2", f, "synth"}, synth...)
	if out, err := exec.Command(testenv.Require(t, "sox"), args...).CombinedOutput(); err != nil {
		t.Fatalf("sox: %v %s", err, out)
	}
	return f
}

// play plays a WAV into a sink in the background (low latency: a null sink
// with a high-latency client renders seconds ahead in bursts).
func play(t *testing.T, sink, file string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(testenv.Require(t, "paplay"), "--latency-msec=20", "--device="+sink, file)
	cmd.Env = append(os.Environ(), pulse.Env()...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}

func rect(x, y, w, h int) image.Rectangle { return image.Rect(x, y, x+w, y+h) }
