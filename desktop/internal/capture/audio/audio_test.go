package audio_test

import (
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"framecast.dev/desktop/internal/capture/audio"
	"framecast.dev/shared/testenv"
)

// One PulseAudio server for the package: a fresh null sink takes ~2 s to
// settle into low latency (see testenv).
var (
	srv     *testenv.Pulse
	mic     string // a stand-in microphone's source id
	micSink string // play into this to be heard on mic
)

func TestMain(m *testing.M) {
	var err error
	if srv, mic, micSink, err = testenv.PulseForPackage("fakemic"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	srv.Stop()
	os.Exit(code)
}

// goertzel is the amplitude of the hz component of s.
func goertzel(s []float32, hz float64) float64 {
	w := 2 * math.Pi * hz / audio.Rate
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, x := range s {
		s0 := float64(x) + c*s1 - s2
		s2, s1 = s1, s0
	}
	return 2 * math.Sqrt(math.Max(s1*s1+s2*s2-c*s1*s2, 0)) / float64(len(s))
}

// playTone plays a sine of hz for secs seconds into sink, in the background.
// A low latency keeps the null sink from rendering seconds ahead in bursts.
func playTone(t *testing.T, p *testenv.Pulse, sink string, hz, secs int) {
	wav := filepath.Join(t.TempDir(), "tone.wav")
	gen := exec.Command(testenv.Require(t, "sox"), "-n", "-r", "48000", "-c", "2", wav,
		"synth", strconv.Itoa(secs), "sine", strconv.Itoa(hz), "vol", "0.5")
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

func TestDevicesSplitsMicsFromMonitors(t *testing.T) {
	p := srv
	ctx, err := audio.NewContext(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Close()
	ds, err := ctx.Devices()
	if err != nil {
		t.Fatal(err)
	}
	// A null sink's monitor is system audio, never a microphone.
	if len(ds.Microphones) != 0 {
		t.Fatalf("microphones = %+v", ds.Microphones)
	}
	if len(ds.System) != 2 || !ds.System[0].Default || ds.System[1].Default {
		t.Fatalf("system = %+v", ds.System)
	}
	if d, err := ctx.Find(audio.System, "default"); err != nil || d.ID != p.Monitor {
		t.Fatalf("default system audio = %+v, %v; want %s", d, err, p.Monitor)
	}
	if d, err := ctx.Find(audio.Microphone, mic); err != nil || d.ID != mic {
		t.Fatalf("explicit mic %s = %+v, %v", mic, d, err)
	}
	if _, err := ctx.Find(audio.Microphone, "nope"); !errors.Is(err, audio.ErrNoDevice) {
		t.Fatalf("unknown mic: %v", err)
	}
}

func TestNoMicrophoneWhenOnlyMonitors(t *testing.T) {
	ctx, err := audio.NewContext(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Close()
	if _, err := ctx.Find(audio.Microphone, "default"); !errors.Is(err, audio.ErrNoDevice) {
		t.Fatalf("default mic with none present: %v", err)
	}
}

func TestCaptureDeliversStampedTone(t *testing.T) {
	testenv.Exclusive(t, "recording") // timing-sensitive; see recorder's tests
	playTone(t, srv, micSink, 440, 3)
	ctx, err := audio.NewContext(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Close()

	var mu sync.Mutex
	var samples []float32
	var starts []time.Time
	var frames []int
	var arrived []time.Time
	src, err := ctx.Open(audio.Microphone, mic, func(c audio.Chunk) {
		mu.Lock()
		defer mu.Unlock()
		samples = append(samples, c.Samples...)
		starts = append(starts, c.Start)
		frames = append(frames, c.Frames())
		arrived = append(arrived, time.Now())
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	if err := src.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { t.Logf("first chunk after %v", arrived[0].Sub(began)) }()
	time.Sleep(1500 * time.Millisecond)
	src.Close()
	mu.Lock()
	defer mu.Unlock()

	if len(samples) < audio.Rate/2*audio.Channels {
		t.Fatalf("only %d samples in 1.5 s", len(samples))
	}
	// The strongest frequency near 440 Hz must be 440 Hz (a player that
	// stutters under load leaves gaps, which do not move the peak).
	left := make([]float32, 0, len(samples)/2)
	for i := 2 * 4800; i < len(samples)-2*4800; i += 2 { // skip start-up
		left = append(left, samples[i])
	}
	best, bestHz := 0.0, 0
	for hz := 380; hz <= 500; hz += 20 {
		if l := goertzel(left, float64(hz)); l > best {
			best, bestHz = l, hz
		}
	}
	if bestHz != 440 || best < 0.1 {
		t.Fatalf("strongest tone at %d Hz (level %.3f), want 440 Hz", bestHz, best)
	}
	// Stamps must be contiguous and just behind the arrival times.
	n := len(starts)
	for i := n - 5; i < n; i++ {
		want := starts[i-1].Add(time.Duration(frames[i-1]) * time.Second / audio.Rate)
		if d := starts[i].Sub(want); d.Abs() > 2*time.Millisecond {
			t.Errorf("chunk %d starts %v after the previous one ends", i, d)
		}
	}
	end := starts[n-1].Add(time.Duration(frames[n-1]) * time.Second / audio.Rate)
	if lag := arrived[n-1].Sub(end); lag < 0 || lag > 300*time.Millisecond {
		t.Errorf("last chunk arrived %v after its stamped end", lag)
	}
	if db := audio.DBFS(0); db != -90 {
		t.Errorf("DBFS(0) = %v", db)
	}
}
