-- PostgreSQL twin of migrations/sqlite/20261123120200_consent.sql.
-- Consent to the privacy policy: its published versions (a new one takes
-- effect at least four weeks after it is published; a major one must be
-- accepted again), each user's consents with their time, and which users
-- were mailed about which version. Times are unix microseconds.

-- +goose Up
CREATE TABLE policy_versions (
    version      TEXT PRIMARY KEY,
    major        BIGINT NOT NULL DEFAULT 0, -- 1: users must accept it again
    summary      TEXT NOT NULL,              -- what changed, shown in the banner and the mail
    body         TEXT NOT NULL,              -- the policy's text
    published_at BIGINT NOT NULL,
    effective_at BIGINT NOT NULL
);

CREATE TABLE consents (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    version TEXT NOT NULL REFERENCES policy_versions(version),
    at      BIGINT NOT NULL,
    PRIMARY KEY (user_id, version)
);

CREATE TABLE policy_notices (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    version TEXT NOT NULL REFERENCES policy_versions(version),
    sent_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, version)
);

-- +goose Down
DROP TABLE policy_notices;
DROP TABLE consents;
DROP TABLE policy_versions;
