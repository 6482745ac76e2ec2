package jobs_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"framecast.dev/server/internal/jobs"
	"framecast.dev/server/internal/store"
)

func openStore(t *testing.T, path string) store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newVideo(t *testing.T, s store.Store, n string) string {
	t.Helper()
	v, _, err := s.CreateVideo(context.Background(), store.Video{
		ID: "vid" + n, Slug: "slug" + n, RecordingID: "rec" + n, State: store.StateReady, CreatedAt: time.Now(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return v.ID
}

func fastQueue(s store.Store, edit ...func(*jobs.Config)) *jobs.Queue {
	c := jobs.Config{
		Store: s, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Workers: 2, Lease: 300 * time.Millisecond, Poll: 20 * time.Millisecond,
		MaxAttempts: 3, BackoffBase: 10 * time.Millisecond, BackoffMax: 50 * time.Millisecond,
	}
	for _, e := range edit {
		e(&c)
	}
	return jobs.New(c)
}

func stop(t *testing.T, q *jobs.Queue) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := q.Stop(ctx); err != nil {
		t.Errorf("Stop: %v", err)
	}
}

// waitJob polls until the job reaches want.
func waitJob(t *testing.T, s store.Store, id string, want store.JobState) store.Job {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		j, err := s.Job(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if j.State == want {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s is %s (attempts %d, error %q), want %s", id, j.State, j.Attempts, j.LastError, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRunsAndCompletes(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "db"))
	q := fastQueue(s)
	type args struct{ Seconds float64 }
	got := make(chan args, 1)
	q.Handle("probe", func(ctx context.Context, j store.Job) error {
		a, err := jobs.Args[args](j)
		if err != nil {
			return err
		}
		got <- a
		return nil
	})
	q.Start()
	defer stop(t, q)
	j, err := q.Enqueue(context.Background(), jobs.Spec{Kind: "probe", VideoID: newVideo(t, s, "1"), Args: args{Seconds: 2.5}})
	if err != nil {
		t.Fatal(err)
	}
	done := waitJob(t, s, j.ID, store.JobDone)
	if a := <-got; a.Seconds != 2.5 || done.Attempts != 1 {
		t.Fatalf("handler got %+v; job %+v", a, done)
	}
}

func TestRetriesWithBackoffThenFails(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "db"))
	q := fastQueue(s)
	var (
		mu    sync.Mutex
		times []time.Time
	)
	q.Handle("flaky", func(ctx context.Context, j store.Job) error {
		mu.Lock()
		times = append(times, time.Now())
		mu.Unlock()
		return errors.New("ffmpeg exited with status 1: moov atom not found")
	})
	q.Start()
	defer stop(t, q)
	j, err := q.Enqueue(context.Background(), jobs.Spec{Kind: "flaky", VideoID: newVideo(t, s, "1")})
	if err != nil {
		t.Fatal(err)
	}
	failed := waitJob(t, s, j.ID, store.JobFailed)
	if failed.Attempts != 3 || !strings.Contains(failed.LastError, "moov atom not found") {
		t.Fatalf("failed job = %+v", failed)
	}
	mu.Lock()
	if len(times) != 3 {
		t.Fatalf("%d attempts, want 3", len(times))
	}
	// Backoff: ≥ 0.75 × 10 ms, then ≥ 0.75 × 20 ms.
	if d := times[1].Sub(times[0]); d < 7*time.Millisecond {
		t.Errorf("second attempt after %v, want a backoff", d)
	}
	if d := times[2].Sub(times[1]); d < 15*time.Millisecond {
		t.Errorf("third attempt after %v, want a longer backoff", d)
	}
	mu.Unlock()

	// The owner retries: three fresh attempts.
	if _, err := q.Retry(context.Background(), j.ID); err != nil {
		t.Fatal(err)
	}
	waitJob(t, s, j.ID, store.JobFailed)
	mu.Lock()
	n := len(times)
	mu.Unlock()
	if n != 6 {
		t.Fatalf("%d attempts after the retry, want 6", n)
	}
}

func TestPermanentErrorFailsAtOnceAndPanicsAreErrors(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "db"))
	q := fastQueue(s)
	q.Handle("bad", func(ctx context.Context, j store.Job) error {
		return jobs.Permanent(errors.New("the recording has no video stream"))
	})
	q.Handle("panics", func(ctx context.Context, j store.Job) error { panic("boom") })
	q.Start()
	defer stop(t, q)
	vid := newVideo(t, s, "1")
	bad, _ := q.Enqueue(context.Background(), jobs.Spec{Kind: "bad", VideoID: vid})
	p, _ := q.Enqueue(context.Background(), jobs.Spec{Kind: "panics", VideoID: vid, MaxAttempts: 1})
	unknown, _ := q.Enqueue(context.Background(), jobs.Spec{Kind: "unknown", VideoID: vid})
	if j := waitJob(t, s, bad.ID, store.JobFailed); j.Attempts != 1 || j.LastError != "the recording has no video stream" {
		t.Fatalf("permanent failure = %+v", j)
	}
	if j := waitJob(t, s, p.ID, store.JobFailed); !strings.Contains(j.LastError, "panic: boom") || strings.Contains(j.LastError, "goroutine") {
		t.Fatalf("panicking job = %+v", j)
	}
	if j := waitJob(t, s, unknown.ID, store.JobFailed); !strings.Contains(j.LastError, "kind unknown") {
		t.Fatalf("unknown kind = %+v", j)
	}
}

