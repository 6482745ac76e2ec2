-- PostgreSQL twin of migrations/sqlite/20261123100000_jobs.sql: the same tables and
-- columns, integer times and 0/1 booleans, so one Go implementation
-- reads both (see store/postgres.go).
-- Processing jobs (thumbnail, GIF preview, MP4 download, duration, trim,
-- and later imports and mail). A worker claims a job by leasing it until
-- lease_until; a worker that dies lets its lease expire and another one
-- takes the job over. Times are unix microseconds.

-- +goose Up
CREATE TABLE jobs (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    video_id     TEXT REFERENCES videos(id) ON DELETE CASCADE, -- NULL: not about one video
    args         TEXT NOT NULL DEFAULT '{}',                   -- JSON, the kind's own
    state        TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    attempts     BIGINT NOT NULL DEFAULT 0,                    -- claims so far
    max_attempts BIGINT NOT NULL,
    run_at       BIGINT NOT NULL,                              -- not before (backoff)
    lease_owner  TEXT NOT NULL DEFAULT '',
    lease_until  BIGINT,
    last_error   TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    finished_at  BIGINT
);
-- What a worker looks for: queued and due, or running with a lapsed lease.
CREATE INDEX jobs_runnable ON jobs (state, run_at);
CREATE INDEX jobs_video ON jobs (video_id, created_at);
-- At most one waiting job of a kind per video: enqueueing again replaces it.
CREATE UNIQUE INDEX jobs_one_queued ON jobs (video_id, kind) WHERE state = 'queued';

-- +goose Down
DROP TABLE jobs;
