package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
)

// The Sharing half of the SQLite store.

const assetColumns = `video_id, kind, blob_key, seal_index, size, sealed_size, content_type, width, height, duration, created_at`

func scanAsset(r scanner) (Asset, error) {
	var (
		a       Asset
		created int64
	)
	err := r.Scan(&a.VideoID, &a.Kind, &a.BlobKey, &a.SealIndex, &a.Size, &a.SealedSize, &a.ContentType,
		&a.Width, &a.Height, &a.Duration, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Asset{}, ErrNotFound
	}
	if err != nil {
		return Asset{}, err
	}
	a.CreatedAt = fromMicros(created)
	return a, nil
}

// ctaJSON encodes buttons for the cta_buttons columns: NULL for nil.
func ctaJSON(b []CTAButton) (any, error) {
	if b == nil {
		return nil, nil
	}
	j, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	return string(j), nil
}

func (s *SQLite) SharePage(ctx context.Context, slug string) (SharePage, error) {
	// One statement for the page: the owner's and workspace's fields come
	// from correlated subqueries, so the video columns stay unqualified.
	var (
		p   SharePage
		cta string
	)
	extra := []any{&p.OwnerName, &p.WorkspaceName, &p.WorkspaceLogoKey, &cta}
	v, err := scanVideo(scanWith{s.db.QueryRowContext(ctx, `SELECT `+videoColumns+`,
			COALESCE((SELECT name FROM users WHERE users.id = videos.owner_id), ''),
			COALESCE((SELECT name FROM workspaces WHERE workspaces.id = videos.workspace_id), ''),
			COALESCE((SELECT logo_key FROM workspaces WHERE workspaces.id = videos.workspace_id), ''),
			COALESCE((SELECT cta_buttons FROM workspaces WHERE workspaces.id = videos.workspace_id), '[]')
		FROM videos WHERE slug = ?`, slug), extra})
	if err != nil {
		// The slug is a secret: keep it out of the error.
		return SharePage{}, fmt.Errorf("share page: %w", err)
	}
	p.Video = v
	if err := json.Unmarshal([]byte(cta), &p.WorkspaceCTA); err != nil {
		return SharePage{}, fmt.Errorf("share page: workspace buttons: %w", err)
	}
	if p.Assets, err = s.Assets(ctx, v.ID); err != nil {
		return SharePage{}, err
	}
	return p, nil
}

// scanWith scans a row whose first columns are scanned by someone else's
// scan function and whose remaining columns go to extra.
type scanWith struct {
	r     scanner
	extra []any
}

func (s scanWith) Scan(dest ...any) error { return s.r.Scan(append(dest, s.extra...)...) }

func (s *SQLite) UpdateVideoSettings(ctx context.Context, id string, vs VideoSettings) (Video, error) {
	cta, err := ctaJSON(vs.CTAButtons)
	if err != nil {
		return Video{}, fmt.Errorf("update video %s: %w", id, err)
	}
	v, err := scanVideo(s.db.QueryRowContext(ctx, `UPDATE videos SET title = ?, description = ?, cta_buttons = ?,
			privacy = ?, password_hash = ?, expires_at = ?, downloads = ?
		WHERE id = ? RETURNING `+videoColumns,
		vs.Title, vs.Description, cta, string(vs.Privacy), vs.PasswordHash, nullTime(vs.ExpiresAt), vs.Downloads, id))
	if err != nil {
		return Video{}, fmt.Errorf("update video %s: %w", id, err)
	}
	return v, nil
}

func (s *SQLite) RotateSlug(ctx context.Context, id, slug string) (Video, error) {
	v, err := scanVideo(s.db.QueryRowContext(ctx, `UPDATE videos SET slug = ? WHERE id = ? RETURNING `+videoColumns, slug, id))
	if isUnique(err) {
		return Video{}, fmt.Errorf("rotate link of %s: %w", id, ErrConflict)
	}
	if err != nil {
		return Video{}, fmt.Errorf("rotate link of %s: %w", id, err)
	}
	return v, nil
}

func (s *SQLite) SetProbedDuration(ctx context.Context, id string, seconds float64) error {
	res, err := s.db.ExecContext(ctx, `UPDATE videos SET probed_duration = ? WHERE id = ?`, seconds, id)
	return oneRow(res, err, "set duration of "+id)
}

func (s *SQLite) PutAsset(ctx context.Context, a Asset) (Asset, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Asset{}, fmt.Errorf("put %s of %s: %w", a.Kind, a.VideoID, err)
	}
	defer tx.Rollback()
	old, err := scanAsset(tx.QueryRowContext(ctx, `SELECT `+assetColumns+` FROM video_assets WHERE video_id = ? AND kind = ?`, a.VideoID, a.Kind))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Asset{}, fmt.Errorf("put %s of %s: %w", a.Kind, a.VideoID, err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO video_assets (`+assetColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (video_id, kind) DO UPDATE SET blob_key = excluded.blob_key, seal_index = excluded.seal_index,
			size = excluded.size, sealed_size = excluded.sealed_size, content_type = excluded.content_type,
			width = excluded.width, height = excluded.height, duration = excluded.duration, created_at = excluded.created_at`,
		a.VideoID, a.Kind, a.BlobKey, a.SealIndex, a.Size, a.SealedSize, a.ContentType, a.Width, a.Height, a.Duration, micros(a.CreatedAt))
	if isForeignKey(err) {
		return Asset{}, fmt.Errorf("put %s of %s: video: %w", a.Kind, a.VideoID, ErrNotFound)
	}
	if err != nil {
		return Asset{}, fmt.Errorf("put %s of %s: %w", a.Kind, a.VideoID, err)
	}
	if err := tx.Commit(); err != nil {
		return Asset{}, fmt.Errorf("put %s of %s: %w", a.Kind, a.VideoID, err)
	}
	return old, nil
}

func (s *SQLite) Asset(ctx context.Context, videoID, kind string) (Asset, error) {
	a, err := scanAsset(s.db.QueryRowContext(ctx, `SELECT `+assetColumns+` FROM video_assets WHERE video_id = ? AND kind = ?`, videoID, kind))
	if err != nil {
		return Asset{}, fmt.Errorf("%s of %s: %w", kind, videoID, err)
	}
	return a, nil
}

func (s *SQLite) Assets(ctx context.Context, videoID string) ([]Asset, error) {
	return queryAll(ctx, s.db, scanAsset, "assets of "+videoID,
		`SELECT `+assetColumns+` FROM video_assets WHERE video_id = ? ORDER BY kind`, videoID)
}

func (s *SQLite) DeleteAsset(ctx context.Context, videoID, kind string) (Asset, error) {
	a, err := scanAsset(s.db.QueryRowContext(ctx, `DELETE FROM video_assets WHERE video_id = ? AND kind = ? RETURNING `+assetColumns, videoID, kind))
	if err != nil {
		return Asset{}, fmt.Errorf("delete %s of %s: %w", kind, videoID, err)
	}
	return a, nil
}
