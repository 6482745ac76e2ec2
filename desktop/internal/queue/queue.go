// Package queue is the desktop's offline upload queue: recordings and their
// sealed segments, kept in SQLite beside the sealed files, until the
// uploader has delivered each segment to the server.
//
// The recorder calls CreateRecording, then AddSegment for every segment
// ffmpeg closes, then Finish. The uploader walks Pending and reports back
// with MarkUploading, RecordAttempt and MarkUploaded. On start the app calls
// Recover once, before recording anything, to finish what a crash
// interrupted.
//
// The promise kept here: a segment is either still a plaintext file the
// recorder left (and Recover queues it), or a complete, fsynced sealed file
// with its row. A kill -9 at any instant leaves nothing in between that
// Recover does not clean up.
package queue

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"

	"framecast.dev/shared/api"
	"framecast.dev/shared/seal"
	_ "github.com/mattn/go-sqlite3" // the database/sql driver "sqlite3"
	"github.com/pressly/goose/v3"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Keys wraps recordings' data keys for storage; keystore.Store is the one
// the app uses.
type Keys interface {
	WrapDataKey(dek seal.Key, purpose string) ([]byte, error)
	UnwrapDataKey(wrapped []byte, purpose string) (seal.Key, error)
}

// RecordingState is where a recording is in its life.
type RecordingState string

const (
	StateRecording RecordingState = "recording" // segments are still being added
	StateFinished  RecordingState = "finished"  // no more segments; some may wait for upload
	StateUploaded  RecordingState = "uploaded"  // every segment delivered and finalized
	StateFailed    RecordingState = "failed"    // given up on; Recording.Failure says why
)

// SegmentState is where a segment is on its way to the server.
type SegmentState string

const (
	SegmentQueued    SegmentState = "queued"
	SegmentUploading SegmentState = "uploading"
	SegmentUploaded  SegmentState = "uploaded"
)

var (
	// ErrNotFound means no such recording or segment.
	ErrNotFound = errors.New("not in the queue")
	// ErrSegmentExists means the index was already added.
	ErrSegmentExists = errors.New("segment already queued")
	// ErrState means the recording or segment is not in a state that
	// allows the operation (for example adding to a finished recording).
	ErrState = errors.New("not allowed in this state")
)

// Recording is one recording as the queue knows it.
type Recording struct {
	ID           seal.RecordingID
	ServerID     string // "" until the server has created the video
	Slug         string
	Title        string
	CreatedAt    time.Time
	State        RecordingState
	Failure      string
	Duration     time.Duration
	SegmentCount int // segments added so far
	Uploaded     int // of which delivered
	// Tracking is the viewer-tracking level to create the video with
	// ("" for the account's default); Kind is KindRecording or KindImport.
	Tracking string
	Kind     string
	// PlainDir is the recording's own folder on this computer (see
	// NewRecording); "" when it has none.
	PlainDir string
}

// Kinds of recording.
const (
	KindRecording = "recording" // made by the recorder
	KindImport    = "import"    // an existing video file, segmented locally
)

// Segment is one sealed segment.
type Segment struct {
	RecordingID seal.RecordingID
	ServerID    string           // the recording's server id, "" while offline
	Index       api.SegmentIndex // api.InitSegment for the HLS init segment
	PlainSize   int64
	SealedSize  int64
	SHA256      [32]byte // of the sealed bytes, as uploaded
	Path        string   // the sealed file
	// Duration is a media segment's playing time; 0 for the init segment
	// and when unknown (see SetSegmentDuration).
	Duration   time.Duration
	State      SegmentState
	UploadedAt time.Time // zero until delivered
	Attempts   int
	LastError  string // of the latest failed attempt, if the latest failed
}

