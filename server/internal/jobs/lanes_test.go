package jobs_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"framecast.dev/server/internal/jobs"
	"framecast.dev/server/internal/store"
)

// TestLaneIsNotStuckBehindLongJobs: while every main worker is busy with
// a long job, a job of a lane's kind still runs at once on the lane; the
// main workers never take the lane's kinds, and the lane retries with its
// own backoff.
func TestLaneIsNotStuckBehindLongJobs(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "db"))
	q := fastQueue(s, func(c *jobs.Config) {
		c.Workers = 1
		c.BackoffBase, c.BackoffMax = time.Hour, time.Hour // a main-pool retry would never come in time
		c.Lanes = []jobs.Lane{{Name: "mail", Kinds: []string{"mail"}, Workers: 1,
			BackoffBase: 20 * time.Millisecond, BackoffMax: 20 * time.Millisecond}}
	})
	release := make(chan struct{})
	q.Handle("transcode", func(ctx context.Context, j store.Job) error {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	})
	mailBusy := make(chan struct{})
	attempts := 0
	q.Handle("mail", func(ctx context.Context, j store.Job) error {
		if string(j.Args) == `"block"` {
			select {
			case <-mailBusy:
			case <-ctx.Done():
			}
			return nil
		}
		attempts++ // one lane worker: no race
		if attempts == 1 {
			return errors.New("smtp: connection refused")
		}
		return nil
	})
	q.Start()
	defer stop(t, q)
	ctx := context.Background()

	long, err := q.Enqueue(ctx, jobs.Spec{Kind: "transcode", VideoID: newVideo(t, s, "1")})
	if err != nil {
		t.Fatal(err)
	}
	waitJob(t, s, long.ID, store.JobRunning)
	start := time.Now()
	m, err := q.Enqueue(ctx, jobs.Spec{Kind: "mail", Args: "reset"})
	if err != nil {
		t.Fatal(err)
	}
	done := waitJob(t, s, m.ID, store.JobDone)
	if done.Attempts != 2 {
		t.Fatalf("mail job = %+v; want done on the second attempt", done)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("the mail job took %v behind a long transcode", took)
	}
	if j, _ := s.Job(ctx, long.ID); j.State != store.JobRunning {
		t.Fatalf("the transcode is %s; the test needs it still running", j.State)
	}

	// The main worker is free, the lane's only worker busy: a second mail
	// job waits for the lane rather than going to the main pool (whose
	// workers would not even have its handler in a real deployment).
	close(release)
	waitJob(t, s, long.ID, store.JobDone)
	blocker, err := q.Enqueue(ctx, jobs.Spec{Kind: "mail", Args: "block"})
	if err != nil {
		t.Fatal(err)
	}
	waitJob(t, s, blocker.ID, store.JobRunning)
	next, err := q.Enqueue(ctx, jobs.Spec{Kind: "mail", Args: "next"})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // ten polls of the idle main worker
	if j, _ := s.Job(ctx, next.ID); j.State != store.JobQueued {
		t.Fatalf("a mail job was taken by the main pool: %+v", j)
	}
	close(mailBusy)
	waitJob(t, s, next.ID, store.JobDone)
}
