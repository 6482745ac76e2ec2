package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The Jobs half of the SQLite store. A claim is one UPDATE ... WHERE id =
// (SELECT ... LIMIT 1) RETURNING statement: SQLite runs it under the
// database's write lock, so two workers can never lease the same job.
// (PostgreSQL adds FOR UPDATE SKIP LOCKED to the subquery instead, so
// workers on several replicas skip each other's rows without waiting.)

const jobColumns = `id, kind, COALESCE(video_id, ''), COALESCE(user_id, ''), args, state, attempts, max_attempts, run_at,
	lease_owner, lease_until, last_error, created_at, updated_at, finished_at`

func scanJob(r scanner) (Job, error) {
	var (
		j                       Job
		args, state             string
		runAt, created, updated int64
		leaseUntil, finished    sql.NullInt64
	)
	err := r.Scan(&j.ID, &j.Kind, &j.VideoID, &j.UserID, &args, &state, &j.Attempts, &j.MaxAttempts, &runAt,
		&j.LeaseOwner, &leaseUntil, &j.LastError, &created, &updated, &finished)
	if errors.Is(err, sql.ErrNoRows) {
		return Job{}, ErrNotFound
	}
	if err != nil {
		return Job{}, err
	}
	j.Args = []byte(args)
	j.State = JobState(state)
	j.RunAt = fromMicros(runAt)
	j.LeaseUntil = fromNull(leaseUntil)
	j.CreatedAt = fromMicros(created)
	j.UpdatedAt = fromMicros(updated)
	j.FinishedAt = fromNull(finished)
	return j, nil
}

func jobArgs(j Job) string {
	if len(j.Args) == 0 {
		return "{}"
	}
	return string(j.Args)
}

func (s *SQLite) EnqueueJob(ctx context.Context, j Job) (Job, error) {
	got, err := scanJob(s.db.QueryRowContext(ctx, `INSERT INTO jobs (id, kind, video_id, user_id, args, state, max_attempts, run_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?)
		ON CONFLICT (video_id, kind) WHERE state = 'queued' DO UPDATE SET
			args = excluded.args, max_attempts = excluded.max_attempts, run_at = excluded.run_at,
			attempts = 0, last_error = '', updated_at = excluded.updated_at
		RETURNING `+jobColumns,
		j.ID, j.Kind, nullable(j.VideoID), nullable(j.UserID), jobArgs(j), j.MaxAttempts, micros(j.RunAt), micros(j.CreatedAt), micros(j.CreatedAt)))
	if isForeignKey(err) {
		return Job{}, fmt.Errorf("enqueue %s job: video %q or user %q: %w", j.Kind, j.VideoID, j.UserID, ErrNotFound)
	}
	if err != nil {
		return Job{}, fmt.Errorf("enqueue %s job for %s: %w", j.Kind, j.VideoID, err)
	}
	return got, nil
}