func TestBoundedPool(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "db"))
	q := fastQueue(s)
	var running, peak atomic.Int32
	q.Handle("work", func(ctx context.Context, j store.Job) error {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(50 * time.Millisecond)
		running.Add(-1)
		return nil
	})
	q.Start()
	defer stop(t, q)
	var ids []string
	for i := range 6 {
		j, err := q.Enqueue(context.Background(), jobs.Spec{Kind: "work", VideoID: newVideo(t, s, string(rune('a'+i)))})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, j.ID)
	}
	for _, id := range ids {
		waitJob(t, s, id, store.JobDone)
	}
	if p := peak.Load(); p != 2 {
		t.Fatalf("%d jobs ran at once, want 2 (the pool size)", p)
	}
}

// TestSurvivesACrash: a worker that dies holding a job (its process
// killed: no release, no completion) loses it when the lease lapses, and
// a new server runs it.
func TestSurvivesACrash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	s := openStore(t, path)
	vid := newVideo(t, s, "1")
	dead := fastQueue(s)
	j, err := dead.Enqueue(context.Background(), jobs.Spec{Kind: "mp4", VideoID: vid})
	if err != nil {
		t.Fatal(err)
	}
	// The dead server's worker claimed it and then vanished.
	if _, err := s.ClaimJob(context.Background(), "dead-host/1/0", time.Now(), time.Now().Add(300*time.Millisecond)); err != nil {
		t.Fatal(err)
	}

	// A fresh server on the same database.
	s2 := openStore(t, path)
	q := fastQueue(s2)
	ran := make(chan time.Time, 1)
	q.Handle("mp4", func(ctx context.Context, j store.Job) error { ran <- time.Now(); return nil })
	started := time.Now()
	q.Start()
	defer stop(t, q)
	done := waitJob(t, s2, j.ID, store.JobDone)
	if at := <-ran; at.Sub(started) < 200*time.Millisecond {
		t.Errorf("taken over after %v, before the lease lapsed", at.Sub(started))
	}
	if done.Attempts != 2 {
		t.Fatalf("attempts = %d, want 2 (the crashed one counts)", done.Attempts)
	}
}

// TestLongJobKeepsItsLease: a job running longer than the lease renews it,
// so no second worker starts it meanwhile.
func TestLongJobKeepsItsLease(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "db"))
	q := fastQueue(s)
	var runs atomic.Int32
	q.Handle("slow", func(ctx context.Context, j store.Job) error {
		runs.Add(1)
		select {
		case <-time.After(time.Second): // > 3 leases
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	q.Start()
	defer stop(t, q)
	j, _ := q.Enqueue(context.Background(), jobs.Spec{Kind: "slow", VideoID: newVideo(t, s, "1")})
	done := waitJob(t, s, j.ID, store.JobDone)
	if runs.Load() != 1 || done.Attempts != 1 {
		t.Fatalf("ran %d times, attempts %d; want once", runs.Load(), done.Attempts)
	}
}

// TestGracefulStop: Stop waits for a job that finishes in time, and gives
// back one that does not, without counting its attempt.
func TestGracefulStop(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "db"))
	q := fastQueue(s)
	started := make(chan string, 2)
	q.Handle("quick", func(ctx context.Context, j store.Job) error {
		started <- j.Kind
		time.Sleep(150 * time.Millisecond)
		return nil
	})
	q.Handle("endless", func(ctx context.Context, j store.Job) error {
		started <- j.Kind
		<-ctx.Done()
		return ctx.Err()
	})
	q.Start()
	vid := newVideo(t, s, "1")
	quick, _ := q.Enqueue(context.Background(), jobs.Spec{Kind: "quick", VideoID: vid})
	endless, _ := q.Enqueue(context.Background(), jobs.Spec{Kind: "endless", VideoID: vid})
	<-started
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	if err := q.Stop(ctx); err == nil {
		t.Fatal("Stop returned nil although a job had to be cancelled")
	}
	if j, _ := s.Job(context.Background(), quick.ID); j.State != store.JobDone {
		t.Fatalf("the quick job = %+v, want done", j)
	}
	if j, _ := s.Job(context.Background(), endless.ID); j.State != store.JobQueued || j.Attempts != 0 || j.LeaseOwner != "" {
		t.Fatalf("the cancelled job = %+v, want queued again with no attempt counted", j)
	}
}

// TestCrashLoopGivesUp: a job whose every attempt dies with its worker is
// failed once its attempts are used up, instead of looping forever.
func TestCrashLoopGivesUp(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "db"))
	vid := newVideo(t, s, "1")
	q := fastQueue(s)
	j, _ := q.Enqueue(context.Background(), jobs.Spec{Kind: "gif", VideoID: vid, MaxAttempts: 2})
	past := time.Now().Add(-time.Hour)
	for range 2 {
		if _, err := s.ClaimJob(context.Background(), "crashing", time.Now(), past); err != nil {
			t.Fatal(err)
		}
	}
	q.Handle("gif", func(ctx context.Context, j store.Job) error { t.Error("ran a job past its attempts"); return nil })
	// The kind's clean-up runs, since its handler never saw the end.
	gaveUp := make(chan string, 1)
	q.HandleGiveUp("gif", func(_ context.Context, g store.Job, reason string) {
		if g.ID == j.ID {
			gaveUp <- reason
		}
	})
	q.Start()
	defer stop(t, q)
	if got := waitJob(t, s, j.ID, store.JobFailed); !strings.Contains(got.LastError, "interrupted") {
		t.Fatalf("crash-looping job = %+v", got)
	}
	select {
	case reason := <-gaveUp:
		if !strings.Contains(reason, "interrupted") {
			t.Errorf("give-up reason %q", reason)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the give-up clean-up did not run")
	}
}
