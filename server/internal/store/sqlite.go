package store

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"
	"github.com/pressly/goose/v3"
)

//go:embed migrations/sqlite/*.sql
var sqliteMigrations embed.FS

// SQLite is the Store on a local SQLite file. Its methods also serve
// PostgreSQL (see Postgres), so their SQL keeps to what both engines share.
type SQLite struct {
	db *sql.DB
	// postgres is set when db is PostgreSQL behind pgConnector.
	postgres bool
}

var _ Store = (*SQLite)(nil)

// OpenSQLite opens (creating if needed) the database a sqlite: URL names
// and runs the pending migrations.
func OpenSQLite(ctx context.Context, dbURL string) (*SQLite, error) {
	rest, ok := strings.CutPrefix(dbURL, "sqlite:")
	if !ok {
		return nil, fmt.Errorf("open sqlite: %q is not a sqlite: URL", dbURL)
	}
	path := filepath.Clean(strings.TrimPrefix(rest, "//"))
	if path == "." || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("open sqlite: bad path in %q", dbURL)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	// Every pooled connection gets these pragmas. synchronous=FULL because
	// a segment acknowledged to the desktop must survive a power cut: the
	// desktop deletes its copy once we said 201.
	dsn := path + "?_journal_mode=WAL&_synchronous=FULL&_busy_timeout=10000&_foreign_keys=on&_txlock=immediate"
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	s := &SQLite{db: db}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func (s *SQLite) migrate(ctx context.Context) error {
	fsys, err := fs.Sub(sqliteMigrations, "migrations/sqlite")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, s.db, fsys)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

func (s *SQLite) Ping(ctx context.Context) error {
	// PingContext alone may reuse a pooled connection without touching the
	// file; a query proves the database can be read.
	var one int
	if err := s.db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("ping sqlite: %w", err)
	}
	return nil
}

func (s *SQLite) Close() error { return s.db.Close() }

const videoColumns = `id, slug, recording_id, title, state, created_at, ready_at,
	has_init, segment_count, durations, wrapped_key, COALESCE(owner_id, ''), COALESCE(workspace_id, ''),
	description, cta_buttons, privacy, password_hash, expires_at, downloads, probed_duration`

