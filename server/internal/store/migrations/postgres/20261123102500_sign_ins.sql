-- PostgreSQL twin of migrations/sqlite/20261123102500_sign_ins.sql: the
-- same tables and columns, integer times and 0/1 booleans, so one Go
-- implementation reads both (see store/postgres.go).
-- Sign-in history: when, how and from where (truncated address) each
-- successful sign-in happened, for the user's own view of their account.

-- +goose Up
CREATE TABLE sign_ins (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    at         BIGINT NOT NULL,                -- unix microseconds
    method     TEXT NOT NULL,                  -- password, google, microsoft, device
    ip         TEXT NOT NULL DEFAULT '',       -- truncated (/24, /48)
    user_agent TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sign_ins_user ON sign_ins (user_id, at);

-- +goose Down
DROP TABLE sign_ins;
