-- PostgreSQL twin of migrations/sqlite/00001_videos.sql: the same tables and
-- columns, integer times and 0/1 booleans, so one Go implementation
-- reads both (see store/postgres.go).
-- +goose Up
CREATE TABLE videos (
    id            TEXT PRIMARY KEY,
    slug          TEXT NOT NULL UNIQUE,
    recording_id  TEXT NOT NULL UNIQUE,
    title         TEXT NOT NULL DEFAULT '',
    state         TEXT NOT NULL CHECK (state IN ('uploading', 'ready')),
    created_at    BIGINT NOT NULL, -- unix microseconds
    ready_at      BIGINT,
    has_init      BIGINT NOT NULL DEFAULT 0,
    segment_count BIGINT NOT NULL DEFAULT 0,
    durations     TEXT NOT NULL DEFAULT '[]', -- JSON array of seconds
    wrapped_key   BYTEA
);

CREATE TABLE segments (
    video_id   TEXT NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
    idx        BIGINT NOT NULL CHECK (idx >= -1), -- -1 is the init segment
    size       BIGINT NOT NULL,
    sha256     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (video_id, idx)
);

-- +goose Down
DROP TABLE segments;
DROP TABLE videos;
