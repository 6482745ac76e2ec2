package media

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"framecast.dev/server/internal/secrets"
	"framecast.dev/server/internal/store"
)

// leases serialises writers of one segment across every server replica,
// with a lease row in the database. A newcomer takes over: it asks the
// holder to let go (the holder's client has usually vanished after a
// network cut, without the server noticing) and waits briefly. The holder
// notices at its next renewal, aborts its request and releases.
type leases struct {
	store store.Store
	log   *slog.Logger
	now   func() time.Time
	// Timing; tests shorten it.
	ttl, renewEvery, pollEvery, takeoverWait time.Duration
}

// Default timing. A live holder hears of a takeover within renewEvery; a
// replica that died holding a lease blocks its segment for at most ttl.
const (
	leaseTTL     = 3 * time.Second
	renewEvery   = 250 * time.Millisecond
	pollEvery    = 50 * time.Millisecond
	takeoverWait = 3 * time.Second
)

func newLeases(s store.Store, log *slog.Logger, now func() time.Time) *leases {
	return &leases{store: s, log: log, now: now,
		ttl: leaseTTL, renewEvery: renewEvery, pollEvery: pollEvery, takeoverWait: takeoverWait}
}

// acquire takes the lease name. abort is how a later newcomer stops this
// holder (nil: it cannot be stopped, and newcomers wait for it); it is
// called from another goroutine, and never after release returns. ok is
// false when the holder did not let go within takeoverWait.
func (l *leases) acquire(ctx context.Context, name string, abort func()) (release func(), ok bool, err error) {
	holder := secrets.Random(10)
	deadline := time.Now().Add(l.takeoverWait)
	asked := time.Time{}
	for {
		now := l.now()
		got, err := l.store.AcquireLease(ctx, name, holder, now, now.Add(l.ttl))
		if err != nil {
			return nil, false, err
		}
		if got {
			return l.hold(name, holder, abort), true, nil
		}
		// Ask again now and then: the lease may have changed hands to
		// another newcomer, who has not been asked yet.
		if time.Since(asked) > 500*time.Millisecond {
			if err := l.store.WantLease(ctx, name); err != nil {
				return nil, false, err
			}
			asked = time.Now()
		}
		if time.Now().Add(l.pollEvery).After(deadline) {
			return nil, false, nil
		}
		select {
		case <-ctx.Done():
			return nil, false, ctx.Err()
		case <-time.After(l.pollEvery):
		}
	}
}

// hold renews the lease until release, aborting the holder when someone
// wants the lease or it was lost.
func (l *leases) hold(name, holder string, abort func()) func() {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(l.renewEvery)
		defer t.Stop()
		renewed := time.Now()
		aborted := false
		stopHolder := func() {
			if abort != nil && !aborted {
				aborted = true
				abort()
			}
		}
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			ctx, cancel := context.WithTimeout(context.Background(), l.ttl)
			wanted, err := l.store.RenewLease(ctx, name, holder, l.now().Add(l.ttl))
			cancel()
			switch {
			case errors.Is(err, store.ErrNotFound):
				// It lapsed and someone else has it: stop writing.
				l.log.Warn("upload lease lost", "lease", name)
				stopHolder()
			case err != nil:
				l.log.Warn("renew upload lease", "lease", name, "err", err)
				if time.Since(renewed) > l.ttl {
					stopHolder()
				}
			default:
				renewed = time.Now()
				if wanted {
					stopHolder()
				}
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(stop)
			<-done
			ctx, cancel := context.WithTimeout(context.Background(), l.ttl)
			defer cancel()
			if err := l.store.ReleaseLease(ctx, name, holder); err != nil {
				// It lapses by itself after ttl.
				l.log.Warn("release upload lease", "lease", name, "err", err)
			}
		})
	}
}
