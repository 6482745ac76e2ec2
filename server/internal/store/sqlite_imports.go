package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// The Imports half of the store (SQLite and PostgreSQL alike).

const importColumns = `video_id, file_name, length, received, parts, state, progress, message, created_at, updated_at`

func scanImport(r scanner) (Import, error) {
	var (
		im               Import
		state            string
		created, updated int64
	)
	err := r.Scan(&im.VideoID, &im.FileName, &im.Length, &im.Received, &im.Parts, &state, &im.Progress, &im.Message, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return Import{}, ErrNotFound
	}
	if err != nil {
		return Import{}, err
	}
	im.State = ImportState(state)
	im.CreatedAt, im.UpdatedAt = fromMicros(created), fromMicros(updated)
	return im, nil
}

func (s *SQLite) CreateImport(ctx context.Context, im Import) error {
	res, err := s.db.ExecContext(ctx, `INSERT INTO imports (`+importColumns+`) VALUES (?, ?, ?, 0, 0, ?, 0, '', ?, ?)
		ON CONFLICT (video_id) DO NOTHING`,
		im.VideoID, im.FileName, im.Length, string(ImportReceiving), micros(im.CreatedAt), micros(im.CreatedAt))
	if isForeignKey(err) {
		return fmt.Errorf("create import of %s: video: %w", im.VideoID, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("create import of %s: %w", im.VideoID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("create import of %s: %w", im.VideoID, err)
	} else if n == 0 {
		return fmt.Errorf("create import of %s: %w", im.VideoID, ErrConflict)
	}
	return nil
}

func (s *SQLite) Import(ctx context.Context, videoID string) (Import, error) {
	im, err := scanImport(s.db.QueryRowContext(ctx, `SELECT `+importColumns+` FROM imports WHERE video_id = ?`, videoID))
	if err != nil {
		return Import{}, fmt.Errorf("import of %s: %w", videoID, err)
	}
	return im, nil
}

func (s *SQLite) AdvanceImport(ctx context.Context, videoID string, from, to int64, now time.Time) (Import, error) {
	im, err := scanImport(s.db.QueryRowContext(ctx, `UPDATE imports SET received = ?, parts = parts + 1, updated_at = ?
		WHERE video_id = ? AND received = ? AND state = ? AND ? <= length
		RETURNING `+importColumns, to, micros(now), videoID, from, string(ImportReceiving), to))
	if errors.Is(err, ErrNotFound) {
		if _, err := s.Import(ctx, videoID); err != nil {
			return Import{}, fmt.Errorf("advance import: %w", err)
		}
		return Import{}, fmt.Errorf("advance import of %s from %d: %w", videoID, from, ErrConflict)
	}
	if err != nil {
		return Import{}, fmt.Errorf("advance import of %s: %w", videoID, err)
	}
	return im, nil
}

func (s *SQLite) SetImportState(ctx context.Context, videoID string, state ImportState, progress float64, message string, now time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE imports SET state = ?, progress = ?, message = ?, updated_at = ? WHERE video_id = ?`,
		string(state), progress, message, micros(now), videoID)
	if err != nil {
		return fmt.Errorf("set import state of %s: %w", videoID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("set import state of %s: %w", videoID, err)
	} else if n == 0 {
		return fmt.Errorf("set import state of %s: %w", videoID, ErrNotFound)
	}
	return nil
}

func (s *SQLite) ClearImportSegments(ctx context.Context, videoID string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("clear segments of %s: %w", videoID, err)
	}
	defer tx.Rollback()
	var state string
	err = tx.QueryRowContext(ctx, `SELECT state FROM videos WHERE id = ?`, videoID).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("clear segments of %s: %w", videoID, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("clear segments of %s: %w", videoID, err)
	}
	if State(state) == StateReady {
		return fmt.Errorf("clear segments of %s: the video is ready: %w", videoID, ErrConflict)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM segments WHERE video_id = ?`, videoID); err != nil {
		return fmt.Errorf("clear segments of %s: %w", videoID, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE videos SET has_init = ?, segment_count = 0, durations = '[]', wrapped_key = NULL
		WHERE id = ?`, false, videoID); err != nil {
		return fmt.Errorf("clear segments of %s: %w", videoID, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("clear segments of %s: %w", videoID, err)
	}
	return nil
}

func (s *SQLite) AddImportSegments(ctx context.Context, segs []Segment) error {
	if len(segs) == 0 {
		return nil
	}
	id := segs[0].VideoID
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("add segments of %s: %w", id, err)
	}
	defer tx.Rollback()
	for _, seg := range segs {
		_, err := tx.ExecContext(ctx, `INSERT INTO segments (video_id, idx, size, sha256, created_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (video_id, idx) DO NOTHING`,
			seg.VideoID, seg.Index, seg.Size, seg.SHA256, micros(seg.CreatedAt))
		if isForeignKey(err) {
			return fmt.Errorf("add segments of %s: video: %w", seg.VideoID, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("add segments of %s: %w", seg.VideoID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("add segments of %s: %w", id, err)
	}
	return nil
}

func (s *SQLite) PublishImportSegments(ctx context.Context, videoID string, segs []Segment, p Publication) error {
	durations, err := json.Marshal(p.Durations)
	if err != nil {
		return fmt.Errorf("publish segments of %s: %w", videoID, err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("publish segments of %s: %w", videoID, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE videos SET has_init = ?, segment_count = ?, durations = ?, wrapped_key = ?
		WHERE id = ? AND state = ?`, p.HasInit, len(p.Durations), string(durations), p.WrappedKey, videoID, string(StateUploading))
	if err != nil {
		return fmt.Errorf("publish segments of %s: %w", videoID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("publish segments of %s: %w", videoID, err)
	} else if n == 0 {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM videos WHERE id = ?`, videoID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("publish segments of %s: %w", videoID, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("publish segments of %s: %w", videoID, err)
		}
		return fmt.Errorf("publish segments of %s: the video is ready: %w", videoID, ErrConflict)
	}
	for _, seg := range segs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO segments (video_id, idx, size, sha256, created_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (video_id, idx) DO NOTHING`,
			videoID, seg.Index, seg.Size, seg.SHA256, micros(seg.CreatedAt)); err != nil {
			return fmt.Errorf("publish segments of %s: %w", videoID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("publish segments of %s: %w", videoID, err)
	}
	return nil
}
