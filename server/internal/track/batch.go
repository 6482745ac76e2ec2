package track

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"framecast.dev/server/internal/store"
)

// ErrClosed is returned by Add after Close.
var ErrClosed = errors.New("track: the batcher is closed")

// Batcher gathers events and writes them many to a transaction: when
// size have gathered, every interval, and everything left on Close. A
// failed write is retried at the next flush; beyond maxPending events
// waiting, new ones are dropped (and counted in the log) rather than
// growing without bound while the database is away.
type Batcher struct {
	write      func(context.Context, []store.TrackEvent) error
	size       int
	every      time.Duration
	maxPending int
	log        *slog.Logger

	mu      sync.Mutex
	buf     []store.TrackEvent
	closed  bool
	dropped int

	kick chan struct{}
	stop chan struct{}
	done chan struct{}
}

// NewBatcher starts a batcher writing with write.
func NewBatcher(write func(context.Context, []store.TrackEvent) error, size int, every time.Duration, log *slog.Logger) *Batcher {
	if size <= 0 {
		size = 500
	}
	if every <= 0 {
		every = time.Second
	}
	b := &Batcher{write: write, size: size, every: every, maxPending: 200 * size, log: log,
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go b.loop()
	return b
}

// Add queues an event.
func (b *Batcher) Add(e store.TrackEvent) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	if len(b.buf) >= b.maxPending {
		b.dropped++
		return nil
	}
	b.buf = append(b.buf, e)
	if len(b.buf) >= b.size {
		select {
		case b.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

// Pending is how many events wait to be written.
func (b *Batcher) Pending() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.buf)
}

func (b *Batcher) loop() {
	defer close(b.done)
	t := time.NewTicker(b.every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-b.kick:
		case <-b.stop:
			b.drain()
			return
		}
		b.flush(context.Background())
	}
}

// flush writes what has gathered, size events per transaction. It
// returns false when a write failed (the events are kept for next time).
func (b *Batcher) flush(ctx context.Context) bool {
	b.mu.Lock()
	pending := b.buf
	b.buf = nil
	dropped := b.dropped
	b.dropped = 0
	b.mu.Unlock()
	if dropped > 0 {
		b.log.Warn("viewer events dropped: too many waiting for the database", "events", dropped)
	}
	for len(pending) > 0 {
		n := min(len(pending), b.size)
		if err := b.write(ctx, pending[:n]); err != nil {
			b.log.Error("writing viewer events failed; retrying", "events", len(pending), "err", err)
			b.mu.Lock()
			b.buf = append(pending, b.buf...)
			b.mu.Unlock()
			return false
		}
		pending = pending[n:]
	}
	return true
}

// drain writes everything left, trying a few times.
func (b *Batcher) drain() {
	for attempt := 0; attempt < 5; attempt++ {
		if b.flush(context.Background()) {
			return
		}
		time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
	}
	b.mu.Lock()
	lost := len(b.buf)
	b.mu.Unlock()
	b.log.Error("viewer events lost at shutdown: the database did not take them", "events", lost)
}

// Close stops taking events and writes what is left, waiting until ctx
// ends at most.
func (b *Batcher) Close(ctx context.Context) error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		<-b.done
		return nil
	}
	b.closed = true
	b.mu.Unlock()
	close(b.stop)
	select {
	case <-b.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
