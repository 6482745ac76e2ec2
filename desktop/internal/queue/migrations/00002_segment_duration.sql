-- Each media segment's playing time, which finalize hands the server (the
-- #EXTINF values of ffmpeg's playlist). NULL when the queue was not told
-- (a segment Recover queued after a crash): the uploader then reads it from
-- the segment's own boxes before finalizing.

-- +goose Up
ALTER TABLE segments ADD COLUMN duration_us INTEGER CHECK (duration_us IS NULL OR duration_us > 0);

-- +goose Down
ALTER TABLE segments DROP COLUMN duration_us;
