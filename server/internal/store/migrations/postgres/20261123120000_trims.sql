-- PostgreSQL twin of migrations/sqlite/20261123120000_trims.sql.
-- A trimmed video: the rendition that replaces the original for viewers
-- and processing while the row exists. The original segments stay, so a
-- trim can be changed or removed. Times are seconds of the original.

-- +goose Up
CREATE TABLE video_trims (
    video_id   TEXT PRIMARY KEY REFERENCES videos(id) ON DELETE CASCADE,
    start_s    DOUBLE PRECISION NOT NULL,
    end_s      DOUBLE PRECISION NOT NULL,
    parts      TEXT NOT NULL, -- JSON: [{"init": file, "segments": [file...]}], file = {"key","seal_index","size","duration"}
    created_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE video_trims;
