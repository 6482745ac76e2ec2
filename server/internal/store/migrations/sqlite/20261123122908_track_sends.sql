-- Videos sent by e-mail from the dashboard (see server/internal/track).
-- At level Full each recipient gets a personal link, so the owner sees
-- whether and how far they watched and what they clicked: a
-- track_recipients row per recipient, and the view rows name it. At
-- Anonymous or Off the mails carry the plain link and nothing per
-- recipient is kept (lowering a video's level deletes its rows here).
-- mail_suppressions holds recipients who unsubscribed, as SHA-256 of the
-- lower-cased address only: that sender never mails them again.

-- +goose Up
CREATE TABLE track_recipients (
    id         TEXT PRIMARY KEY,
    video_id   TEXT NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
    email      TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE, -- SHA-256 of the personal link's secret
    sent_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX track_recipients_video ON track_recipients (video_id, sent_at);

ALTER TABLE track_views ADD COLUMN recipient_id TEXT NOT NULL DEFAULT '';

CREATE TABLE mail_suppressions (
    address_hash TEXT PRIMARY KEY,
    created_at   INTEGER NOT NULL
) STRICT;

-- +goose Down
DROP TABLE mail_suppressions;
DROP TABLE track_recipients;
