package audio

import "time"

// stamper estimates when each block a device delivers was captured.
//
// A block arrives some time after its last sample was captured, and that
// delay varies with scheduling but never goes below the device's fixed
// latency. So every callback gives an upper bound on the time the stream's
// first sample was captured (arrival − samples delivered so far ÷ rate), and
// the smallest bound seen recently is the best estimate. "Recently" (a
// sliding window) lets the estimate follow a device clock that runs slower
// than ours and recover after a dropout.
type stamper struct {
	rate   float64
	window time.Duration
	frames int64 // delivered so far
	// candidates for the minimum, oldest first, origins increasing
	q []origin
}

type origin struct {
	seen time.Time // arrival of the callback that produced it
	at   time.Time // implied capture time of sample 0
}

func newStamper(rate int, window time.Duration) *stamper {
	return &stamper{rate: float64(rate), window: window}
}

// stamp records a callback that delivered n frames at now and returns the
// estimated capture time of its first frame.
func (s *stamper) stamp(now time.Time, n int) time.Time {
	start := s.frames
	s.frames += int64(n)
	o := origin{seen: now, at: now.Add(-s.dur(s.frames))}
	for len(s.q) > 0 && !s.q[len(s.q)-1].at.Before(o.at) {
		s.q = s.q[:len(s.q)-1]
	}
	s.q = append(s.q, o)
	for len(s.q) > 1 && now.Sub(s.q[0].seen) > s.window {
		s.q = s.q[1:]
	}
	return s.q[0].at.Add(s.dur(start))
}

func (s *stamper) dur(frames int64) time.Duration {
	return time.Duration(float64(frames) / s.rate * float64(time.Second))
}
