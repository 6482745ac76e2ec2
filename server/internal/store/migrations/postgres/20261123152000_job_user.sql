-- PostgreSQL twin of migrations/sqlite/20261123152000_job_user.sql.
-- The account a job is about (mail to or from a user), in clear: only the
-- id, never an address (the arguments stay sealed). Deleting the account
-- deletes its jobs in the same statement, by cascade, so a mail queued
-- for a deleted account is never sent and no finished job keeps its
-- sealed address or name.

-- +goose Up
ALTER TABLE jobs ADD COLUMN user_id TEXT REFERENCES users(id) ON DELETE CASCADE; -- NULL: not about one account
CREATE INDEX jobs_user ON jobs (user_id) WHERE user_id IS NOT NULL;

-- +goose Down
DROP INDEX jobs_user;
ALTER TABLE jobs DROP COLUMN user_id;
