package backoff

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestCeilingDoublesUpToMax(t *testing.T) {
	b := New(0, 100*time.Millisecond, time.Second)
	b.Rand = func() float64 { return 0.999999 }
	want := []time.Duration{100, 200, 400, 800, 1000, 1000, 1000}
	for i, w := range want {
		w *= time.Millisecond
		if c := b.Ceiling(); c != w {
			t.Fatalf("ceiling after %d failures = %v, want %v", i, c, w)
		}
		if d := b.Next(); d > w || d < w*99/100 {
			t.Fatalf("wait %d = %v, want just under %v", i, d, w)
		}
	}
	if b.Failures() != len(want) {
		t.Fatalf("failures = %d", b.Failures())
	}
	b.Reset()
	if b.Failures() != 0 || b.Ceiling() != 100*time.Millisecond {
		t.Fatalf("after reset: %d failures, ceiling %v", b.Failures(), b.Ceiling())
	}
}

func TestFullJitterSpreadsAndKeepsTheFloor(t *testing.T) {
	b := New(50*time.Millisecond, time.Second, time.Second)
	b.Rand = func() float64 { return 0 }
	if d := b.Next(); d != 50*time.Millisecond {
		t.Fatalf("wait with a zero draw = %v, want the floor", d)
	}
	// With the real generator the waits spread over the whole range.
	b = New(0, time.Second, time.Second)
	lo, hi := time.Hour, time.Duration(0)
	for range 1000 {
		d := b.Next()
		if d < 0 || d >= time.Second {
			t.Fatalf("wait %v outside [0, 1s)", d)
		}
		lo, hi = min(lo, d), max(hi, d)
	}
	if lo > 100*time.Millisecond || hi < 900*time.Millisecond {
		t.Fatalf("1000 waits span only %v..%v: not full jitter", lo, hi)
	}
}

func TestFloorAboveCeilingIsClamped(t *testing.T) {
	b := New(time.Minute, time.Millisecond, 10*time.Millisecond)
	b.Rand = func() float64 { return 0 }
	if d := b.Next(); d != time.Millisecond {
		t.Fatalf("wait = %v, want the ceiling when the floor is above it", d)
	}
}

func TestSleep(t *testing.T) {
	start := time.Now()
	if err := Sleep(context.Background(), 20*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) < 20*time.Millisecond {
		t.Fatal("Sleep returned early")
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(10 * time.Millisecond); cancel() }()
	start = time.Now()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep after cancel = %v", err)
	}
	if time.Since(start) > time.Second {
		t.Fatal("Sleep ignored the cancelled context")
	}
	wake := make(chan struct{}, 1)
	wake <- struct{}{}
	if err := SleepOrWake(context.Background(), time.Hour, wake); err != nil {
		t.Fatalf("SleepOrWake woken = %v", err)
	}
	done, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if err := Sleep(done, 0); err == nil {
		t.Fatal("Sleep(0) on a done context returned nil")
	}
}