func (s *SQLite) EnsureJob(ctx context.Context, j Job) (Job, bool, error) {
	got, err := scanJob(s.db.QueryRowContext(ctx, `INSERT INTO jobs (id, kind, video_id, user_id, args, state, max_attempts, run_at, created_at, updated_at)
		SELECT ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?
		WHERE NOT EXISTS (SELECT 1 FROM jobs WHERE video_id = ? AND kind = ?)
		RETURNING `+jobColumns,
		j.ID, j.Kind, nullable(j.VideoID), nullable(j.UserID), jobArgs(j), j.MaxAttempts, micros(j.RunAt), micros(j.CreatedAt), micros(j.CreatedAt),
		j.VideoID, j.Kind))
	switch {
	case err == nil:
		return got, true, nil
	case isForeignKey(err):
		return Job{}, false, fmt.Errorf("ensure %s job: video %q or user %q: %w", j.Kind, j.VideoID, j.UserID, ErrNotFound)
	case !errors.Is(err, ErrNotFound):
		return Job{}, false, fmt.Errorf("ensure %s job for %s: %w", j.Kind, j.VideoID, err)
	}
	got, err = scanJob(s.db.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE video_id = ? AND kind = ?
		ORDER BY created_at DESC LIMIT 1`, j.VideoID, j.Kind))
	if err != nil {
		return Job{}, false, fmt.Errorf("ensure %s job for %s: %w", j.Kind, j.VideoID, err)
	}
	return got, false, nil
}

// skipLocked makes a claim's subquery pass over rows another replica is
// claiming at the same moment: without it, PostgreSQL would let the
// second UPDATE re-check only "id = X" and lease job X twice.
func (s *SQLite) skipLocked() string {
	if s.postgres {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}

func (s *SQLite) ClaimJob(ctx context.Context, owner string, now, leaseUntil time.Time) (Job, error) {
	return s.claimJob(ctx, owner, "", nil, now, leaseUntil)
}

func (s *SQLite) ClaimJobOf(ctx context.Context, owner string, kinds []string, except bool, now, leaseUntil time.Time) (Job, error) {
	if len(kinds) == 0 {
		if except {
			return s.ClaimJob(ctx, owner, now, leaseUntil)
		}
		return Job{}, ErrNotFound
	}
	in := " AND kind IN (?" + strings.Repeat(", ?", len(kinds)-1) + ")"
	if except {
		in = " AND kind NOT" + in[len(" AND kind"):]
	}
	args := make([]any, len(kinds))
	for i, k := range kinds {
		args[i] = k
	}
	return s.claimJob(ctx, owner, in, args, now, leaseUntil)
}

// claimJob leases the next due job that also matches filter (an SQL
// condition starting with AND, with its args).
func (s *SQLite) claimJob(ctx context.Context, owner, filter string, filterArgs []any, now, leaseUntil time.Time) (Job, error) {
	args := append([]any{owner, micros(leaseUntil), micros(now), micros(now), micros(now)}, filterArgs...)
	j, err := scanJob(s.db.QueryRowContext(ctx, `UPDATE jobs SET state = 'running', attempts = attempts + 1,
			lease_owner = ?, lease_until = ?, updated_at = ?
		WHERE id = (SELECT id FROM jobs
			WHERE ((state = 'queued' AND run_at <= ?) OR (state = 'running' AND lease_until <= ?))`+filter+`
			ORDER BY run_at, id LIMIT 1`+s.skipLocked()+`)
		RETURNING `+jobColumns, args...))
	if errors.Is(err, ErrNotFound) {
		return Job{}, ErrNotFound
	}
	if err != nil {
		return Job{}, fmt.Errorf("claim job: %w", err)
	}
	return j, nil
}

// leased runs an UPDATE of a job the owner leases; no row means the lease
// is gone (or the job is).
func (s *SQLite) leased(ctx context.Context, what, id, owner, set string, args ...any) error {
	args = append(args, id, owner)
	res, err := s.db.ExecContext(ctx, `UPDATE jobs SET `+set+` WHERE id = ? AND lease_owner = ? AND state = 'running'`, args...)
	if err != nil {
		return fmt.Errorf("%s job %s: %w", what, id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s job %s: %w", what, id, err)
	}
	if n == 0 {
		return fmt.Errorf("%s job %s: lease lost: %w", what, id, ErrConflict)
	}
	return nil
}

func (s *SQLite) ExtendJobLease(ctx context.Context, id, owner string, until time.Time) error {
	return s.leased(ctx, "extend lease of", id, owner, `lease_until = ?`, micros(until))
}

func (s *SQLite) CompleteJob(ctx context.Context, id, owner string, now time.Time) error {
	return s.leased(ctx, "complete", id, owner,
		`state = 'done', args = '{}', lease_owner = '', lease_until = NULL, last_error = '', updated_at = ?, finished_at = ?`,
		micros(now), micros(now))
}

func (s *SQLite) FailJob(ctx context.Context, id, owner, msg string, now, retryAt time.Time, final bool) error {
	if final {
		return s.leased(ctx, "fail", id, owner,
			`state = 'failed', lease_owner = '', lease_until = NULL, last_error = ?, updated_at = ?, finished_at = ?`,
			msg, micros(now), micros(now))
	}
	err := s.leased(ctx, "retry", id, owner,
		`state = 'queued', lease_owner = '', lease_until = NULL, last_error = ?, run_at = ?, updated_at = ?`,
		msg, micros(retryAt), micros(now))
	if isUnique(err) {
		// A newer request for the same work is already queued: it
		// supersedes this attempt.
		return s.leased(ctx, "retry", id, owner,
			`state = 'done', lease_owner = '', lease_until = NULL, last_error = ?, updated_at = ?, finished_at = ?`,
			"superseded by a newer job: "+msg, micros(now), micros(now))
	}
	return err
}

func (s *SQLite) ReleaseJob(ctx context.Context, id, owner string, now time.Time) error {
	err := s.leased(ctx, "release", id, owner,
		`state = 'queued', attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, lease_owner = '', lease_until = NULL, updated_at = ?`, micros(now))
	if isUnique(err) {
		return s.leased(ctx, "release", id, owner,
			`state = 'done', lease_owner = '', lease_until = NULL, last_error = 'superseded by a newer job', updated_at = ?, finished_at = ?`,
			micros(now), micros(now))
	}
	return err
}

func (s *SQLite) RetryJob(ctx context.Context, id string, now time.Time) (Job, error) {
	j, err := scanJob(s.db.QueryRowContext(ctx, `UPDATE jobs SET state = 'queued', attempts = 0, last_error = '', run_at = ?, updated_at = ?,
			finished_at = NULL
		WHERE id = ? AND state = 'failed'
		RETURNING `+jobColumns, micros(now), micros(now), id))
	if isUnique(err) {
		return Job{}, fmt.Errorf("retry job %s: the same work is already queued: %w", id, ErrConflict)
	}
	if err != nil {
		return Job{}, fmt.Errorf("retry job %s: %w", id, err)
	}
	return j, nil
}

func (s *SQLite) Job(ctx context.Context, id string) (Job, error) {
	j, err := scanJob(s.db.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = ?`, id))
	if err != nil {
		return Job{}, fmt.Errorf("job %s: %w", id, err)
	}
	return j, nil
}

func (s *SQLite) VideoJobs(ctx context.Context, videoID string) ([]Job, error) {
	return queryAll(ctx, s.db, scanJob, "jobs of video "+videoID,
		`SELECT `+jobColumns+` FROM jobs WHERE video_id = ? ORDER BY created_at, id`, videoID)
}

func (s *SQLite) FailedJobs(ctx context.Context, ownerID string) ([]Job, error) {
	return queryAll(ctx, s.db, scanJob, "failed jobs of "+ownerID,
		`SELECT `+jobColumns+` FROM jobs WHERE state = 'failed'
			AND video_id IN (SELECT id FROM videos WHERE owner_id = ?)
		ORDER BY updated_at DESC, id`, ownerID)
}

func (s *SQLite) PruneJobs(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM jobs
		WHERE (state = 'done' OR (state = 'failed' AND video_id IS NULL))
			AND COALESCE(finished_at, updated_at) < ?`, micros(before))
	if err != nil {
		return 0, fmt.Errorf("prune jobs: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("prune jobs: %w", err)
	}
	return n, nil
}
