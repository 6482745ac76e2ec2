package audio

import (
	"math/rand"
	"testing"
	"time"
)

func TestStamperFindsCaptureTimeDespiteJitter(t *testing.T) {
	s := newStamper(48000, 2*time.Second)
	t0 := time.Now()
	rng := rand.New(rand.NewSource(1))
	const period = 4800 // 100 ms
	var got time.Time
	for i := 0; i < 50; i++ {
		// Captured at t0 + i×100ms, delivered 100 ms (the period) plus
		// 0–30 ms of scheduling delay later; one callback is exactly on time.
		delay := 100*time.Millisecond + time.Duration(rng.Intn(30))*time.Millisecond
		if i == 7 {
			delay = 100 * time.Millisecond
		}
		now := t0.Add(time.Duration(i+1)*100*time.Millisecond + delay - 100*time.Millisecond)
		got = s.stamp(now, period)
		if i >= 7 {
			want := t0.Add(time.Duration(i) * 100 * time.Millisecond)
			if d := got.Sub(want); d < -time.Millisecond || d > time.Millisecond {
				t.Fatalf("block %d stamped %v off", i, d)
			}
		}
	}
}

func TestStamperRecoversAfterDropout(t *testing.T) {
	s := newStamper(48000, time.Second)
	t0 := time.Now()
	now := t0
	for i := 0; i < 10; i++ {
		now = now.Add(100 * time.Millisecond)
		s.stamp(now, 4800)
	}
	// 500 ms of sound lost: the device delivers the next block late.
	now = now.Add(600 * time.Millisecond)
	s.stamp(now, 4800)
	for i := 0; i < 15; i++ {
		now = now.Add(100 * time.Millisecond)
		got := s.stamp(now, 4800)
		if want := now.Add(-100 * time.Millisecond); i > 10 && got.Sub(want).Abs() > time.Millisecond {
			t.Fatalf("after the window the stamp is %v off", got.Sub(want))
		}
	}
}
