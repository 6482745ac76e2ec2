package recorder

import (
	"sync"
	"time"
)

// Event is something the recorder reports: SegmentClosed, Level,
// StateChanged, Warning, Error or Stopped.
type Event interface{ event() }

// SegmentClosed: a file is complete and will not be touched by the
// recorder again; the receiver owns it (it may seal, move or delete it).
// Index 0 is the init segment (Init is true), which every media segment
// needs in front of it to play; media segments count up from 1 in
// recording order. Index 0 always comes before 1, and the indexes come in
// order without gaps.
type SegmentClosed struct {
	Index    int
	Init     bool
	Path     string        // absolute
	Size     int64         // bytes
	Duration time.Duration // 0 for the init segment
}

// Level reports the sound levels and the recording's progress, about ten
// times a second while recording or paused.
type Level struct {
	Mic    float64 // peak since the previous Level, dBFS; -90 is silence or no microphone
	System float64 // the same for system audio
	Stats  Stats
}

// StateChanged reports Recording, Paused and Stopping as they happen,
// including pauses triggered elsewhere (tray, hotkey, signal).
type StateChanged struct{ State State }

// Warning is a problem the recording survives (a device went quiet,
// frames had to be repeated). Message is a sentence for the user, in the
// words of the app's settings; Slow marks the frames-dropped warning, for
// front ends that can name their own remedies (the CLI's flags).
type Warning struct {
	Message string
	Slow    bool
}

// Error is the problem that ended the recording; Stopped follows.
type Error struct{ Err error }

// Stopped is the last event: the recording is over, its files are final.
// Err is nil when it finished as asked.
type Stopped struct {
	Result Result
	Err    error
}

func (SegmentClosed) event() {}
func (Level) event()         {}
func (StateChanged) event()  {}
func (Warning) event()       {}
func (Error) event()         {}
func (Stopped) event()       {}

// State is where the recorder is in its life.
type State int

const (
	Recording State = iota
	Paused
	Stopping
	Done
)

func (s State) String() string {
	return [...]string{"recording", "paused", "stopping", "done"}[s]
}

// eventQueue delivers events in order on a channel without ever blocking
// the recorder: events wait in a slice until the consumer takes them, and
// a Level still waiting is replaced by the next one.
type eventQueue struct {
	mu     sync.Mutex
	q      []Event
	closed bool
	wake   chan struct{}
	out    chan Event
}

func newEventQueue() *eventQueue {
	e := &eventQueue{wake: make(chan struct{}, 1), out: make(chan Event)}
	go e.pump()
	return e
}

func (e *eventQueue) emit(ev Event) {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	if _, ok := ev.(Level); ok && len(e.q) > 0 {
		if _, ok := e.q[len(e.q)-1].(Level); ok {
			e.q[len(e.q)-1] = ev
			e.mu.Unlock()
			return
		}
	}
	e.q = append(e.q, ev)
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// close delivers what is queued, then closes the channel.
func (e *eventQueue) close() {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

func (e *eventQueue) pump() {
	for {
		e.mu.Lock()
		if len(e.q) == 0 {
			closed := e.closed
			e.mu.Unlock()
			if closed {
				close(e.out)
				return
			}
			<-e.wake
			continue
		}
		ev := e.q[0]
		e.q = e.q[1:]
		e.mu.Unlock()
		e.out <- ev
	}
}
