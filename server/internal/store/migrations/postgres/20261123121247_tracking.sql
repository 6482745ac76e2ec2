-- PostgreSQL twin of migrations/sqlite/20261123121247_tracking.sql.
-- Viewer tracking (see server/internal/track). What is kept depends on the
-- level in force for a video: its own override, else its owner's default,
-- else 'anonymous'.
--   full:      the aggregates below and one track_views row per view
--              (approximate location, device, referrer domain, watch time,
--              clicks); never an IP address.
--   anonymous: the aggregates only (daily counts, retention, watch-time
--              histogram, countries, button clicks).
--   off:       nothing at all, not even a view counter.
-- track_seen holds the salted hashes that count a viewer once per video
-- per day; it and the salt are deleted when the day is over, so nothing
-- links a viewer across days. Every table hangs off videos or users with
-- ON DELETE CASCADE: deleting a video or an account deletes its analytics.
-- Days are days since 1970-01-01 (UTC); times are unix microseconds.

-- +goose Up
CREATE TABLE track_user_settings (
    user_id           TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    level             TEXT NOT NULL CHECK (level IN ('full', 'anonymous', 'off')),
    notify_first_view BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE track_video_settings (
    video_id      TEXT PRIMARY KEY REFERENCES videos(id) ON DELETE CASCADE,
    level         TEXT CHECK (level IN ('full', 'anonymous', 'off')), -- NULL: the owner's default
    first_view_at BIGINT                                            -- set once, for the first-view mail
);

CREATE TABLE track_salts (
    day        BIGINT PRIMARY KEY,
    salt       BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE track_seen (
    video_id TEXT NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
    day      BIGINT NOT NULL,
    viewer   TEXT NOT NULL, -- hex of sha256(salt of the day, IP, user agent, video)
    PRIMARY KEY (video_id, day, viewer)
);
CREATE INDEX track_seen_day ON track_seen (day);

CREATE TABLE track_daily (
    video_id        TEXT NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
    day             BIGINT NOT NULL,
    views           BIGINT NOT NULL DEFAULT 0,
    viewers         BIGINT NOT NULL DEFAULT 0, -- unique that day
    finishes        BIGINT NOT NULL DEFAULT 0,
    watched_seconds BIGINT NOT NULL DEFAULT 0,
    cta_clicks      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (video_id, day)
);

-- Views that watched second N of the video (1-second buckets).
CREATE TABLE track_retention (
    video_id TEXT NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
    second   BIGINT NOT NULL,
    views    BIGINT NOT NULL,
    PRIMARY KEY (video_id, second)
);

-- Views by how much of the video they watched, in tenths (0..9).
CREATE TABLE track_histogram (
    video_id TEXT NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
    bucket   BIGINT NOT NULL,
    views    BIGINT NOT NULL,
    PRIMARY KEY (video_id, bucket)
);

CREATE TABLE track_countries (
    video_id TEXT NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
    country  TEXT NOT NULL, -- ISO 3166-1 alpha-2; '' unknown
    views    BIGINT NOT NULL,
    PRIMARY KEY (video_id, country)
);

CREATE TABLE track_cta (
    video_id TEXT NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
    button   BIGINT NOT NULL, -- 0-based position on the share page
    clicks   BIGINT NOT NULL,
    PRIMARY KEY (video_id, button)
);

-- Full level only: one row per view (a page load that played).
CREATE TABLE track_views (
    video_id        TEXT NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
    view_id         TEXT NOT NULL, -- random, made by the page; not a cookie
    day             BIGINT NOT NULL,
    started_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    country         TEXT NOT NULL DEFAULT '',
    city            TEXT NOT NULL DEFAULT '',
    device          TEXT NOT NULL DEFAULT '',
    referrer        TEXT NOT NULL DEFAULT '', -- domain only
    watched_seconds BIGINT NOT NULL DEFAULT 0,
    furthest        BIGINT NOT NULL DEFAULT -1, -- last second watched
    finished        BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (video_id, view_id)
);
CREATE INDEX track_views_started ON track_views (video_id, started_at);

CREATE TABLE track_view_clicks (
    video_id TEXT NOT NULL,
    view_id  TEXT NOT NULL,
    button   BIGINT NOT NULL,
    at       BIGINT NOT NULL,
    PRIMARY KEY (video_id, view_id, button),
    FOREIGN KEY (video_id, view_id) REFERENCES track_views(video_id, view_id) ON DELETE CASCADE
);

-- +goose Down
DROP TABLE track_view_clicks;
DROP TABLE track_views;
DROP TABLE track_cta;
DROP TABLE track_countries;
DROP TABLE track_histogram;
DROP TABLE track_retention;
DROP TABLE track_daily;
DROP TABLE track_seen;
DROP TABLE track_salts;
DROP TABLE track_video_settings;
DROP TABLE track_user_settings;
