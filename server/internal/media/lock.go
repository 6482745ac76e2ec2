package media

import (
	"sync"
	"time"
)

// lockTable serialises writers of one upload. A newcomer takes over: it
// aborts the holder (whose client has usually gone away without the server
// noticing, after a network cut) and waits briefly for it to let go.
type lockTable struct {
	mu   sync.Mutex
	held map[string]*holder
}

type holder struct {
	done  chan struct{}
	abort func()
}

// takeoverWait bounds how long a newcomer waits for an aborted holder.
const takeoverWait = 3 * time.Second

// acquire locks key. abort is how a later newcomer stops this holder (nil:
// it cannot be stopped, and newcomers wait for it).
func (t *lockTable) acquire(key string, abort func()) (release func(), ok bool) {
	deadline := time.Now().Add(takeoverWait)
	for {
		t.mu.Lock()
		h, busy := t.held[key]
		if !busy {
			mine := &holder{done: make(chan struct{}), abort: abort}
			t.held[key] = mine
			t.mu.Unlock()
			var once sync.Once
			return func() {
				once.Do(func() {
					t.mu.Lock()
					delete(t.held, key)
					t.mu.Unlock()
					close(mine.done)
				})
			}, true
		}
		// Under the mutex: the holder cannot release (and its connection
		// move on to another request) while we abort it.
		if h.abort != nil {
			h.abort()
		}
		t.mu.Unlock()
		wait := time.Until(deadline)
		if wait <= 0 {
			return nil, false
		}
		select {
		case <-h.done:
		case <-time.After(wait):
			return nil, false
		}
	}
}
