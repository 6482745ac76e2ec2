-- Uploads in progress and leases, shared by every server replica: a
-- segment upload cut off on one replica resumes on another, and one
-- request at a time writes a segment whichever replica it reached.
-- Times are unix microseconds.

-- +goose Up
CREATE TABLE uploads (
    video_id   TEXT NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
    idx        INTEGER NOT NULL,     -- -1 is the init segment
    sha256     TEXT NOT NULL,        -- announced by the client
    length     INTEGER NOT NULL,     -- total sealed length
    received   INTEGER NOT NULL,     -- bytes staged in the blob store
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (video_id, idx)
) STRICT;

-- Named locks with a deadline: the holder renews it while it works, a
-- holder that died lets it lapse, and release_wanted asks a live holder
-- (on any replica) to stop.
CREATE TABLE leases (
    name           TEXT PRIMARY KEY,
    holder         TEXT NOT NULL,
    expires_at     INTEGER NOT NULL,
    release_wanted INTEGER NOT NULL DEFAULT 0
) STRICT;

-- +goose Down
DROP TABLE leases;
DROP TABLE uploads;
