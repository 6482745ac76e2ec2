-- tracking: the viewer-tracking level the server creates the video with
-- ('' leaves it to the account's default), fixed when the recording
-- starts so changing the setting later does not change a video already
-- made. kind tells an imported file from a recording, for the library.

-- +goose Up
ALTER TABLE recordings ADD COLUMN tracking TEXT NOT NULL DEFAULT '' CHECK (tracking IN ('', 'full', 'anonymous', 'off'));
ALTER TABLE recordings ADD COLUMN kind TEXT NOT NULL DEFAULT 'recording' CHECK (kind IN ('recording', 'import'));

-- +goose Down
ALTER TABLE recordings DROP COLUMN kind;
ALTER TABLE recordings DROP COLUMN tracking;
