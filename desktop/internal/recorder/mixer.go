package recorder

import "sync"

// mixer sums sound sources on the timeline. Sources add samples at frame
// positions (48 kHz stereo frames from the recording's start); read takes
// the mix of everything up to a position, silence where a source had
// nothing. Data that arrives for a position already read is dropped.
type mixer struct {
	mu     sync.Mutex
	tracks []*track
	out    int64 // frames emitted so far
}

type track struct {
	start int64     // frame position of buf[0]
	buf   []float32 // interleaved stereo
	late  int64     // frames dropped because they came after their turn
}

const channels = 2

func newMixer(n int) *mixer {
	m := &mixer{tracks: make([]*track, n)}
	for i := range m.tracks {
		m.tracks[i] = &track{}
	}
	return m
}

// add puts samples of track i at frame position at.
func (m *mixer) add(i int, at int64, samples []float32) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.tracks[i]
	if at < m.out {
		skip := m.out - at
		if skip*channels >= int64(len(samples)) {
			t.late += int64(len(samples)) / channels
			return
		}
		t.late += skip
		samples = samples[skip*channels:]
		at = m.out
	}
	if len(t.buf) == 0 {
		t.start = at
		t.buf = append(t.buf[:0], samples...)
		return
	}
	end := t.start + int64(len(t.buf))/channels
	switch {
	case at > end: // a gap: silence until the new data
		t.buf = append(t.buf, make([]float32, (at-end)*channels)...)
	case at < end: // overlap: keep what is there
		skip := end - at
		if skip*channels >= int64(len(samples)) {
			return
		}
		samples = samples[skip*channels:]
	}
	t.buf = append(t.buf, samples...)
}

// read appends the mix of frames [out, upTo) to dst and advances.
func (m *mixer) read(upTo int64, dst []float32) []float32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if upTo <= m.out {
		return dst
	}
	n := int(upTo - m.out)
	base := len(dst)
	dst = append(dst, make([]float32, n*channels)...)
	mix := dst[base:]
	for _, t := range m.tracks {
		if len(t.buf) == 0 {
			continue
		}
		// Overlap of [t.start, t.start+len) with [m.out, upTo).
		from := max(t.start, m.out)
		to := min(t.start+int64(len(t.buf))/channels, upTo)
		for f := from; f < to; f++ {
			s := t.buf[(f-t.start)*channels:]
			d := mix[(f-m.out)*channels:]
			d[0] += s[0]
			d[1] += s[1]
		}
		// Drop what is now in the past.
		if drop := upTo - t.start; drop > 0 {
			if drop*channels >= int64(len(t.buf)) {
				t.buf = t.buf[:0]
			} else {
				rest := copy(t.buf, t.buf[drop*channels:])
				t.buf = t.buf[:rest]
				t.start = upTo
			}
		}
	}
	for i, v := range mix {
		if v > 1 {
			mix[i] = 1
		} else if v < -1 {
			mix[i] = -1
		}
	}
	m.out = upTo
	return dst
}

// lateFrames is how many frames of track i came too late to be heard.
func (m *mixer) lateFrames(i int) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tracks[i].late
}

// aligner turns a source's timeline positions into contiguous frame
// positions: small disagreements (scheduling jitter, clock drift under
// 20 ms) are absorbed so the sound has no clicks; bigger ones (a dropout,
// a pause) move the source to where the clock says.
type aligner struct {
	next int64
	have bool
}

const alignTolerance = 48000 / 50 // 20 ms of frames

func (a *aligner) place(pos int64, frames int) int64 {
	if a.have && pos-a.next <= alignTolerance && a.next-pos <= alignTolerance {
		pos = a.next
	}
	a.next, a.have = pos+int64(frames), true
	return pos
}
