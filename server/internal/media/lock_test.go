package media

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"framecast.dev/server/internal/store/storetest"
)

// TestLeaseTakeover runs two "replicas" (two lease tables) on one
// database of each kind: a newcomer on one takes a segment over from a
// holder on the other, gives up on a holder that cannot be stopped, and
// takes over from one that died once its lease lapses.
func TestLeaseTakeover(t *testing.T) {
	for _, kind := range storetest.Kinds {
		t.Run(kind, func(t *testing.T) {
			st := storetest.Open(t, kind)
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			replica := func() *leases {
				l := newLeases(st, log, time.Now)
				l.ttl, l.renewEvery, l.takeoverWait = time.Second, 50*time.Millisecond, time.Second
				return l
			}
			a, b := replica(), replica()
			ctx := context.Background()

			aborted := make(chan struct{})
			releaseA, ok, err := a.acquire(ctx, "upload/v/0", func() { close(aborted) })
			if err != nil || !ok {
				t.Fatalf("first acquire = %v, %v", ok, err)
			}
			go func() {
				<-aborted // the holder notices and lets go
				releaseA()
			}()
			start := time.Now()
			releaseB, ok, err := b.acquire(ctx, "upload/v/0", nil)
			if err != nil || !ok {
				t.Fatalf("takeover = %v, %v", ok, err)
			}
			if d := time.Since(start); d > 500*time.Millisecond {
				t.Errorf("takeover took %v", d)
			}

			// B cannot be stopped: A gives up after takeoverWait.
			start = time.Now()
			if _, ok, err := a.acquire(ctx, "upload/v/0", nil); ok || err != nil {
				t.Fatalf("acquired a held lease: %v, %v", ok, err)
			}
			if d := time.Since(start); d < 900*time.Millisecond || d > 2*time.Second {
				t.Errorf("gave up after %v, want about 1s", d)
			}
			releaseB()
			releaseB() // releasing twice is harmless

			// A holder that died (no renewals) blocks only until its lease lapses.
			if ok, err := st.AcquireLease(ctx, "upload/v/1", "dead", time.Now(), time.Now().Add(300*time.Millisecond)); err != nil || !ok {
				t.Fatal(ok, err)
			}
			start = time.Now()
			release, ok, err := b.acquire(ctx, "upload/v/1", nil)
			if err != nil || !ok {
				t.Fatalf("acquire after the holder died = %v, %v", ok, err)
			}
			release()
			if d := time.Since(start); d < 200*time.Millisecond {
				t.Errorf("took a live lease after %v", d)
			}
		})
	}
}