func (s *SQLite) CreateVideo(ctx context.Context, v Video) (Video, bool, error) {
	_, err := s.db.ExecContext(ctx, `INSERT INTO videos (id, slug, recording_id, title, state, created_at, owner_id, workspace_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, v.ID, v.Slug, v.RecordingID, v.Title, string(v.State), micros(v.CreatedAt),
		nullable(v.OwnerID), nullable(v.WorkspaceID))
	if err == nil {
		got, err := s.Video(ctx, v.ID)
		return got, true, err
	}
	if isForeignKey(err) {
		return Video{}, false, fmt.Errorf("create video: owner or workspace: %w", ErrNotFound)
	}
	if !isUnique(err) {
		return Video{}, false, fmt.Errorf("create video: %w", err)
	}
	got, qerr := scanVideo(s.db.QueryRowContext(ctx,
		`SELECT `+videoColumns+` FROM videos WHERE recording_id = ?`, v.RecordingID))
	if errors.Is(qerr, ErrNotFound) {
		// The clash was on id or slug: random values collided, which
		// should never happen; say so rather than return someone else's.
		return Video{}, false, fmt.Errorf("create video: %w: %v", ErrConflict, err)
	}
	if qerr != nil {
		return Video{}, false, fmt.Errorf("create video: %w", qerr)
	}
	return got, false, nil
}

func (s *SQLite) Video(ctx context.Context, id string) (Video, error) {
	v, err := scanVideo(s.db.QueryRowContext(ctx, `SELECT `+videoColumns+` FROM videos WHERE id = ?`, id))
	if err != nil {
		return Video{}, fmt.Errorf("video %s: %w", id, err)
	}
	return v, nil
}

func (s *SQLite) VideoBySlug(ctx context.Context, slug string) (Video, error) {
	v, err := scanVideo(s.db.QueryRowContext(ctx, `SELECT `+videoColumns+` FROM videos WHERE slug = ?`, slug))
	if err != nil {
		// The slug is a secret: keep it out of the error.
		return Video{}, fmt.Errorf("video by slug: %w", err)
	}
	return v, nil
}

func (s *SQLite) Finalize(ctx context.Context, id string, f Finalization) (Video, error) {
	durations, err := json.Marshal(f.Durations)
	if err != nil {
		return Video{}, fmt.Errorf("finalize video %s: %w", id, err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Video{}, fmt.Errorf("finalize video %s: %w", id, err)
	}
	defer tx.Rollback()
	v, err := scanVideo(tx.QueryRowContext(ctx, `SELECT `+videoColumns+` FROM videos WHERE id = ?`, id))
	if err != nil {
		return Video{}, fmt.Errorf("finalize video %s: %w", id, err)
	}
	if v.State == StateReady {
		if v.SegmentCount == f.SegmentCount && v.HasInit == f.HasInit && slices.Equal(v.Durations, f.Durations) {
			return v, nil
		}
		return Video{}, fmt.Errorf("finalize video %s: already finalized differently: %w", id, ErrConflict)
	}
	_, err = tx.ExecContext(ctx, `UPDATE videos SET state = ?, ready_at = ?, has_init = ?, segment_count = ?,
		durations = ?, wrapped_key = ? WHERE id = ?`,
		string(StateReady), micros(f.ReadyAt), f.HasInit, f.SegmentCount, string(durations), f.WrappedKey, id)
	if err != nil {
		return Video{}, fmt.Errorf("finalize video %s: %w", id, err)
	}
	v, err = scanVideo(tx.QueryRowContext(ctx, `SELECT `+videoColumns+` FROM videos WHERE id = ?`, id))
	if err != nil {
		return Video{}, fmt.Errorf("finalize video %s: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return Video{}, fmt.Errorf("finalize video %s: %w", id, err)
	}
	return v, nil
}

func (s *SQLite) AddSegment(ctx context.Context, seg Segment) (Segment, bool, error) {
	res, err := s.db.ExecContext(ctx, `INSERT INTO segments (video_id, idx, size, sha256, created_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (video_id, idx) DO NOTHING`,
		seg.VideoID, seg.Index, seg.Size, seg.SHA256, micros(seg.CreatedAt))
	if err != nil {
		if isForeignKey(err) {
			return Segment{}, false, fmt.Errorf("add segment %s/%d: video: %w", seg.VideoID, seg.Index, ErrNotFound)
		}
		return Segment{}, false, fmt.Errorf("add segment %s/%d: %w", seg.VideoID, seg.Index, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return Segment{}, false, fmt.Errorf("add segment %s/%d: %w", seg.VideoID, seg.Index, err)
	}
	got, err := s.Segment(ctx, seg.VideoID, seg.Index)
	return got, n == 1, err
}

func (s *SQLite) Segment(ctx context.Context, videoID string, index int) (Segment, error) {
	seg, err := scanSegment(s.db.QueryRowContext(ctx, `SELECT video_id, idx, size, sha256, created_at
		FROM segments WHERE video_id = ? AND idx = ?`, videoID, index))
	if err != nil {
		return Segment{}, fmt.Errorf("segment %s/%d: %w", videoID, index, err)
	}
	return seg, nil
}

func (s *SQLite) Segments(ctx context.Context, videoID string) ([]Segment, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT video_id, idx, size, sha256, created_at
		FROM segments WHERE video_id = ? ORDER BY idx`, videoID)
	if err != nil {
		return nil, fmt.Errorf("segments of %s: %w", videoID, err)
	}
	defer rows.Close()
	var out []Segment
	for rows.Next() {
		seg, err := scanSegment(rows)
		if err != nil {
			return nil, fmt.Errorf("segments of %s: %w", videoID, err)
		}
		out = append(out, seg)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("segments of %s: %w", videoID, err)
	}
	return out, nil
}

type scanner interface{ Scan(dest ...any) error }

func scanVideo(r scanner) (Video, error) {
	var (
		v         Video
		state     string
		created   int64
		ready     sql.NullInt64
		durations string
		cta       sql.NullString
		privacy   string
		expires   sql.NullInt64
	)
	err := r.Scan(&v.ID, &v.Slug, &v.RecordingID, &v.Title, &state, &created, &ready,
		&v.HasInit, &v.SegmentCount, &durations, &v.WrappedKey, &v.OwnerID, &v.WorkspaceID,
		&v.Description, &cta, &privacy, &v.PasswordHash, &expires, &v.Downloads, &v.ProbedDuration)
	if errors.Is(err, sql.ErrNoRows) {
		return Video{}, ErrNotFound
	}
	if err != nil {
		return Video{}, err
	}
	v.State = State(state)
	v.CreatedAt = time.UnixMicro(created).UTC()
	if ready.Valid {
		v.ReadyAt = time.UnixMicro(ready.Int64).UTC()
	}
	if err := json.Unmarshal([]byte(durations), &v.Durations); err != nil {
		return Video{}, fmt.Errorf("decode durations: %w", err)
	}
	if len(v.Durations) == 0 {
		v.Durations = nil
	}
	v.Privacy = Privacy(privacy)
	v.ExpiresAt = fromNull(expires)
	if cta.Valid {
		v.CTAButtons = []CTAButton{}
		if err := json.Unmarshal([]byte(cta.String), &v.CTAButtons); err != nil {
			return Video{}, fmt.Errorf("decode cta_buttons: %w", err)
		}
	}
	return v, nil
}

func scanSegment(r scanner) (Segment, error) {
	var (
		seg     Segment
		created int64
	)
	err := r.Scan(&seg.VideoID, &seg.Index, &seg.Size, &seg.SHA256, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Segment{}, ErrNotFound
	}
	if err != nil {
		return Segment{}, err
	}
	seg.CreatedAt = time.UnixMicro(created).UTC()
	return seg, nil
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func isUnique(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintUnique ||
		errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey ||
		pgCode(err) == pgUniqueViolation
}

func isForeignKey(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintForeignKey ||
		pgCode(err) == pgForeignKeyViolation
}

// DB exposes the handle for tests and maintenance tools.
func (s *SQLite) DB() *sql.DB { return s.db }
