-- PostgreSQL twin of migrations/sqlite/20261123120100_privacy.sql.
-- The privacy centre: data exports ("Download my data") and the audit log
-- of privacy actions each user sees. Both go with their user. Times are
-- unix microseconds.

-- +goose Up
CREATE TABLE exports (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,    -- who asked; the only one who may download
    workspace_id TEXT REFERENCES workspaces(id) ON DELETE SET NULL,       -- a workspace export; NULL: the user's own data
    state        TEXT NOT NULL CHECK (state IN ('pending', 'ready', 'failed')),
    token_hash   TEXT UNIQUE,                                             -- SHA-256 of the mailed link's secret
    blob_key     TEXT NOT NULL DEFAULT '',                                -- the sealed ZIP
    seal_id      TEXT NOT NULL DEFAULT '',                                -- its seal's recording id (hex)
    wrapped_key  BYTEA,                                                   -- its data key, wrapped by the KEK
    size         BIGINT NOT NULL DEFAULT 0,                              -- bytes of the ZIP
    created_at   BIGINT NOT NULL,
    ready_at     BIGINT,
    expires_at    BIGINT                                                  -- the link and the file end here
);
CREATE INDEX exports_user ON exports (user_id, created_at);
CREATE INDEX exports_expiry ON exports (expires_at);

CREATE TABLE privacy_audit (
    id      TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    at      BIGINT NOT NULL,
    action  TEXT NOT NULL,              -- export-requested, consent-withdrawn, ...
    detail  TEXT NOT NULL DEFAULT ''    -- a sentence for the user
);
CREATE INDEX privacy_audit_user ON privacy_audit (user_id, at);

-- +goose Down
DROP TABLE privacy_audit;
DROP TABLE exports;
