package recorder

import (
	"context"
	"testing"
	"time"
)

func TestClockExcludesPauses(t *testing.T) {
	t0 := time.Now()
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	c := newClock(t0)
	if m := c.media(at(1000)); m != time.Second {
		t.Fatalf("media at 1s = %v", m)
	}
	c.pause(at(1000))
	if m := c.media(at(1500)); m != time.Second {
		t.Fatalf("media while paused = %v", m)
	}
	c.resume(at(2000))
	if m := c.media(at(2500)); m != 1500*time.Millisecond {
		t.Fatalf("media after resume = %v", m)
	}
	// Sound captured from 0.8 s to 2.2 s: 0.8–1.0 at media 0.8, the
	// paused second dropped, 2.0–2.2 at media 1.0.
	ps := c.pieces(at(800), 1400*time.Millisecond)
	want := []piece{
		{skip: 0, len: 200 * time.Millisecond, media: 800 * time.Millisecond},
		{skip: 1200 * time.Millisecond, len: 200 * time.Millisecond, media: time.Second},
	}
	if len(ps) != 2 || ps[0] != want[0] || ps[1] != want[1] {
		t.Fatalf("pieces = %+v", ps)
	}
	// Before the start: dropped.
	if ps := c.pieces(t0.Add(-time.Second), 1100*time.Millisecond); len(ps) != 1 || ps[0].skip != time.Second || ps[0].media != 0 {
		t.Fatalf("pieces across the start = %+v", ps)
	}
	// While paused: nothing after the pause began.
	c.pause(at(3000))
	if ps := c.pieces(at(2900), 300*time.Millisecond); len(ps) != 1 || ps[0].len != 100*time.Millisecond {
		t.Fatalf("pieces across an open pause = %+v", ps)
	}
}

func TestClockWaitUntilBlocksWhilePaused(t *testing.T) {
	c := newClock(time.Now())
	c.pause(time.Now())
	done := make(chan error, 1)
	go func() { done <- c.waitUntil(context.Background(), 20*time.Millisecond) }()
	select {
	case <-done:
		t.Fatal("waitUntil returned while paused")
	case <-time.After(80 * time.Millisecond):
	}
	c.resume(time.Now())
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Second):
		t.Fatal("waitUntil did not return after resume")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.waitUntil(ctx, time.Hour); err == nil {
		t.Fatal("waitUntil ignored a cancelled context")
	}
}

func TestMixerSumsAlignsAndFillsGaps(t *testing.T) {
	m := newMixer(2)
	ones := func(frames int, v float32) []float32 {
		s := make([]float32, frames*2)
		for i := range s {
			s[i] = v
		}
		return s
	}
	m.add(0, 0, ones(100, 0.25))
	m.add(1, 50, ones(100, 0.5))
	m.add(0, 120, ones(10, 0.25)) // gap 100–120 in track 0
	out := m.read(130, nil)
	if len(out) != 260 {
		t.Fatalf("len %d", len(out))
	}
	check := func(f int, want float32) {
		if out[f*2] != want || out[f*2+1] != want {
			t.Errorf("frame %d = %v, want %v", f, out[f*2], want)
		}
	}
	check(0, 0.25)
	check(60, 0.75)
	check(110, 0.5)
	check(125, 0.75)
	// Late data is dropped, the rest of the chunk kept.
	m.add(0, 120, ones(20, 0.125))
	out = m.read(140, nil)
	if len(out) != 20 || out[0] != 0.625 {
		t.Fatalf("after late data: %v", out)
	}
	if l := m.lateFrames(0); l != 10 {
		t.Fatalf("late = %d", l)
	}
}

func TestAlignerAbsorbsJitterOnly(t *testing.T) {
	var a aligner
	if p := a.place(1000, 4800); p != 1000 {
		t.Fatal(p)
	}
	if p := a.place(5800+300, 4800); p != 5800 { // 6 ms early/late: contiguous
		t.Fatalf("jitter not absorbed: %d", p)
	}
	if p := a.place(10600+48000, 4800); p != 58600 { // 1 s later: a jump
		t.Fatalf("jump not taken: %d", p)
	}
}
