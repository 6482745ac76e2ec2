-- PostgreSQL twin of migrations/sqlite/20261123100100_sharing.sql: the same tables and
-- columns, integer times and 0/1 booleans, so one Go implementation
-- reads both (see store/postgres.go).
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
ALTER TABLE videos ADD COLUMN expires_at BIGINT;                     -- NULL: never
ALTER TABLE videos ADD COLUMN downloads BIGINT NOT NULL DEFAULT 1;
ALTER TABLE videos ADD COLUMN probed_duration DOUBLE PRECISION NOT NULL DEFAULT 0; -- seconds; 0 until measured

CREATE TABLE video_assets (
    video_id     TEXT NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,    -- thumbnail, gif, mp4
    blob_key     TEXT NOT NULL,
    seal_index   BIGINT NOT NULL, -- the segment index it is sealed under
    size         BIGINT NOT NULL, -- plaintext bytes
    sealed_size  BIGINT NOT NULL,
    content_type TEXT NOT NULL,
    width        BIGINT NOT NULL DEFAULT 0,
    height       BIGINT NOT NULL DEFAULT 0,
    duration     DOUBLE PRECISION NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (video_id, kind)
);

-- +goose Down
DROP TABLE video_assets;
ALTER TABLE videos DROP COLUMN probed_duration;
ALTER TABLE videos DROP COLUMN downloads;
ALTER TABLE videos DROP COLUMN expires_at;
ALTER TABLE videos DROP COLUMN password_hash;
ALTER TABLE videos DROP COLUMN privacy;
ALTER TABLE videos DROP COLUMN cta_buttons;
ALTER TABLE videos DROP COLUMN description;
