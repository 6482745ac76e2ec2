-- Each user's privacy choices: restriction of processing (kept, not
-- used: no viewer tracking of their videos, no informational mail) and
-- whether they want informational (non-transactional) mail. A user
-- without a row has the defaults: not restricted, mail wanted. Times are
-- unix microseconds.

-- +goose Up
CREATE TABLE privacy_settings (
    user_id        TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    restricted_at  INTEGER,                    -- NULL: not restricted
    optional_mail  INTEGER NOT NULL DEFAULT 1  -- 0: unsubscribed from informational mail
) STRICT;

-- +goose Down
DROP TABLE privacy_settings;
