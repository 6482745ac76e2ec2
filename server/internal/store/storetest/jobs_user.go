package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"framecast.dev/server/internal/store"
)

// The contract of jobs about an account (store.Job.UserID).

var jobUserTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"JobsFollowTheirUser", testJobsFollowUser},
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
