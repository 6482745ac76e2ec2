-- Consent to the privacy policy: its published versions (a new one takes
-- effect at least four weeks after it is published; a major one must be
-- accepted again), each user's consents with their time, and which users
-- were mailed about which version. Times are unix microseconds.

-- +goose Up
CREATE TABLE policy_versions (
    version      TEXT PRIMARY KEY,
    major        INTEGER NOT NULL DEFAULT 0, -- 1: users must accept it again
    summary      TEXT NOT NULL,              -- what changed, shown in the banner and the mail
    body         TEXT NOT NULL,              -- the policy's text
    published_at INTEGER NOT NULL,
    effective_at INTEGER NOT NULL
) STRICT;

CREATE TABLE consents (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    version TEXT NOT NULL REFERENCES policy_versions(version),
    at      INTEGER NOT NULL,
    PRIMARY KEY (user_id, version)
) STRICT;

CREATE TABLE policy_notices (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    version TEXT NOT NULL REFERENCES policy_versions(version),
    sent_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, version)
) STRICT;

-- +goose Down
DROP TABLE policy_notices;
DROP TABLE consents;
DROP TABLE policy_versions;
