-- What the owner sets for a video's share page (description, call-to-action
-- buttons, link privacy, expiry, downloads), what processing measured
-- (duration), and the derived files processing made (thumbnail, GIF
-- preview, MP4 download), sealed in the blob store like segments.

-- +goose Up
ALTER TABLE videos ADD COLUMN description TEXT NOT NULL DEFAULT '';
-- JSON [{"label":..., "url":...}], at most 3; NULL = the workspace's default.
ALTER TABLE videos ADD COLUMN cta_buttons TEXT;
ALTER TABLE videos ADD COLUMN privacy TEXT NOT NULL DEFAULT 'public'
    CHECK (privacy IN ('public', 'workspace', 'password'));
ALTER TABLE videos ADD COLUMN password_hash TEXT NOT NULL DEFAULT ''; -- argon2id PHC string
ALTER TABLE videos ADD COLUMN expires_at INTEGER;                     -- NULL: never
ALTER TABLE videos ADD COLUMN downloads INTEGER NOT NULL DEFAULT 1;
ALTER TABLE videos ADD COLUMN probed_duration REAL NOT NULL DEFAULT 0; -- seconds; 0 until measured

CREATE TABLE video_assets (
    video_id     TEXT NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,    -- thumbnail, gif, mp4
    blob_key     TEXT NOT NULL,
    seal_index   INTEGER NOT NULL, -- the segment index it is sealed under
    size         INTEGER NOT NULL, -- plaintext bytes
    sealed_size  INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    width        INTEGER NOT NULL DEFAULT 0,
    height       INTEGER NOT NULL DEFAULT 0,
    duration     REAL NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (video_id, kind)
) STRICT;

-- +goose Down
DROP TABLE video_assets;
-- SQLite cannot drop the videos columns that carry a CHECK constraint.
