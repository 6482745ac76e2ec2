package recorder

import (
	"encoding/binary"
	"io"
	"math"
	"sync"
	"time"

	"framecast.dev/desktop/internal/capture/audio"
)

// holdback is how far the sound written to ffmpeg trails the clock: a
// block arrives up to a period (100 ms) plus scheduling delay after its
// first sample was captured, and must be on the timeline before its turn.
const holdback = 500 * time.Millisecond

// primeFrames is one packet of ffmpeg's raw-audio demuxer.
const primeFrames = 1024

// audioPipe places every source's chunks on the timeline by their capture
// stamps, mixes them and writes the mix to ffmpeg at the clock's pace.
type audioPipe struct {
	clock *clock
	mix   *mixer
	out   io.Writer

	mu       sync.Mutex
	aligners []aligner
	peaks    []float32 // since the last levels()
	started  bool      // the clock has its final start
	early    []earlyChunk
}

// earlyChunk is sound that arrived before the clock's start was fixed;
// it may still hold the first moments of the recording.
type earlyChunk struct {
	track   int
	start   time.Time
	samples []float32
}

func newAudioPipe(c *clock, tracks int, out io.Writer) *audioPipe {
	return &audioPipe{clock: c, mix: newMixer(tracks), out: out,
		aligners: make([]aligner, tracks), peaks: make([]float32, tracks)}
}

func framesAt(d time.Duration) int64 {
	return int64(math.Round(d.Seconds() * audio.Rate))
}

// onChunk runs on the sound system's thread.
func (a *audioPipe) onChunk(track int, c audio.Chunk) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c.Peak > a.peaks[track] {
		a.peaks[track] = c.Peak
	}
	if !a.started {
		// The sources start before the encoder is primed, and the clock's
		// start is only fixed after that (backdated over the primed
		// frames): keep the last second until then.
		a.early = append(a.early, earlyChunk{track, c.Start, append([]float32(nil), c.Samples...)})
		for len(a.early) > 0 && c.Start.Sub(a.early[0].start) > time.Second {
			a.early = a.early[1:]
		}
		return
	}
	a.place(track, c.Start, c.Samples)
}

// begin is called once the clock's start is final: sound kept from before
// goes on the timeline, and from now on every block goes there directly.
func (a *audioPipe) begin() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.started = true
	for _, e := range a.early {
		a.place(e.track, e.start, e.samples)
	}
	a.early = nil
}

// place puts a block captured from start on the timeline; a.mu is held.
func (a *audioPipe) place(track int, start time.Time, samples []float32) {
	n := len(samples) / channels
	dur := time.Duration(n) * time.Second / audio.Rate
	for _, p := range a.clock.pieces(start, dur) {
		from := int(framesAt(p.skip))
		cnt := int(framesAt(p.len))
		if from+cnt > n {
			cnt = n - from
		}
		if cnt <= 0 {
			continue
		}
		at := a.aligners[track].place(framesAt(p.media), cnt)
		a.mix.add(track, at, samples[from*channels:(from+cnt)*channels])
	}
}

// levels returns each track's peak since the previous call.
func (a *audioPipe) levels() []float32 {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := append([]float32(nil), a.peaks...)
	for i := range a.peaks {
		a.peaks[i] = 0
	}
	return out
}

// run writes the mix up to (clock − holdback) every 20 ms until end
// receives the recording's final length, then writes up to exactly that
// length once the late blocks had time to arrive.
func (a *audioPipe) run(end <-chan time.Duration) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	var buf []float32
	var bytes []byte
	flush := func(upTo int64) error {
		buf = a.mix.read(upTo, buf[:0])
		if len(buf) == 0 {
			return nil
		}
		if cap(bytes) < len(buf)*4 {
			bytes = make([]byte, len(buf)*4)
		}
		b := bytes[:len(buf)*4]
		for i, v := range buf {
			binary.LittleEndian.PutUint32(b[i*4:], math.Float32bits(v))
		}
		_, err := a.out.Write(b)
		return err
	}
	// ffmpeg will not read a single frame before it has a packet of
	// sound (1024 frames); waiting the full holdback for it would stall
	// the video pipe at the start. The first 21 ms go out at once, as
	// silence: sound for them would only arrive later anyway.
	if err := flush(primeFrames); err != nil {
		return err
	}
	for {
		select {
		case e := <-end:
			time.Sleep(holdback)
			return flush(framesAt(e))
		case <-t.C:
			m := a.clock.media(time.Now()) - holdback
			if m > 0 {
				if err := flush(framesAt(m)); err != nil {
					return err
				}
			}
		}
	}
}
