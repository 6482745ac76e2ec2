-- The number in the plaintext file name of media segment 0. ffmpeg, as the
-- recorder runs it, numbers its files from 1 (-start_number 1) while the
-- sync API numbers segments from 0; without this Recover would queue
-- seg00001.m4s as segment 1 instead of 0.

-- +goose Up
ALTER TABLE recordings ADD COLUMN plain_first INTEGER NOT NULL DEFAULT 0 CHECK (plain_first >= 0);

-- +goose Down
ALTER TABLE recordings DROP COLUMN plain_first;
