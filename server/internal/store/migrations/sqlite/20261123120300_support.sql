-- Messages sent with the contact-support form. They outlive their
-- author's account for a while (retention: FRAMECAST_RETAIN_SUPPORT after
-- the account is deleted), so they keep the name and address given, and
-- account_deleted_at says when that clock started. Times are unix
-- microseconds.

-- +goose Up
CREATE TABLE support_messages (
    id                 TEXT PRIMARY KEY,
    user_id            TEXT REFERENCES users(id) ON DELETE SET NULL,
    name               TEXT NOT NULL,
    email              TEXT NOT NULL,
    subject            TEXT NOT NULL,
    body               TEXT NOT NULL,
    created_at         INTEGER NOT NULL,
    account_deleted_at INTEGER
) STRICT;
CREATE INDEX support_messages_user ON support_messages (user_id);
CREATE INDEX support_messages_deleted ON support_messages (account_deleted_at);

-- +goose Down
DROP TABLE support_messages;
