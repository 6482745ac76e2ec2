package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// The Uploads half of the store (SQLite and PostgreSQL alike). A lease is
// a row: taking it is one upsert whose update only happens when the
// previous holder's time has run out, so exactly one of several replicas
// racing for it gets a row changed.

func (s *SQLite) StartUpload(ctx context.Context, u Upload) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO uploads (video_id, idx, sha256, length, received, updated_at)
		VALUES (?, ?, ?, ?, 0, ?)
		ON CONFLICT (video_id, idx) DO UPDATE SET sha256 = excluded.sha256, length = excluded.length,
			received = 0, updated_at = excluded.updated_at`,
		u.VideoID, u.Index, u.SHA256, u.Length, micros(u.UpdatedAt))
	if isForeignKey(err) {
		return fmt.Errorf("start upload %s/%d: video: %w", u.VideoID, u.Index, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("start upload %s/%d: %w", u.VideoID, u.Index, err)
	}
	return nil
}

func (s *SQLite) Upload(ctx context.Context, videoID string, index int) (Upload, error) {
	u := Upload{VideoID: videoID, Index: index}
	var updated int64
	err := s.db.QueryRowContext(ctx, `SELECT sha256, length, received, updated_at FROM uploads
		WHERE video_id = ? AND idx = ?`, videoID, index).Scan(&u.SHA256, &u.Length, &u.Received, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return Upload{}, fmt.Errorf("upload %s/%d: %w", videoID, index, ErrNotFound)
	}
	if err != nil {
		return Upload{}, fmt.Errorf("upload %s/%d: %w", videoID, index, err)
	}
	u.UpdatedAt = fromMicros(updated)
	return u, nil
}

func (s *SQLite) AdvanceUpload(ctx context.Context, videoID string, index int, from, to int64, now time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE uploads SET received = ?, updated_at = ?
		WHERE video_id = ? AND idx = ? AND received = ?`, to, micros(now), videoID, index, from)
	if err != nil {
		return fmt.Errorf("advance upload %s/%d: %w", videoID, index, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("advance upload %s/%d: %w", videoID, index, err)
	} else if n == 1 {
		return nil
	}
	if _, err := s.Upload(ctx, videoID, index); err != nil {
		return fmt.Errorf("advance upload: %w", err)
	}
	return fmt.Errorf("advance upload %s/%d from %d: %w", videoID, index, from, ErrConflict)
}

func (s *SQLite) DeleteUpload(ctx context.Context, videoID string, index int) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM uploads WHERE video_id = ? AND idx = ?`, videoID, index); err != nil {
		return fmt.Errorf("delete upload %s/%d: %w", videoID, index, err)
	}
	return nil
}

func (s *SQLite) AcquireLease(ctx context.Context, name, holder string, now, until time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, `INSERT INTO leases (name, holder, expires_at, release_wanted)
		VALUES (?, ?, ?, 0)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at, release_wanted = 0
		WHERE leases.expires_at <= ?`, name, holder, micros(until), micros(now))
	if err != nil {
		return false, fmt.Errorf("acquire lease %s: %w", name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("acquire lease %s: %w", name, err)
	}
	return n == 1, nil
}

func (s *SQLite) RenewLease(ctx context.Context, name, holder string, until time.Time) (bool, error) {
	var wanted bool
	err := s.db.QueryRowContext(ctx, `UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ?
		RETURNING release_wanted`, micros(until), name, holder).Scan(&wanted)
	if errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("renew lease %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return false, fmt.Errorf("renew lease %s: %w", name, err)
	}
	return wanted, nil
}

func (s *SQLite) WantLease(ctx context.Context, name string) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE leases SET release_wanted = 1 WHERE name = ?`, name); err != nil {
		return fmt.Errorf("want lease %s: %w", name, err)
	}
	return nil
}

func (s *SQLite) ReleaseLease(ctx context.Context, name, holder string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM leases WHERE name = ? AND holder = ?`, name, holder); err != nil {
		return fmt.Errorf("release lease %s: %w", name, err)
	}
	return nil
}
