-- The offline upload queue. Times are Unix milliseconds (UTC).

-- +goose Up
CREATE TABLE recordings (
    -- 32 hex digits, chosen on this device; it is also the recording id
    -- sealed into every segment's header (seal.RecordingID).
    id            TEXT PRIMARY KEY CHECK (length(id) = 32),
    server_id     TEXT UNIQUE,
    slug          TEXT,
    title         TEXT NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    state         TEXT NOT NULL DEFAULT 'recording'
                  CHECK (state IN ('recording', 'finished', 'uploaded', 'failed')),
    failure       TEXT NOT NULL DEFAULT '',
    -- The data key, wrapped by the device key (seal.WrapKey).
    wrapped_key   BLOB NOT NULL,
    duration_ms   INTEGER NOT NULL DEFAULT 0,
    segment_count INTEGER NOT NULL DEFAULT 0,
    -- Where the recorder writes plaintext segments, and their file name
    -- pattern; Recover queues what an interrupted recording left there.
    plain_dir     TEXT NOT NULL DEFAULT '',
    plain_pattern TEXT NOT NULL DEFAULT '',
    plain_init    TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE TABLE segments (
    recording_id TEXT NOT NULL REFERENCES recordings (id) ON DELETE CASCADE,
    -- api.SegmentIndex: -1 is the HLS init segment, so it sorts first.
    idx          INTEGER NOT NULL CHECK (idx >= -1 AND idx <= 999999),
    plain_size   INTEGER NOT NULL,
    sealed_size  INTEGER NOT NULL,
    sha256       BLOB NOT NULL CHECK (length(sha256) = 32),
    -- Relative to the queue folder, so the folder can move.
    path         TEXT NOT NULL,
    state        TEXT NOT NULL DEFAULT 'queued'
                 CHECK (state IN ('queued', 'uploading', 'uploaded')),
    uploaded_at  INTEGER,
    PRIMARY KEY (recording_id, idx)
) STRICT;

CREATE INDEX segments_waiting ON segments (recording_id, idx) WHERE state <> 'uploaded';

CREATE TABLE upload_attempts (
    id           INTEGER PRIMARY KEY,
    recording_id TEXT NOT NULL,
    idx          INTEGER NOT NULL,
    at           INTEGER NOT NULL,
    -- NULL when the attempt succeeded.
    error        TEXT,
    FOREIGN KEY (recording_id, idx) REFERENCES segments (recording_id, idx) ON DELETE CASCADE
) STRICT;

CREATE INDEX upload_attempts_segment ON upload_attempts (recording_id, idx, at);

-- +goose Down
DROP TABLE upload_attempts;
DROP TABLE segments;
DROP TABLE recordings;
