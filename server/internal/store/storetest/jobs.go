package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"framecast.dev/server/internal/store"
)

// The contract of store.Jobs.

var jobTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"JobsEnqueueReplacesQueued", testEnqueueReplaces},
	{"JobsEnsureOnce", testEnsureJob},
	{"JobsClaimLeaseAndComplete", testClaimLease},
	{"JobsLapsedLeaseIsTakenOver", testLapsedLease},
	{"JobsFailRetryAndGiveUp", testFailRetry},
	{"JobsReleaseKeepsAttempts", testReleaseJob},
	{"JobsConcurrentClaimsAreExclusive", testConcurrentClaims},
	{"JobsClaimOfKinds", testClaimOfKinds},
	{"JobsFollowTheirVideo", testJobsCascade},
}

func job(n int, kind, videoID string) store.Job {
	return store.Job{
		ID: fmt.Sprintf("job%d", n), Kind: kind, VideoID: videoID, Args: []byte(`{"n":` + fmt.Sprint(n) + `}`),
		MaxAttempts: 3, RunAt: now, CreatedAt: now.Add(time.Duration(n) * time.Microsecond),
	}
}

func mustVideo(t *testing.T, s store.Store, n int) store.Video {
	t.Helper()
	v, _, err := s.CreateVideo(context.Background(), video(n))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func mustEnqueue(t *testing.T, s store.Store, j store.Job) store.Job {
	t.Helper()
	got, err := s.EnqueueJob(context.Background(), j)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func testEnqueueReplaces(t *testing.T, s store.Store) {
	ctx := context.Background()
	v := mustVideo(t, s, 1)
	first := mustEnqueue(t, s, job(1, "thumbnail", v.ID))
	if first.ID != "job1" || first.State != store.JobQueued || first.Attempts != 0 || string(first.Args) != `{"n":1}` ||
		!first.RunAt.Equal(now) || first.VideoID != v.ID {
		t.Fatalf("EnqueueJob = %+v", first)
	}
	// The same kind for the same video while queued: updated, not added.
	again := job(2, "thumbnail", v.ID)
	again.RunAt = now.Add(time.Minute)
	got := mustEnqueue(t, s, again)
	if got.ID != "job1" || string(got.Args) != `{"n":2}` || !got.RunAt.Equal(again.RunAt) {
		t.Fatalf("second EnqueueJob = %+v, want job1 updated", got)
	}
	// Another kind, and a job about no video, are separate.
	mustEnqueue(t, s, job(3, "gif", v.ID))
	mustEnqueue(t, s, job(4, "mail", ""))
	mustEnqueue(t, s, job(5, "mail", ""))
	jobs, err := s.VideoJobs(ctx, v.ID)
	if err != nil || len(jobs) != 2 || jobs[0].ID != "job1" || jobs[1].ID != "job3" {
		t.Fatalf("VideoJobs = %+v, %v", jobs, err)
	}
	if j, err := s.Job(ctx, "job5"); err != nil || j.VideoID != "" || j.Kind != "mail" {
		t.Fatalf("Job(job5) = %+v, %v", j, err)
	}
	if _, err := s.EnqueueJob(ctx, job(6, "gif", "ghost")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("EnqueueJob for a missing video: %v, want ErrNotFound", err)
	}
	if _, err := s.Job(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Job(nope): %v", err)
	}
	// Once running, a new request queues a second job (the running one
	// may already have read the old state).
	j, err := s.ClaimJob(ctx, "w1", now.Add(time.Hour), now.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	next := mustEnqueue(t, s, job(7, j.Kind, j.VideoID))
	if next.ID == j.ID {
		t.Fatalf("enqueue while running reused the running job %s", j.ID)
	}
}

func testEnsureJob(t *testing.T, s store.Store) {
	ctx := context.Background()
	v := mustVideo(t, s, 1)
	got, created, err := s.EnsureJob(ctx, job(1, "mp4", v.ID))
	if err != nil || !created || got.ID != "job1" {
		t.Fatalf("EnsureJob = %+v, %v, %v", got, created, err)
	}
	claimed, err := s.ClaimJob(ctx, "w", now, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CompleteJob(ctx, claimed.ID, "w", now); err != nil {
		t.Fatal(err)
	}
	got, created, err = s.EnsureJob(ctx, job(2, "mp4", v.ID))
	if err != nil || created || got.ID != "job1" || got.State != store.JobDone {
		t.Fatalf("EnsureJob after done = %+v, %v, %v; want job1 unchanged", got, created, err)
	}
	if _, _, err := s.EnsureJob(ctx, job(3, "mp4", "ghost")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("EnsureJob for a missing video: %v", err)
	}
}

func testClaimLease(t *testing.T, s store.Store) {
	ctx := context.Background()
	v := mustVideo(t, s, 1)
	later := job(1, "gif", v.ID)
	later.RunAt = now.Add(time.Hour)
	mustEnqueue(t, s, later)
	mustEnqueue(t, s, job(2, "thumbnail", v.ID))

	j, err := s.ClaimJob(ctx, "w1", now, now.Add(time.Minute))
	if err != nil || j.ID != "job2" || j.State != store.JobRunning || j.Attempts != 1 || j.LeaseOwner != "w1" ||
		!j.LeaseUntil.Equal(now.Add(time.Minute)) {
		t.Fatalf("ClaimJob = %+v, %v; want job2 leased to w1", j, err)
	}
	// job1 is not due yet, job2 is leased.
	if j, err := s.ClaimJob(ctx, "w2", now, now.Add(time.Minute)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second ClaimJob = %+v, %v; want ErrNotFound", j, err)
	}
	if err := s.ExtendJobLease(ctx, "job2", "w2", now.Add(time.Hour)); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("ExtendJobLease by a stranger: %v, want ErrConflict", err)
	}
	if err := s.ExtendJobLease(ctx, "job2", "w1", now.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	// The extended lease holds past the first deadline.
	if _, err := s.ClaimJob(ctx, "w2", now.Add(2*time.Minute), now.Add(3*time.Minute)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ClaimJob under an extended lease: %v", err)
	}
	if err := s.CompleteJob(ctx, "job2", "w2", now); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("CompleteJob by a stranger: %v", err)
	}
	if err := s.CompleteJob(ctx, "job2", "w1", now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	done, err := s.Job(ctx, "job2")
	if err != nil || done.State != store.JobDone || done.LeaseOwner != "" || !done.FinishedAt.Equal(now.Add(time.Second)) {
		t.Fatalf("completed job = %+v, %v", done, err)
	}
	if err := s.CompleteJob(ctx, "job2", "w1", now); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("completing twice: %v, want ErrConflict", err)
	}
	// Once due, job1 is claimed.
	if j, err := s.ClaimJob(ctx, "w2", now.Add(time.Hour), now.Add(2*time.Hour)); err != nil || j.ID != "job1" {
		t.Fatalf("ClaimJob when due = %+v, %v", j, err)
	}
}

func testLapsedLease(t *testing.T, s store.Store) {
	ctx := context.Background()
	v := mustVideo(t, s, 1)
	mustEnqueue(t, s, job(1, "mp4", v.ID))
	if _, err := s.ClaimJob(ctx, "dead", now, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	// The worker died; after its lease another one takes the job over and
	// the attempt is counted.
	j, err := s.ClaimJob(ctx, "alive", now.Add(time.Minute), now.Add(2*time.Minute))
	if err != nil || j.ID != "job1" || j.Attempts != 2 || j.LeaseOwner != "alive" {
		t.Fatalf("ClaimJob after lapse = %+v, %v", j, err)
	}
	if err := s.CompleteJob(ctx, "job1", "dead", now); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("the dead worker completing: %v, want ErrConflict", err)
	}
	if err := s.CompleteJob(ctx, "job1", "alive", now); err != nil {
		t.Fatal(err)
	}
}

func testFailRetry(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := mustUser(t, s, 1)
	v := video(1)
	v.OwnerID = u.ID
	if _, _, err := s.CreateVideo(ctx, v); err != nil {
		t.Fatal(err)
	}
	mustEnqueue(t, s, job(1, "gif", v.ID))
	claim := func(at time.Time) store.Job {
		t.Helper()
		j, err := s.ClaimJob(ctx, "w", at, at.Add(time.Minute))
		if err != nil {
			t.Fatalf("ClaimJob at %v: %v", at, err)
		}
		return j
	}
	claim(now)
	retryAt := now.Add(10 * time.Second)
	if err := s.FailJob(ctx, "job1", "w", "ffmpeg exited 1", now, retryAt, false); err != nil {
		t.Fatal(err)
	}
	j, _ := s.Job(ctx, "job1")
	if j.State != store.JobQueued || j.LastError != "ffmpeg exited 1" || !j.RunAt.Equal(retryAt) || j.Attempts != 1 {
		t.Fatalf("after a failed attempt: %+v", j)
	}
	if _, err := s.ClaimJob(ctx, "w", now.Add(time.Second), now.Add(time.Minute)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("claimed before the backoff ended: %v", err)
	}
	if j := claim(retryAt); j.Attempts != 2 {
		t.Fatalf("second attempt = %+v", j)
	}
	if err := s.FailJob(ctx, "job1", "w", "gave up: bad input", retryAt, time.Time{}, true); err != nil {
		t.Fatal(err)
	}
	j, _ = s.Job(ctx, "job1")
	if j.State != store.JobFailed || j.LastError != "gave up: bad input" || j.FinishedAt.IsZero() {
		t.Fatalf("after the final failure: %+v", j)
	}
	if _, err := s.ClaimJob(ctx, "w", now.Add(time.Hour), now.Add(2*time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a failed job was claimed: %v", err)
	}
	failed, err := s.FailedJobs(ctx, u.ID)
	if err != nil || len(failed) != 1 || failed[0].ID != "job1" {
		t.Fatalf("FailedJobs = %+v, %v", failed, err)
	}
	if other, err := s.FailedJobs(ctx, "someone-else"); err != nil || len(other) != 0 {
		t.Fatalf("FailedJobs of another user = %+v, %v", other, err)
	}
	// The owner retries: fresh attempts, due now.
	j, err = s.RetryJob(ctx, "job1", now.Add(time.Hour))
	if err != nil || j.State != store.JobQueued || j.Attempts != 0 || j.LastError != "" || !j.RunAt.Equal(now.Add(time.Hour)) || !j.FinishedAt.IsZero() {
		t.Fatalf("RetryJob = %+v, %v", j, err)
	}
	if _, err := s.RetryJob(ctx, "job1", now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("retrying a queued job: %v, want ErrNotFound", err)
	}
	if j := claim(now.Add(time.Hour)); j.ID != "job1" || j.Attempts != 1 {
		t.Fatalf("claim after retry = %+v", j)
	}
	// A failed attempt while a newer job of the same kind waits: the
	// newer one supersedes it instead of a second queued copy.
	mustEnqueue(t, s, job(2, "gif", v.ID))
	if err := s.FailJob(ctx, "job1", "w", "boom", now, now, false); err != nil {
		t.Fatal(err)
	}
	if j, _ := s.Job(ctx, "job1"); j.State != store.JobDone {
		t.Fatalf("superseded job = %+v", j)
	}
}

func testReleaseJob(t *testing.T, s store.Store) {
	ctx := context.Background()
	v := mustVideo(t, s, 1)
	mustEnqueue(t, s, job(1, "mp4", v.ID))
	if _, err := s.ClaimJob(ctx, "w", now, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.ReleaseJob(ctx, "job1", "w", now); err != nil {
		t.Fatal(err)
	}
	j, err := s.Job(ctx, "job1")
	if err != nil || j.State != store.JobQueued || j.Attempts != 0 || j.LeaseOwner != "" {
		t.Fatalf("released job = %+v, %v", j, err)
	}
	if err := s.ReleaseJob(ctx, "job1", "w", now); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("releasing an unleased job: %v", err)
	}
}

func testConcurrentClaims(t *testing.T, s store.Store) {
	ctx := context.Background()
	v := mustVideo(t, s, 1)
	const n = 20
	for i := range n {
		mustEnqueue(t, s, job(i+1, fmt.Sprintf("kind%d", i), v.ID))
	}
	var (
		mu   sync.Mutex
		seen = map[string]string{}
		wg   sync.WaitGroup
	)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := fmt.Sprintf("w%d", w)
			for {
				j, err := s.ClaimJob(ctx, owner, now, now.Add(time.Minute))
				if errors.Is(err, store.ErrNotFound) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if prev, dup := seen[j.ID]; dup {
					t.Errorf("%s claimed by %s and %s", j.ID, prev, owner)
				}
				seen[j.ID] = owner
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("%d jobs claimed, want %d", len(seen), n)
	}
}

func testJobsCascade(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := mustUser(t, s, 1)
	v := video(1)
	v.OwnerID = u.ID
	if _, _, err := s.CreateVideo(ctx, v); err != nil {
		t.Fatal(err)
	}
	mustEnqueue(t, s, job(1, "gif", v.ID))
	if err := s.DeleteVideo(ctx, v.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Job(ctx, "job1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("job of a deleted video: %v, want ErrNotFound", err)
	}
}

// testClaimOfKinds: a pool claiming only some kinds takes just those, in
// due order, lapsed leases included; the pool excluding them never does.
func testClaimOfKinds(t *testing.T, s store.Store) {
	ctx := context.Background()
	v := mustVideo(t, s, 1)
	mustEnqueue(t, s, job(1, "transcode", v.ID))
	mail := job(2, "mail", "")
	mail.RunAt = now.Add(time.Second)
	mustEnqueue(t, s, mail)
	mustEnqueue(t, s, job(3, "reset", ""))
	mustEnqueue(t, s, job(4, "gif", v.ID))
	quick := []string{"mail", "reset"}

	claim := func(owner string, kinds []string, except bool, at time.Time) (store.Job, error) {
		return s.ClaimJobOf(ctx, owner, kinds, except, at, at.Add(time.Minute))
	}
	// The oldest due job is the transcode, but the quick pool skips it.
	j, err := claim("quick", quick, false, now)
	if err != nil || j.ID != "job3" || j.State != store.JobRunning || j.Attempts != 1 || j.LeaseOwner != "quick" {
		t.Fatalf("ClaimJobOf(mail, reset) = %+v, %v; want job3", j, err)
	}
	// job2 is not due yet: nothing else for the quick pool.
	if j, err := claim("quick", quick, false, now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ClaimJobOf(mail, reset) again = %+v, %v; want ErrNotFound", j, err)
	}
	// The main pool takes everything but those kinds, even when due.
	for _, want := range []string{"job1", "job4"} {
		j, err := claim("main", quick, true, now.Add(time.Hour))
		if err != nil || j.ID != want {
			t.Fatalf("ClaimJobOf(not mail, reset) = %+v, %v; want %s", j, err, want)
		}
	}
	if j, err := claim("main", quick, true, now.Add(time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the main pool claimed %+v, %v; want ErrNotFound", j, err)
	}
	// Due now, job2 goes to the quick pool; job3's lapsed lease too.
	j, err = claim("quick2", quick, false, now.Add(2*time.Second))
	if err != nil || j.ID != "job2" {
		t.Fatalf("ClaimJobOf when due = %+v, %v; want job2", j, err)
	}
	j, err = claim("quick2", quick, false, now.Add(2*time.Minute))
	if err != nil || j.ID != "job3" || j.Attempts != 2 || j.LeaseOwner != "quick2" {
		t.Fatalf("ClaimJobOf after a lapsed lease = %+v, %v; want job3 again", j, err)
	}
	// No kinds: nothing to claim; no kinds excepted: anything.
	if j, err := claim("quick", nil, false, now.Add(time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ClaimJobOf(no kinds) = %+v, %v; want ErrNotFound", j, err)
	}
	for _, id := range []string{"job2", "job3"} {
		if err := s.CompleteJob(ctx, id, "quick2", now.Add(2*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	mustEnqueue(t, s, job(5, "thumbnail", v.ID))
	if j, err := claim("main", nil, true, now.Add(time.Hour)); err != nil || j.ID != "job5" {
		t.Fatalf("ClaimJobOf(all) = %+v, %v; want job5", j, err)
	}
}
