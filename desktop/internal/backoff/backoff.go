// Package backoff spaces out retries: exponential growth with full jitter,
// capped, reset on success, and a sleep that gives way to a context.
//
// Full jitter (a uniformly random wait between Min and the exponential
// ceiling) rather than a fixed doubling, because many clients that failed
// together (a server restart) would otherwise retry together, in waves.
// The floor Min keeps a run of unlucky draws from turning into a busy loop.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff hands out the waits between attempts of one thing. The zero
// value is not useful: set at least Base and Max, or use New. Not safe for
// concurrent use; give each retried thing its own.
type Backoff struct {
	Min  time.Duration // no wait is shorter (default 0)
	Base time.Duration // ceiling of the first wait
	Max  time.Duration // the ceiling never grows past this
	// Rand returns a number in [0, 1); nil means math/rand/v2. Tests set it
	// to make waits predictable.
	Rand func() float64

	failures int
}

// New returns a Backoff whose ceilings go base, 2·base, 4·base, ... up to
// max, never waiting less than min.
func New(min, base, max time.Duration) *Backoff {
	return &Backoff{Min: min, Base: base, Max: max}
}

// Next records a failure and returns how long to wait before the next
// attempt.
func (b *Backoff) Next() time.Duration {
	ceiling := b.Ceiling()
	b.failures++
	r := rand.Float64
	if b.Rand != nil {
		r = b.Rand
	}
	d := time.Duration(r() * float64(ceiling))
	return max(d, min(b.Min, ceiling))
}

// Ceiling is the longest wait the next failure can bring.
func (b *Backoff) Ceiling() time.Duration {
	c := b.Base
	for i := 0; i < b.failures && c < b.Max; i++ {
		c *= 2
	}
	return max(min(c, b.Max), 0)
}

// Failures is the number of failures since the last Reset.
func (b *Backoff) Failures() int { return b.failures }

// Reset forgets the failures, after a success.
func (b *Backoff) Reset() { b.failures = 0 }

// Sleep waits d, or less if ctx ends first (then it returns ctx.Err()).
func Sleep(ctx context.Context, d time.Duration) error {
	return SleepOrWake(ctx, d, nil)
}

// SleepOrWake is Sleep that also ends early, returning nil, when wake
// yields (a new job to try, for example). A nil wake never fires.
func SleepOrWake(ctx context.Context, d time.Duration, wake <-chan struct{}) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	case <-wake:
		return nil
	}
}
