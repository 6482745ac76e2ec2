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
    attempts     INTEGER NOT NULL DEFAULT 0,                    -- claims so far
    max_attempts INTEGER NOT NULL,
    run_at       INTEGER NOT NULL,                              -- not before (backoff)
    lease_owner  TEXT NOT NULL DEFAULT '',
    lease_until  INTEGER,
    last_error   TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    finished_at  INTEGER
) STRICT;
-- What a worker looks for: queued and due, or running with a lapsed lease.
CREATE INDEX jobs_runnable ON jobs (state, run_at);
CREATE INDEX jobs_video ON jobs (video_id, created_at);
-- At most one waiting job of a kind per video: enqueueing again replaces it.
CREATE UNIQUE INDEX jobs_one_queued ON jobs (video_id, kind) WHERE state = 'queued';

-- +goose Down
DROP TABLE jobs;
