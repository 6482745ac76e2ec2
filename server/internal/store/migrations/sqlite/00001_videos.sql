-- +goose Up
CREATE TABLE videos (
    id            TEXT PRIMARY KEY,
    slug          TEXT NOT NULL UNIQUE,
    recording_id  TEXT NOT NULL UNIQUE,
    title         TEXT NOT NULL DEFAULT '',
    state         TEXT NOT NULL CHECK (state IN ('uploading', 'ready')),
    created_at    INTEGER NOT NULL, -- unix microseconds
    ready_at      INTEGER,
    has_init      INTEGER NOT NULL DEFAULT 0,
    segment_count INTEGER NOT NULL DEFAULT 0,
    durations     TEXT NOT NULL DEFAULT '[]', -- JSON array of seconds
    wrapped_key   BLOB
) STRICT;

CREATE TABLE segments (
    video_id   TEXT NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
    idx        INTEGER NOT NULL CHECK (idx >= -1), -- -1 is the init segment
    size       INTEGER NOT NULL,
    sha256     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (video_id, idx)
) STRICT;

-- +goose Down
DROP TABLE segments;
DROP TABLE videos;
