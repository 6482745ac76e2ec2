-- Videos uploaded as whole files from the dashboard ("imports"): the
-- upload in progress (how many bytes are stored, in parts in the blob
-- store), then processing (probe, segment, seal) and its outcome, which
-- the owner sees. Times are unix microseconds.

-- +goose Up
CREATE TABLE imports (
    video_id   TEXT PRIMARY KEY REFERENCES videos(id) ON DELETE CASCADE,
    file_name  TEXT NOT NULL,        -- as the browser named it; shown, never a path
    length     INTEGER NOT NULL,     -- announced size in bytes
    received   INTEGER NOT NULL,     -- bytes stored, in parts
    parts      INTEGER NOT NULL,     -- part objects in the blob store
    state      TEXT NOT NULL CHECK (state IN ('receiving', 'processing', 'failed', 'done')),
    progress   REAL NOT NULL DEFAULT 0, -- processing, 0..1
    message    TEXT NOT NULL DEFAULT '', -- why it failed, for the owner
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

-- +goose Down
DROP TABLE imports;
