package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
)

const trimColumns = `video_id, start_s, end_s, parts, created_at`

func scanTrim(r scanner) (Trim, error) {
	var (
		t       Trim
		parts   string
		created int64
	)
	err := r.Scan(&t.VideoID, &t.Start, &t.End, &parts, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Trim{}, ErrNotFound
	}
	if err != nil {
		return Trim{}, err
	}
	if err := json.Unmarshal([]byte(parts), &t.Parts); err != nil {
		return Trim{}, fmt.Errorf("decode trim parts: %w", err)
	}
	t.CreatedAt = fromMicros(created)
	return t, nil
}

func (s *SQLite) PutTrim(ctx context.Context, t Trim) (Trim, error) {
	parts, err := json.Marshal(t.Parts)
	if err != nil {
		return Trim{}, fmt.Errorf("put trim of %s: %w", t.VideoID, err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Trim{}, fmt.Errorf("put trim of %s: %w", t.VideoID, err)
	}
	defer tx.Rollback()
	old, err := scanTrim(tx.QueryRowContext(ctx, `SELECT `+trimColumns+` FROM video_trims WHERE video_id = ?`, t.VideoID))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Trim{}, fmt.Errorf("put trim of %s: %w", t.VideoID, err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO video_trims (`+trimColumns+`) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (video_id) DO UPDATE SET start_s = excluded.start_s, end_s = excluded.end_s,
			parts = excluded.parts, created_at = excluded.created_at`,
		t.VideoID, t.Start, t.End, string(parts), micros(t.CreatedAt))
	if isForeignKey(err) {
		return Trim{}, fmt.Errorf("put trim of %s: video: %w", t.VideoID, ErrNotFound)
	}
	if err != nil {
		return Trim{}, fmt.Errorf("put trim of %s: %w", t.VideoID, err)
	}
	if err := tx.Commit(); err != nil {
		return Trim{}, fmt.Errorf("put trim of %s: %w", t.VideoID, err)
	}
	return old, nil
}

func (s *SQLite) Trim(ctx context.Context, videoID string) (Trim, error) {
	t, err := scanTrim(s.db.QueryRowContext(ctx, `SELECT `+trimColumns+` FROM video_trims WHERE video_id = ?`, videoID))
	if err != nil {
		return Trim{}, fmt.Errorf("trim of %s: %w", videoID, err)
	}
	return t, nil
}

func (s *SQLite) DeleteTrim(ctx context.Context, videoID string) (Trim, error) {
	t, err := scanTrim(s.db.QueryRowContext(ctx, `DELETE FROM video_trims WHERE video_id = ? RETURNING `+trimColumns, videoID))
	if err != nil {
		return Trim{}, fmt.Errorf("delete trim of %s: %w", videoID, err)
	}
	return t, nil
}
