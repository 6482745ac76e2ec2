-- PostgreSQL twin of migrations/sqlite/20261123094500_accounts.sql: the same tables and
-- columns, integer times and 0/1 booleans, so one Go implementation
-- reads both (see store/postgres.go).
-- Accounts, sessions, one-time tokens, rate limits, sign-in with OIDC,
-- desktop sign-in (device flow) and device tokens, workspaces, and the
-- owner and library of each video. Times are unix microseconds. Every
-- secret (session, token, device code) is stored only as its SHA-256.

-- +goose Up
CREATE TABLE users (
    id                TEXT PRIMARY KEY,
    email             TEXT NOT NULL,             -- as the user typed it
    email_norm        TEXT NOT NULL UNIQUE,      -- lower-cased, for lookups
    name              TEXT NOT NULL,
    phone             TEXT NOT NULL DEFAULT '',
    company           TEXT NOT NULL DEFAULT '',
    password_hash     TEXT NOT NULL DEFAULT '',  -- argon2id PHC string; '' = no password (OIDC only)
    email_verified_at BIGINT,
    photo_key         TEXT NOT NULL DEFAULT '',  -- blob key of the profile photo
    photo_type        TEXT NOT NULL DEFAULT '',
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);

CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    ip           TEXT NOT NULL DEFAULT '',       -- truncated (/24, /48)
    user_agent   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- E-mail verification and password reset links.
CREATE TABLE user_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL CHECK (purpose IN ('verify', 'reset')),
    email      TEXT NOT NULL,                    -- the address the link was sent to
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX user_tokens_user ON user_tokens (user_id, purpose);

-- Fixed-window counters shared by every replica.
CREATE TABLE rate_limits (
    key          TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    count        BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    PRIMARY KEY (key, window_start)
);
CREATE INDEX rate_limits_expiry ON rate_limits (expires_at);

-- Accounts at OIDC providers (Google, Microsoft) linked to users.
CREATE TABLE identities (
    provider   TEXT NOT NULL,
    subject    TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    email      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (provider, subject)
);
CREATE INDEX identities_user ON identities (user_id);

-- OIDC sign-ins in progress (state, PKCE verifier, nonce), single use.
CREATE TABLE login_flows (
    state_hash   TEXT PRIMARY KEY,
    provider     TEXT NOT NULL,
    browser_hash TEXT NOT NULL,                  -- binds the flow to the browser that started it
    verifier     TEXT NOT NULL,
    nonce        TEXT NOT NULL,
    next         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);

-- Desktop sign-in (RFC 8628 style).
CREATE TABLE device_codes (
    code_hash      TEXT PRIMARY KEY,
    user_code      TEXT NOT NULL UNIQUE,
    client_name    TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'redeemed')),
    user_id        TEXT REFERENCES users(id) ON DELETE CASCADE,  -- who approved or denied
    interval_secs  BIGINT NOT NULL,
    last_polled_at BIGINT,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL
);
CREATE INDEX device_codes_expiry ON device_codes (expires_at);

-- Signed-in desktop apps; a device token is revoked by deleting its row.
CREATE TABLE devices (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX devices_user ON devices (user_id);

CREATE TABLE workspaces (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    logo_key    TEXT NOT NULL DEFAULT '',
    logo_type   TEXT NOT NULL DEFAULT '',
    cta_buttons TEXT NOT NULL DEFAULT '[]',      -- JSON [{"label":..., "url":...}], at most 3
    created_at  BIGINT NOT NULL
);

CREATE TABLE workspace_members (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role         TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX workspace_members_user ON workspace_members (user_id);

CREATE TABLE invitations (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    email        TEXT NOT NULL,
    email_norm   TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('admin', 'member')),
    token_hash   TEXT NOT NULL UNIQUE,
    invited_by   TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    accepted_at  BIGINT,
    accepted_by  TEXT REFERENCES users(id) ON DELETE SET NULL
);
CREATE INDEX invitations_workspace ON invitations (workspace_id);

-- Every video has an owner (NULL only for videos uploaded before accounts)
-- and lives in its owner's personal library (workspace_id NULL) or in a
-- workspace's shared library.
ALTER TABLE videos ADD COLUMN owner_id TEXT REFERENCES users(id) ON DELETE CASCADE;
ALTER TABLE videos ADD COLUMN workspace_id TEXT REFERENCES workspaces(id) ON DELETE SET NULL;
CREATE INDEX videos_owner ON videos (owner_id, created_at);
CREATE INDEX videos_workspace ON videos (workspace_id, created_at);

-- +goose Down
ALTER TABLE videos DROP COLUMN workspace_id;
ALTER TABLE videos DROP COLUMN owner_id;
DROP TABLE invitations;
DROP TABLE workspace_members;
DROP TABLE workspaces;
DROP TABLE devices;
DROP TABLE device_codes;
DROP TABLE login_flows;
DROP TABLE identities;
DROP TABLE rate_limits;
DROP TABLE user_tokens;
DROP TABLE sessions;
DROP TABLE users;
