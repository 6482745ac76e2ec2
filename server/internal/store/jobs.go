package store

import (
	"context"
	"time"
)

// JobState is where a processing job is in its life.
type JobState string

const (
	JobQueued  JobState = "queued"  // waiting for RunAt
	JobRunning JobState = "running" // leased by a worker until LeaseUntil
	JobDone    JobState = "done"
	JobFailed  JobState = "failed" // gave up; the owner may retry it
)

// Job is one unit of background work, usually about one video.
type Job struct {
	ID      string
	Kind    string
	VideoID string // "" when the job is not about one video
	// UserID is the account the job is about (a mail to or from it), ""
	// for none. Deleting the account deletes the job, whatever its state.
	UserID      string
	Args        []byte // JSON, the kind's own; "{}" when empty
	State       JobState
	Attempts    int // claims so far, the current one included
	MaxAttempts int
	RunAt       time.Time // not before
	LeaseOwner  string
	LeaseUntil  time.Time
	LastError   string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	FinishedAt  time.Time
}

// Jobs is the database side of the processing queue. Every method that
// changes a leased job takes the lease owner and returns ErrConflict when
// the lease is no longer theirs (it lapsed and another worker took over).
type Jobs interface {
	// EnqueueJob inserts j (ID, Kind, VideoID, UserID, Args, MaxAttempts,
	// RunAt, CreatedAt) as queued; ErrNotFound when its video or user is
	// gone. If a queued job of the same kind for the same
	// video is waiting, that one is updated instead (new args, run time,
	// attempts back to 0) and returned: enqueueing twice runs once.
	EnqueueJob(ctx context.Context, j Job) (Job, error)
	// EnsureJob enqueues j unless a job of its kind for its video exists in
	// any state; it returns that job and created=false then.
	EnsureJob(ctx context.Context, j Job) (got Job, created bool, err error)
	// ClaimJob leases the next job to run (queued and due, or running with
	// a lapsed lease), counting an attempt; ErrNotFound when there is none.
	ClaimJob(ctx context.Context, owner string, now, leaseUntil time.Time) (Job, error)
	// ClaimJobOf is ClaimJob among the jobs whose kind is one of kinds,
	// or with except, none of them: a pool of workers kept for quick work
	// (mail) is never stuck behind a long transcode, and the main pool
	// leaves that work to it.
	ClaimJobOf(ctx context.Context, owner string, kinds []string, except bool, now, leaseUntil time.Time) (Job, error)
	// ExtendJobLease keeps a running job leased until until.
	ExtendJobLease(ctx context.Context, id, owner string, until time.Time) error
	// CompleteJob marks a leased job done and forgets its arguments: a
	// finished job is never run again, and its arguments may be personal
	// (a mail's sealed address).
	CompleteJob(ctx context.Context, id, owner string, now time.Time) error
	// FailJob records a failed attempt: the job is queued again at retryAt,
	// or failed for good when final.
	FailJob(ctx context.Context, id, owner, msg string, now, retryAt time.Time, final bool) error
	// ReleaseJob gives a leased job back without counting the attempt (the
	// worker is shutting down).
	ReleaseJob(ctx context.Context, id, owner string, now time.Time) error
	// RetryJob queues a failed job again with fresh attempts; ErrNotFound
	// when there is no failed job with that id.
	RetryJob(ctx context.Context, id string, now time.Time) (Job, error)
	// Job returns one job.
	Job(ctx context.Context, id string) (Job, error)
	// VideoJobs lists a video's jobs, oldest first.
	VideoJobs(ctx context.Context, videoID string) ([]Job, error)
	// PruneJobs deletes the jobs that finished before before: done jobs
	// of every kind, and failed jobs that are not about a video. Failed
	// jobs of a video stay while the video does (its owner retries them
	// from the dashboard; they go with it), and queued or running jobs
	// are never touched. A pruned job no longer stops EnsureJob from
	// queueing the same work again. It returns how many went.
	PruneJobs(ctx context.Context, before time.Time) (int64, error)
	// FailedJobs lists the failed jobs of the videos a user owns, newest
	// first.
	FailedJobs(ctx context.Context, ownerID string) ([]Job, error)
}