// NewRecording describes a recording about to start.
type NewRecording struct {
	Title string
	// PlainDir is where the recorder writes plaintext segments and
	// PlainPattern their file names, with exactly one %d verb for the index
	// ("segment_%05d.m4s"). Recover uses them to queue segments that were
	// closed but never added. The recorder must give a segment its final
	// name only when it is complete (ffmpeg: -hls_flags temp_file), since
	// Recover takes every matching file as a closed segment. Both may be
	// empty, and then Recover does not look.
	PlainDir     string
	PlainPattern string
	// PlainInit is the name of the HLS init segment in PlainDir
	// ("init.mp4"), queued by Recover as api.InitSegment; empty if none.
	PlainInit string
	// PlainFirst is the number PlainPattern gives media segment 0: 1 when
	// ffmpeg numbers its files from 1 (-start_number 1), as the recorder's
	// does, so that seg00001.m4s is queued as segment 0.
	PlainFirst int
	// ServerID and Slug, when the server was reachable at the start.
	ServerID string
	Slug     string
	// Tracking: "" or one of api.TrackingFull, TrackingAnonymous,
	// TrackingOff. Kind: "" (KindRecording) or KindImport.
	Tracking string
	Kind     string
}

// Queue is the queue in one folder: queue.db and segments/.
type Queue struct {
	dir  string
	db   *sql.DB
	keys Keys

	// addMu serializes AddSegment: two seals of one index must not race
	// for the same final file name.
	addMu sync.Mutex

	keyMu sync.Mutex
	// Pointers, so a Queue printed with %v shows addresses, not keys.
	deks map[seal.RecordingID]*seal.Key
}

// Open opens (creating if needed) the queue in dir and brings its schema up
// to date.
func Open(dir string, keys Keys) (*Queue, error) {
	if keys == nil {
		return nil, errors.New("queue: no key store")
	}
	if err := os.MkdirAll(filepath.Join(dir, segmentsDir), 0o700); err != nil {
		return nil, fmt.Errorf("queue: create %s: %w", dir, err)
	}
	path := filepath.Join(dir, "queue.db")
	// _txlock=immediate takes the write lock at BEGIN, so two writers wait
	// on busy_timeout instead of failing with SQLITE_BUSY halfway through.
	dsn := "file:" + (&url.URL{Path: filepath.ToSlash(path)}).EscapedPath() +
		"?_journal_mode=WAL&_synchronous=FULL&_busy_timeout=10000&_foreign_keys=on&_txlock=immediate"
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("queue: open %s: %w", path, err)
	}
	if err := migrate(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("queue: migrate %s: %w", path, err)
	}
	return &Queue{dir: dir, db: db, keys: keys, deks: map[seal.RecordingID]*seal.Key{}}, nil
}

func migrate(db *sql.DB) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, sub)
	if err != nil {
		return err
	}
	_, err = p.Up(context.Background())
	return err
}

// Close closes the database.
func (q *Queue) Close() error { return q.db.Close() }

// DB returns the underlying database, for tests and diagnostics.
func (q *Queue) DB() *sql.DB { return q.db }

const segmentsDir = "segments"

func (q *Queue) recordingDir(id seal.RecordingID) string {
	return filepath.Join(q.dir, segmentsDir, id.String())
}

const initSealedName = "init.sealed"

func sealedName(index api.SegmentIndex) string {
	if index == api.InitSegment {
		return initSealedName
	}
	return fmt.Sprintf("%06d.sealed", index)
}

// parseSealedName is sealedName backwards.
func parseSealedName(name string) (api.SegmentIndex, bool) {
	if name == initSealedName {
		return api.InitSegment, true
	}
	i, ok := parsePlainName("%06d.sealed", name)
	return api.SegmentIndex(i), ok && api.SegmentIndex(i).Valid()
}

func purpose(id seal.RecordingID) string { return "framecast recording " + id.String() }

