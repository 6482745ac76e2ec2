-- PostgreSQL twin of migrations/sqlite/20261123115900_imports.sql.
-- Videos uploaded as whole files from the dashboard ("imports"): the
-- upload in progress (how many bytes are stored, in parts in the blob
-- store), then processing (probe, segment, seal) and its outcome, which
-- the owner sees. Times are unix microseconds.

-- +goose Up
CREATE TABLE imports (
    video_id   TEXT PRIMARY KEY REFERENCES videos(id) ON DELETE CASCADE,
    file_name  TEXT NOT NULL,
    length     BIGINT NOT NULL,
    received   BIGINT NOT NULL,
    parts      BIGINT NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('receiving', 'processing', 'failed', 'done')),
    progress   DOUBLE PRECISION NOT NULL DEFAULT 0,
    message    TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE imports;
