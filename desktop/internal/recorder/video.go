package recorder

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"framecast.dev/desktop/internal/capture"
)

// videoPipe grabs frames on the clock's beat and writes them to ffmpeg.
//
// Frame n belongs at media time n/fps, always: when a grab is late (the
// machine is busy, ffmpeg is behind) the beats that passed get no frame,
// ffmpeg repeats the previous one for them, and the fresh grab goes where
// the clock now is. So the video never drifts from the sound; it gets
// choppier instead, and the missed beats are counted as dropped frames.
// Only fresh frames travel to ffmpeg, so being behind costs no extra work.
type videoPipe struct {
	scr   capture.Screen
	fmt   frameFormat
	out   func([]byte, int64) error // encode.Session.WriteFrame
	fps   int
	clock *clock
	max   int64 // stop after this many frames (0: no limit)

	free  chan []byte
	queue chan frameItem
	first []byte // frame 0, written by prime

	frames   atomic.Int64 // frames in the video so far
	captured atomic.Int64 // of which fresh grabs
	dropped  atomic.Int64 // of which repeats
	grabErrs atomic.Int64 // consecutive failed grabs
}

type frameItem struct {
	buf   []byte
	index int64 // frame number: media time index/fps
}

// poolSize is how many frame buffers to keep: one being written, one being
// grabbed, and enough queued to ride out 200 ms of ffmpeg being slow,
// within 48 MB (6 at 30 fps: 3 MB converted frames at 1080p, or 5 raw
// 8 MB grabs where ffmpeg converts).
func poolSize(fps, frameBytes int) int {
	n := max(fps/5, 4)
	return max(min(n, 48<<20/frameBytes), 3)
}

// queueSize can hold every buffer of the pool.
const queueSize = 64

func newVideoPipe(scr capture.Screen, ff frameFormat, out func([]byte, int64) error, fps int, c *clock, max int64) (*videoPipe, error) {
	pool := poolSize(fps, ff.bytes)
	v := &videoPipe{scr: scr, fmt: ff, out: out, fps: fps, clock: c, max: max,
		free: make(chan []byte, pool), queue: make(chan frameItem, queueSize)}
	for i := 0; i < pool; i++ {
		b, err := ff.newBuffer(scr)
		if err != nil {
			return nil, fmt.Errorf("allocate frame buffers: %w", err)
		}
		v.free <- b
	}
	return v, nil
}

