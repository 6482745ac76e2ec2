package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"framecast.dev/server/internal/store"
)

// The contract of jobs about an account (store.Job.UserID) and of
// pruning finished jobs.

var jobPrivacyTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"JobsFollowTheirUser", testJobsFollowUser},
	{"JobsPruneFinished", testPruneJobs},
}

// testJobsFollowUser: deleting an account deletes its jobs in every
// state (a queued mail is never sent, a finished or failed one keeps
// nothing), leaves other accounts' and unowned jobs alone, and a job
// cannot be queued for an account that is gone. A finished job keeps no
// arguments.
func testJobsFollowUser(t *testing.T, s store.Store) {
	ctx := context.Background()
	gone, kept := mustUser(t, s, 1), mustUser(t, s, 2)
	mk := func(n int, userID string, runAt time.Time) store.Job {
		j := job(n, "account-mail", "")
		j.UserID, j.RunAt = userID, runAt
		j.Args = []byte(`{"sealed":"c2VhbGVk"}`)
		return mustEnqueue(t, s, j)
	}
	queued := mk(1, gone.ID, now.Add(time.Hour)) // not due: stays queued
	if queued.UserID != gone.ID {
		t.Fatalf("EnqueueJob = %+v, want user %s", queued, gone.ID)
	}
	// One of theirs running, one done, one failed.
	for _, n := range []int{2, 3, 4} {
		mk(n, gone.ID, now.Add(-time.Duration(n)*time.Minute)) // claimed first, oldest first
	}
	other := mk(5, kept.ID, now.Add(time.Hour))
	unowned := mk(6, "", now.Add(time.Hour))
	claim := func(want string) {
		t.Helper()
		j, err := s.ClaimJob(ctx, "w", now, now.Add(time.Minute))
		if err != nil || j.ID != want {
			t.Fatalf("ClaimJob = %+v, %v; want %s", j, err, want)
		}
	}
	claim("job4")
	if err := s.CompleteJob(ctx, "job4", "w", now); err != nil {
		t.Fatal(err)
	}
	done, err := s.Job(ctx, "job4")
	if err != nil || done.State != store.JobDone || string(done.Args) != "{}" || done.UserID != gone.ID {
		t.Fatalf("a finished job = %+v, %v; want done, its arguments forgotten, its user kept", done, err)
	}
	claim("job3")
	if err := s.FailJob(ctx, "job3", "w", "smtp down", now, time.Time{}, true); err != nil {
		t.Fatal(err)
	}
	claim("job2") // left running

	if err := s.DeleteUser(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{queued.ID, "job2", "job3", "job4"} {
		if j, err := s.Job(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("job %s of a deleted account: %+v, %v; want ErrNotFound", id, j, err)
		}
	}
	for _, want := range []store.Job{other, unowned} {
		if j, err := s.Job(ctx, want.ID); err != nil || j.UserID != want.UserID {
			t.Errorf("job %s (user %q) after another account's deletion: %+v, %v", want.ID, want.UserID, j, err)
		}
	}
	late := job(7, "account-mail", "")
	late.UserID = gone.ID
	if j, err := s.EnqueueJob(ctx, late); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a job queued for a deleted account: %+v, %v; want ErrNotFound", j, err)
	}
}

// testPruneJobs: done jobs of any kind and failed jobs not about a video
// that finished before the cut-off go; failed jobs of a live video (the
// owner's retry button), queued and running jobs however old, and
// anything finished after the cut-off stay.
func testPruneJobs(t *testing.T, s store.Store) {
	ctx := context.Background()
	v := video(1)
	v.OwnerID = mustUser(t, s, 1).ID
	if _, _, err := s.CreateVideo(ctx, v); err != nil {
		t.Fatal(err)
	}
	old, cut, recent := now.Add(-40*24*time.Hour), now.Add(-30*24*time.Hour), now.Add(-24*time.Hour)
	far := now.Add(100 * 365 * 24 * time.Hour) // never due by itself
	// finish enqueues a job created at old, claims it and leaves it in
	// state, finished at at.
	n := 0
	finish := func(videoID string, state store.JobState, at time.Time) string {
		t.Helper()
		n++
		j := job(n, fmt.Sprintf("kind%d", n), videoID)
		j.CreatedAt, j.RunAt = old, far
		mustEnqueue(t, s, j)
		if state == store.JobQueued {
			return j.ID
		}
		if _, err := s.ClaimJobOf(ctx, "w", []string{j.Kind}, false, far, far.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		var err error
		switch state {
		case store.JobDone:
			err = s.CompleteJob(ctx, j.ID, "w", at)
		case store.JobFailed:
			err = s.FailJob(ctx, j.ID, "w", "broken", at, time.Time{}, true)
		}
		if err != nil {
			t.Fatal(err)
		}
		return j.ID
	}
	gone := []string{
		finish("", store.JobDone, old),
		finish(v.ID, store.JobDone, old),
		finish("", store.JobFailed, old),
	}
	kept := []string{
		finish("", store.JobDone, recent),
		finish(v.ID, store.JobFailed, old),
		finish("", store.JobFailed, recent),
		finish(v.ID, store.JobQueued, time.Time{}),
		finish(v.ID, store.JobRunning, time.Time{}),
		finish("", store.JobRunning, time.Time{}),
	}
	got, err := s.PruneJobs(ctx, cut)
	if err != nil || got != int64(len(gone)) {
		t.Fatalf("PruneJobs = %d, %v; want %d", got, err, len(gone))
	}
	for _, id := range gone {
		if j, err := s.Job(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("job %s (%s, finished %s) was not pruned: %v", id, j.State, j.FinishedAt, err)
		}
	}
	for _, id := range kept {
		if _, err := s.Job(ctx, id); err != nil {
			t.Errorf("job %s was pruned: %v", id, err)
		}
	}
	if fs, err := s.FailedJobs(ctx, v.OwnerID); err != nil || len(fs) != 1 {
		t.Errorf("the video's failed jobs for the dashboard: %+v, %v; want the old one", fs, err)
	}
	// A pruned video job no longer blocks EnsureJob.
	again := job(99, "kind2", v.ID)
	if _, created, err := s.EnsureJob(ctx, again); err != nil || !created {
		t.Errorf("EnsureJob after its done job was pruned: created %v, %v", created, err)
	}
}
