-- A trimmed video: the rendition that replaces the original for viewers
-- and processing while the row exists. The original segments stay, so a
-- trim can be changed or removed. Times are seconds of the original.

-- +goose Up
CREATE TABLE video_trims (
    video_id   TEXT PRIMARY KEY REFERENCES videos(id) ON DELETE CASCADE,
    start_s    REAL NOT NULL,
    end_s      REAL NOT NULL,
    parts      TEXT NOT NULL, -- JSON: [{"init": file, "segments": [file...]}], file = {"key","seal_index","size","duration"}
    created_at INTEGER NOT NULL
) STRICT;

-- +goose Down
DROP TABLE video_trims;