// CreateRecording starts a recording: a fresh id and data key, the key
// wrapped by the device key, and a folder for its sealed segments.
func (q *Queue) CreateRecording(ctx context.Context, nr NewRecording) (Recording, error) {
	if err := checkPattern(nr.PlainDir, nr.PlainPattern, nr.PlainInit); err != nil {
		return Recording{}, fmt.Errorf("create recording: %w", err)
	}
	if nr.PlainFirst < 0 {
		return Recording{}, fmt.Errorf("create recording: first segment file number %d is negative", nr.PlainFirst)
	}
	id := seal.NewRecordingID()
	dek := seal.NewKey()
	wrapped, err := q.keys.WrapDataKey(dek, purpose(id))
	if err != nil {
		return Recording{}, fmt.Errorf("create recording: %w", err)
	}
	// The folder first, made durable, so a segment's rename into it can
	// never outlive the folder itself after a power cut.
	if err := os.Mkdir(q.recordingDir(id), 0o700); err != nil {
		return Recording{}, fmt.Errorf("create recording: %w", err)
	}
	if err := syncDir(filepath.Join(q.dir, segmentsDir)); err != nil {
		return Recording{}, fmt.Errorf("create recording: %w", err)
	}
	now := time.Now()
	kind := nr.Kind
	if kind == "" {
		kind = KindRecording
	}
	_, err = q.db.ExecContext(ctx, `INSERT INTO recordings
		(id, server_id, slug, title, created_at, state, wrapped_key, plain_dir, plain_pattern, plain_init, plain_first, tracking, kind)
		VALUES (?, ?, ?, ?, ?, 'recording', ?, ?, ?, ?, ?, ?, ?)`,
		id.String(), nullable(nr.ServerID), nullable(nr.Slug), nr.Title, now.UnixMilli(), wrapped,
		nr.PlainDir, nr.PlainPattern, nr.PlainInit, nr.PlainFirst, nr.Tracking, kind)
	if err != nil {
		os.Remove(q.recordingDir(id))
		return Recording{}, fmt.Errorf("create recording: %w", err)
	}
	q.keyMu.Lock()
	q.deks[id] = &dek
	q.keyMu.Unlock()
	return q.Recording(ctx, id)
}

var indexVerb = regexp.MustCompile(`%0?[1-9]?d`)