// prime readies the pipeline before the clock starts, and returns how
// many frames it put in the video.
//
// Every buffer is grabbed into once (the first touch of fresh shared
// memory costs tens of milliseconds at 1080p). Then the first grab goes to
// ffmpeg, whose encoder only starts when it sees a frame, and is repeated
// until ffmpeg takes a frame in under half a frame interval: its first
// frames are slow (x264 warming up, the muxer starting), and without this
// the first half second of a 1080p recording drops frames. The repeats are
// at most a third of a second of the first grab at the start of the video.
// ready is closed when the encoder has produced output; died when ffmpeg
// exited.
func (v *videoPipe) prime(ready, died <-chan struct{}, timeout time.Duration) (int64, error) {
	var all [][]byte
	for len(v.free) > 0 {
		all = append(all, <-v.free)
	}
	var sink byte
	for _, b := range all {
		if err := v.fmt.grab(v.scr, b); err != nil {
			return 0, fmt.Errorf("grab the screen: %w", err)
		}
		for i := 0; i < len(b); i += 4096 {
			sink += b[i]
		}
	}
	_ = sink
	v.first = all[0]
	if err := v.fmt.grab(v.scr, v.first); err != nil {
		return 0, fmt.Errorf("grab the screen: %w", err)
	}
	for _, b := range all[1:] {
		v.free <- b
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	var index int64
	write := func() (time.Duration, error) {
		start := time.Now()
		done := make(chan error, 1)
		go func(i int64) { done <- v.out(v.first, i) }(index)
		index++
		select {
		case err := <-done:
			if err != nil {
				return 0, fmt.Errorf("send the first frame to ffmpeg: %w", err)
			}
			return time.Since(start), nil
		case <-died:
			return 0, errors.New("ffmpeg quit before encoding the first frame")
		case <-deadline.C:
			return 0, fmt.Errorf("ffmpeg did not start encoding within %v", timeout)
		}
	}
	isReady := func() bool {
		select {
		case <-ready:
			return true
		default:
			return false
		}
	}
	// The fps filter passes a frame on when the next one arrives, so the
	// encoder starts (and ready closes) after the second frame.
	n := int64(0)
	for limit := int64(v.fps/3 + 2); n < limit; {
		took, err := write()
		if err != nil {
			return 0, err
		}
		n++
		if n >= 2 && isReady() && took < time.Second/time.Duration(2*v.fps) {
			break
		}
	}
	select {
	case <-ready:
	case <-died:
		return 0, errors.New("ffmpeg quit before encoding the first frame")
	case <-deadline.C:
		return 0, fmt.Errorf("ffmpeg did not start encoding within %v", timeout)
	}
	v.frames.Store(n)
	v.captured.Store(n)
	return n, nil
}

func (v *videoPipe) frameTime(n int64) time.Duration {
	return time.Duration(n) * time.Second / time.Duration(v.fps)
}

// capture runs the beat until ctx is done or max frames are taken, and
// returns the number of frames in the video. It closes the queue.
func (v *videoPipe) capture(ctx context.Context) (int64, error) {
	defer close(v.queue)
	n := v.frames.Load() // frames 0..n-1 were written by prime
	for v.max == 0 || n < v.max {
		if err := v.clock.waitUntil(ctx, v.frameTime(n)); err != nil {
			return n, nil
		}
		epoch := v.clock.pauseCount()
		// The frame the clock is at now; frames before it were missed.
		cur := int64(v.clock.media(time.Now()) * time.Duration(v.fps) / time.Second)
		if v.max > 0 && cur >= v.max {
			cur = v.max - 1
		}
		if cur > n {
			v.dropped.Add(cur - n)
			n = cur
		}
		select {
		case buf := <-v.free:
			err := v.fmt.grab(v.scr, buf)
			switch {
			case err != nil:
				v.free <- buf
				v.dropped.Add(1)
				if v.grabErrs.Add(1) >= int64(v.fps) {
					return n, fmt.Errorf("screen capture failed for a second: %w", err)
				}
			case v.clock.pauseCount() != epoch:
				// Paused while grabbing: the picture may already show what
				// the pause is meant to leave out. Grab again after it.
				v.free <- buf
				continue
			default:
				v.grabErrs.Store(0)
				select {
				case v.queue <- frameItem{buf: buf, index: n}:
					v.captured.Add(1)
				case <-ctx.Done():
					v.free <- buf
					return n, nil
				}
			}
		default:
			// Every buffer is still on its way to ffmpeg: it is behind.
			// This beat gets the previous frame, at no cost.
			v.dropped.Add(1)
		}
		n++
		v.frames.Store(n)
	}
	return n, nil
}

// write feeds ffmpeg until the queue closes, then makes sure the video
// reaches frame last (the end of the recording) even when the final beats
// had no fresh frame. An error means ffmpeg stopped taking frames. A buffer
// goes back to the pool only once the frame after it has been written:
// until then ffmpeg may still be reading it (see encode.Session.WriteFrame).
func (v *videoPipe) write(last func() int64) error {
	cur, index := v.first, v.frames.Load()-1 // what prime wrote last
	for it := range v.queue {
		if err := v.out(it.buf, it.index); err != nil {
			v.free <- it.buf
			// Keep draining so capture never blocks on a dead pipe.
			for it := range v.queue {
				v.free <- it.buf
			}
			return fmt.Errorf("send frames to ffmpeg: %w", err)
		}
		v.free <- cur
		cur, index = it.buf, it.index
	}
	if end := last(); end > index {
		if err := v.out(cur, end); err != nil {
			return fmt.Errorf("send frames to ffmpeg: %w", err)
		}
	}
	return nil
}
