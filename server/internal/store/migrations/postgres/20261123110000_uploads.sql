-- Uploads in progress and leases, shared by every server replica: a
-- segment upload cut off on one replica resumes on another, and one
-- request at a time writes a segment whichever replica it reached.
-- Times are unix microseconds.

-- +goose Up
CREATE TABLE uploads (
    video_id   TEXT NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
    idx        BIGINT NOT NULL,     -- -1 is the init segment
    sha256     TEXT NOT NULL,        -- announced by the client
    length     BIGINT NOT NULL,     -- total sealed length
    received   BIGINT NOT NULL,     -- bytes staged in the blob store
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (video_id, idx)
);

-- Named locks with a deadline: the holder renews it while it works, a
-- holder that died lets it lapse, and release_wanted asks a live holder
-- (on any replica) to stop.
CREATE TABLE leases (
    name           TEXT PRIMARY KEY,
    holder         TEXT NOT NULL,
    expires_at     BIGINT NOT NULL,
    release_wanted BIGINT NOT NULL DEFAULT 0
);

-- +goose Down
DROP TABLE leases;
DROP TABLE uploads;