func checkPattern(dir, pattern, init string) error {
	if (dir == "") != (pattern == "") {
		return errors.New("plaintext folder and file name pattern go together")
	}
	if init != "" && (dir == "" || strings.ContainsAny(init, `/\`) || init == pattern) {
		return fmt.Errorf("init segment name %q must be a plain file name in the plaintext folder", init)
	}
	if pattern == "" {
		return nil
	}
	if len(indexVerb.FindAllStringIndex(pattern, -1)) != 1 || strings.Count(pattern, "%") != 1 ||
		strings.ContainsAny(pattern, `/\`) {
		return fmt.Errorf("segment file pattern %q needs exactly one %%d (such as %%05d) and no folder", pattern)
	}
	return nil
}

// parsePlainName returns the index of a plaintext segment file name, or
// false when the name does not follow the pattern.
func parsePlainName(pattern, name string) (int, bool) {
	loc := indexVerb.FindStringIndex(pattern)
	prefix, suffix := pattern[:loc[0]], pattern[loc[1]:]
	if !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, suffix) || len(name) < len(prefix)+len(suffix)+1 {
		return 0, false
	}
	digits := name[len(prefix) : len(name)-len(suffix)]
	n := 0
	for _, c := range digits {
		if c < '0' || c > '9' || n > math.MaxUint32/10 {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if n > math.MaxUint32 || fmt.Sprintf(pattern, n) != name {
		return 0, false
	}
	return n, true
}

// Finish closes a recording after its last AddSegment: no more segments.
func (q *Queue) Finish(ctx context.Context, id seal.RecordingID, duration time.Duration) error {
	res, err := q.db.ExecContext(ctx, `UPDATE recordings SET state = 'finished', duration_ms = ?
		WHERE id = ? AND state = 'recording'`, duration.Milliseconds(), id.String())
	return q.transition(ctx, res, err, id, "finish")
}

// SetServerID records the server's id and slug for a recording made offline
// (or the ones it got at the start).
func (q *Queue) SetServerID(ctx context.Context, id seal.RecordingID, serverID, slug string) error {
	if serverID == "" {
		return fmt.Errorf("set server id of %s: empty id", id)
	}
	res, err := q.db.ExecContext(ctx, `UPDATE recordings SET server_id = ?, slug = ? WHERE id = ?`,
		serverID, nullable(slug), id.String())
	return q.transition(ctx, res, err, id, "set server id")
}

// MarkRecordingUploaded is for after the server has finalized the video;
// every segment must be delivered by then.
func (q *Queue) MarkRecordingUploaded(ctx context.Context, id seal.RecordingID) error {
	res, err := q.db.ExecContext(ctx, `UPDATE recordings SET state = 'uploaded'
		WHERE id = ? AND state = 'finished'
		AND NOT EXISTS (SELECT 1 FROM segments WHERE recording_id = recordings.id AND state <> 'uploaded')`,
		id.String())
	return q.transition(ctx, res, err, id, "mark uploaded (finished, every segment delivered)")
}

// MarkFailed gives up on a recording; its segments leave Pending.
func (q *Queue) MarkFailed(ctx context.Context, id seal.RecordingID, reason string) error {
	res, err := q.db.ExecContext(ctx, `UPDATE recordings SET state = 'failed', failure = ?
		WHERE id = ? AND state <> 'uploaded'`, reason, id.String())
	return q.transition(ctx, res, err, id, "mark failed")
}

// Retry puts a failed recording back in line: the uploader takes it up
// again from the segments not yet delivered. Only a failed recording can
// be retried (ErrState otherwise).
func (q *Queue) Retry(ctx context.Context, id seal.RecordingID) error {
	res, err := q.db.ExecContext(ctx, `UPDATE recordings SET state = 'finished', failure = ''
		WHERE id = ? AND state = 'failed'`, id.String())
	return q.transition(ctx, res, err, id, "retry")
}

// Dir is the queue's folder.
func (q *Queue) Dir() string { return q.dir }

// transition turns "no row changed" into ErrNotFound or ErrState.
func (q *Queue) transition(ctx context.Context, res sql.Result, err error, id seal.RecordingID, what string) error {
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, id, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	r, err := q.Recording(ctx, id)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return fmt.Errorf("%s %s: recording is %s: %w", what, id, r.State, ErrState)
}

// MarkUploading notes that an upload of the segment has started.
func (q *Queue) MarkUploading(ctx context.Context, id seal.RecordingID, index api.SegmentIndex) error {
	res, err := q.db.ExecContext(ctx, `UPDATE segments SET state = 'uploading'
		WHERE recording_id = ? AND idx = ? AND state = 'queued'`, id.String(), index)
	return q.segmentTransition(ctx, res, err, id, index, SegmentUploading)
}

// MarkUploaded notes that the server has the segment. Marking it twice is
// fine: the server is idempotent too.
func (q *Queue) MarkUploaded(ctx context.Context, id seal.RecordingID, index api.SegmentIndex) error {
	res, err := q.db.ExecContext(ctx, `UPDATE segments SET state = 'uploaded', uploaded_at = ?
		WHERE recording_id = ? AND idx = ? AND state <> 'uploaded'`, time.Now().UnixMilli(), id.String(), index)
	return q.segmentTransition(ctx, res, err, id, index, SegmentUploaded)
}

// Requeue marks a delivered segment as waiting again, for when the server
// turns out not to have it after all (finalize answered segments_missing).
// Only segments of recordings still wanted can be requeued.
func (q *Queue) Requeue(ctx context.Context, id seal.RecordingID, index api.SegmentIndex) error {
	res, err := q.db.ExecContext(ctx, `UPDATE segments SET state = 'queued', uploaded_at = NULL
		WHERE recording_id = ? AND idx = ?
		AND (SELECT state FROM recordings WHERE id = recording_id) IN ('recording', 'finished')`, id.String(), index)
	if err != nil {
		return fmt.Errorf("requeue segment %d of %s: %w", index, id, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	r, err := q.Recording(ctx, id)
	if err != nil {
		return fmt.Errorf("requeue segment %d: %w", index, err)
	}
	return fmt.Errorf("requeue segment %d of %s: no such segment, or the recording is %s: %w", index, id, r.State, ErrState)
}

func (q *Queue) segmentTransition(ctx context.Context, res sql.Result, err error, id seal.RecordingID, index api.SegmentIndex, to SegmentState) error {
	if err != nil {
		return fmt.Errorf("mark segment %d of %s %s: %w", index, id, to, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	var state SegmentState
	err = q.db.QueryRowContext(ctx, `SELECT state FROM segments WHERE recording_id = ? AND idx = ?`, id.String(), index).Scan(&state)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("mark segment %d of %s %s: %w", index, id, to, ErrNotFound)
	case err != nil:
		return fmt.Errorf("mark segment %d of %s %s: %w", index, id, to, err)
	case state == to || state == SegmentUploaded:
		return nil // already there, or already past it
	default:
		return fmt.Errorf("mark segment %d of %s %s: it is %s: %w", index, id, to, state, ErrState)
	}
}

// RecordAttempt logs one upload attempt of a segment; attemptErr nil means
// it succeeded.
func (q *Queue) RecordAttempt(ctx context.Context, id seal.RecordingID, index api.SegmentIndex, attemptErr error) error {
	var msg sql.NullString
	if attemptErr != nil {
		msg = sql.NullString{String: attemptErr.Error(), Valid: true}
	}
	_, err := q.db.ExecContext(ctx, `INSERT INTO upload_attempts (recording_id, idx, at, error) VALUES (?, ?, ?, ?)`,
		id.String(), index, time.Now().UnixMilli(), msg)
	if err != nil {
		return fmt.Errorf("record upload attempt of segment %d of %s: %w", index, id, err)
	}
	return nil
}

// SetSegmentDuration records a media segment's playing time, for segments
// queued without one (Recover cannot know it). Finalize needs every media
// segment's duration.
func (q *Queue) SetSegmentDuration(ctx context.Context, id seal.RecordingID, index api.SegmentIndex, d time.Duration) error {
	if index == api.InitSegment || d <= 0 {
		return fmt.Errorf("set duration of segment %d of %s to %v: only media segments have a (positive) duration", index, id, d)
	}
	res, err := q.db.ExecContext(ctx, `UPDATE segments SET duration_us = ? WHERE recording_id = ? AND idx = ?`,
		d.Microseconds(), id.String(), index)
	if err != nil {
		return fmt.Errorf("set duration of segment %d of %s: %w", index, id, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("set duration of segment %d of %s: %w", index, id, ErrNotFound)
	}
	return nil
}

const segmentColumns = `s.recording_id, COALESCE(r.server_id, ''), s.idx, s.plain_size, s.sealed_size, s.sha256,
	s.path, s.state, COALESCE(s.uploaded_at, 0), COALESCE(s.duration_us, 0),
	(SELECT count(*) FROM upload_attempts a WHERE a.recording_id = s.recording_id AND a.idx = s.idx),
	COALESCE((SELECT a.error FROM upload_attempts a WHERE a.recording_id = s.recording_id AND a.idx = s.idx
		ORDER BY a.at DESC, a.id DESC LIMIT 1), '')`

// Pending returns up to limit segments not yet delivered, of recordings
// still wanted (recording or finished), oldest recording first and in
// index order within it (the init segment first). Segments marked uploading are included: after a
// crash nothing else would resume them, so an uploader skips the ones it
// has in flight itself.
func (q *Queue) Pending(ctx context.Context, limit int) ([]Segment, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT `+segmentColumns+`
		FROM segments s JOIN recordings r ON r.id = s.recording_id
		WHERE s.state <> 'uploaded' AND r.state IN ('recording', 'finished')
		ORDER BY r.created_at, r.id, s.idx LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("list pending segments: %w", err)
	}
	return q.scanSegments(rows)
}

// Segments returns every segment of one recording in index order.
func (q *Queue) Segments(ctx context.Context, id seal.RecordingID) ([]Segment, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT `+segmentColumns+`
		FROM segments s JOIN recordings r ON r.id = s.recording_id
		WHERE s.recording_id = ? ORDER BY s.idx`, id.String())
	if err != nil {
		return nil, fmt.Errorf("list segments of %s: %w", id, err)
	}
	return q.scanSegments(rows)
}

func (q *Queue) scanSegments(rows *sql.Rows) ([]Segment, error) {
	defer rows.Close()
	var out []Segment
	for rows.Next() {
		var s Segment
		var rec, path string
		var sum []byte
		var uploadedAt, durUS int64
		if err := rows.Scan(&rec, &s.ServerID, &s.Index, &s.PlainSize, &s.SealedSize, &sum, &path, &s.State,
			&uploadedAt, &durUS, &s.Attempts, &s.LastError); err != nil {
			return nil, fmt.Errorf("read segment: %w", err)
		}
		var err error
		if s.RecordingID, err = seal.ParseRecordingID(rec); err != nil {
			return nil, fmt.Errorf("read segment: %w", err)
		}
		copy(s.SHA256[:], sum)
		s.Duration = time.Duration(durUS) * time.Microsecond
		s.Path = filepath.Join(q.dir, filepath.FromSlash(path))
		if uploadedAt != 0 {
			s.UploadedAt = time.UnixMilli(uploadedAt)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read segments: %w", err)
	}
	return out, nil
}

const recordingColumns = `id, COALESCE(server_id, ''), COALESCE(slug, ''), title, created_at, state, failure,
	duration_ms, segment_count,
	(SELECT count(*) FROM segments s WHERE s.recording_id = recordings.id AND s.state = 'uploaded'),
	tracking, kind, plain_dir`

// Recording returns one recording.
func (q *Queue) Recording(ctx context.Context, id seal.RecordingID) (Recording, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT `+recordingColumns+` FROM recordings WHERE id = ?`, id.String())
	if err != nil {
		return Recording{}, fmt.Errorf("read recording %s: %w", id, err)
	}
	rs, err := scanRecordings(rows)
	if err != nil {
		return Recording{}, err
	}
	if len(rs) == 0 {
		return Recording{}, fmt.Errorf("recording %s: %w", id, ErrNotFound)
	}
	return rs[0], nil
}

// Active returns the recordings still wanted (recording or finished, not
// yet uploaded), oldest first: what an uploader has left to do, without
// walking the whole history as ListRecordings does.
func (q *Queue) Active(ctx context.Context) ([]Recording, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT `+recordingColumns+` FROM recordings
		WHERE state IN ('recording', 'finished') ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list active recordings: %w", err)
	}
	return scanRecordings(rows)
}

// ListRecordings returns every recording, oldest first.
func (q *Queue) ListRecordings(ctx context.Context) ([]Recording, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT `+recordingColumns+` FROM recordings ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list recordings: %w", err)
	}
	return scanRecordings(rows)
}

func scanRecordings(rows *sql.Rows) ([]Recording, error) {
	defer rows.Close()
	var out []Recording
	for rows.Next() {
		var r Recording
		var id string
		var created, durMS int64
		if err := rows.Scan(&id, &r.ServerID, &r.Slug, &r.Title, &created, &r.State, &r.Failure,
			&durMS, &r.SegmentCount, &r.Uploaded, &r.Tracking, &r.Kind, &r.PlainDir); err != nil {
			return nil, fmt.Errorf("read recording: %w", err)
		}
		var err error
		if r.ID, err = seal.ParseRecordingID(id); err != nil {
			return nil, fmt.Errorf("read recording: %w", err)
		}
		r.CreatedAt = time.UnixMilli(created)
		r.Duration = time.Duration(durMS) * time.Millisecond
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read recordings: %w", err)
	}
	return out, nil
}

// DataKey returns a recording's data key, which the uploader hands to the
// server on finalize (over TLS).
func (q *Queue) DataKey(ctx context.Context, id seal.RecordingID) (seal.Key, error) {
	q.keyMu.Lock()
	cached := q.deks[id]
	q.keyMu.Unlock()
	if cached != nil {
		return *cached, nil
	}
	var wrapped []byte
	err := q.db.QueryRowContext(ctx, `SELECT wrapped_key FROM recordings WHERE id = ?`, id.String()).Scan(&wrapped)
	if errors.Is(err, sql.ErrNoRows) {
		return seal.Key{}, fmt.Errorf("data key of %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return seal.Key{}, fmt.Errorf("data key of %s: %w", id, err)
	}
	dek, err := q.keys.UnwrapDataKey(wrapped, purpose(id))
	if err != nil {
		return seal.Key{}, fmt.Errorf("data key of %s: %w", id, err)
	}
	q.keyMu.Lock()
	q.deks[id] = &dek
	q.keyMu.Unlock()
	return dek, nil
}

func nullable(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // directories cannot be opened for sync there; NTFS journals renames
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
