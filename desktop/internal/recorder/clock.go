package recorder

import (
	"context"
	"sync"
	"time"
)

// clock is the recording's timeline: media time is wall time since the
// start minus the time spent paused. Frames and audio samples are both
// placed by it, which is what keeps them in sync across pauses.
type clock struct {
	mu       sync.Mutex
	start    time.Time
	paused   bool
	pausedAt time.Time
	pauses   []span        // finished pauses, in order
	total    time.Duration // their summed length
	change   chan struct{} // closed and replaced on every pause/resume
	epoch    int           // counts pauses
}

type span struct{ from, to time.Time }

func newClock(start time.Time) *clock {
	return &clock{start: start, change: make(chan struct{})}
}

// setStart moves media time 0 to t; only before anything is recorded.
func (c *clock) setStart(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.start = t
}

// media is the media time at wall time now (frozen while paused).
func (c *clock) media(now time.Time) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mediaLocked(now)
}

func (c *clock) mediaLocked(now time.Time) time.Duration {
	if c.paused && now.After(c.pausedAt) {
		now = c.pausedAt
	}
	m := now.Sub(c.start) - c.total
	if m < 0 {
		return 0
	}
	return m
}

func (c *clock) pause(now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.paused {
		return false
	}
	c.paused, c.pausedAt = true, now
	c.epoch++
	close(c.change)
	c.change = make(chan struct{})
	return true
}

func (c *clock) resume(now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.paused {
		return false
	}
	c.paused = false
	c.pauses = append(c.pauses, span{c.pausedAt, now})
	c.total += now.Sub(c.pausedAt)
	close(c.change)
	c.change = make(chan struct{})
	return true
}

// pauseCount is how many times the clock has been paused, for noticing a
// pause that began during an operation.
func (c *clock) pauseCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.epoch
}

func (c *clock) isPaused() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.paused
}

// waitUntil returns once media time has reached m, or ctx is done.
func (c *clock) waitUntil(ctx context.Context, m time.Duration) error {
	var t *time.Timer
	defer func() {
		if t != nil {
			t.Stop()
		}
	}()
	for {
		c.mu.Lock()
		now := time.Now()
		cur := c.mediaLocked(now)
		paused, change := c.paused, c.change
		c.mu.Unlock()
		if !paused && cur >= m {
			return nil
		}
		var tc <-chan time.Time
		if !paused {
			if t == nil {
				t = time.NewTimer(m - cur)
			} else {
				t.Reset(m - cur)
			}
			tc = t.C
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-change:
		case <-tc:
		}
	}
}

// piece is the part of a captured span that falls on the timeline.
type piece struct {
	skip  time.Duration // from the span's start
	len   time.Duration
	media time.Duration // where it goes
}

// pieces maps sound captured over [from, from+d) onto the timeline,
// leaving out what was captured before the start and while paused.
func (c *clock) pieces(from time.Time, d time.Duration) []piece {
	c.mu.Lock()
	defer c.mu.Unlock()
	to := from.Add(d)
	var out []piece
	cur := c.start // running since cur
	var before time.Duration
	emit := func(runFrom, runTo time.Time) {
		a, b := maxTime(from, runFrom), runTo
		if b.After(to) {
			b = to
		}
		if b.After(a) {
			out = append(out, piece{skip: a.Sub(from), len: b.Sub(a), media: a.Sub(c.start) - before})
		}
	}
	for _, p := range c.pauses {
		emit(cur, p.from)
		before += p.to.Sub(p.from)
		cur = p.to
	}
	if c.paused {
		emit(cur, c.pausedAt)
	} else {
		emit(cur, to)
	}
	return out
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
