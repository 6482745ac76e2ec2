package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

func (s *SQLite) AddRecipients(ctx context.Context, rs []TrackRecipient) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("add recipients: %w", err)
	}
	defer tx.Rollback()
	for _, r := range rs {
		_, err := tx.ExecContext(ctx, `INSERT INTO track_recipients (id, video_id, email, token_hash, sent_at) VALUES (?, ?, ?, ?, ?)`,
			r.ID, r.VideoID, r.Email, r.TokenHash, micros(r.SentAt))
		if isForeignKey(err) {
			return fmt.Errorf("add recipients: video %s: %w", r.VideoID, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("add recipients: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("add recipients: %w", err)
	}
	return nil
}

func (s *SQLite) RecipientByToken(ctx context.Context, videoID, tokenHash string) (TrackRecipient, error) {
	var (
		r    TrackRecipient
		sent int64
	)
	err := s.db.QueryRowContext(ctx, `SELECT id, video_id, email, token_hash, sent_at FROM track_recipients
		WHERE video_id = ? AND token_hash = ?`, videoID, tokenHash).Scan(&r.ID, &r.VideoID, &r.Email, &r.TokenHash, &sent)
	if errors.Is(err, sql.ErrNoRows) {
		return TrackRecipient{}, fmt.Errorf("recipient of %s: %w", videoID, ErrNotFound)
	}
	if err != nil {
		return TrackRecipient{}, fmt.Errorf("recipient of %s: %w", videoID, err)
	}
	r.SentAt = fromMicros(sent)
	return r, nil
}

func (s *SQLite) RecipientStats(ctx context.Context, videoID string) ([]RecipientStats, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT r.id, r.video_id, r.email, r.token_hash, r.sent_at, COUNT(v.view_id),
		COALESCE(MAX(v.watched_seconds), 0), COALESCE(MAX(v.furthest), -1), COALESCE(MAX(v.finished), 0)
		FROM track_recipients r LEFT JOIN track_views v ON v.video_id = r.video_id AND v.recipient_id = r.id
		WHERE r.video_id = ? GROUP BY r.id, r.video_id, r.email, r.token_hash, r.sent_at ORDER BY r.sent_at, r.email`, videoID)
	if err != nil {
		return nil, fmt.Errorf("recipients of %s: %w", videoID, err)
	}
	var out []RecipientStats
	idx := map[string]int{}
	for rows.Next() {
		var (
			r        RecipientStats
			sent     int64
			finished int
		)
		if err := rows.Scan(&r.ID, &r.VideoID, &r.Email, &r.TokenHash, &sent, &r.Views, &r.WatchedSeconds, &r.Furthest, &finished); err != nil {
			rows.Close()
			return nil, fmt.Errorf("recipients of %s: %w", videoID, err)
		}
		r.SentAt, r.Finished = fromMicros(sent), finished == 1
		idx[r.ID] = len(out)
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("recipients of %s: %w", videoID, err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	rows, err = s.db.QueryContext(ctx, `SELECT DISTINCT v.recipient_id, c.button FROM track_view_clicks c
		JOIN track_views v ON v.video_id = c.video_id AND v.view_id = c.view_id
		WHERE c.video_id = ? AND v.recipient_id <> '' ORDER BY v.recipient_id, c.button`, videoID)
	if err != nil {
		return nil, fmt.Errorf("recipients' clicks of %s: %w", videoID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id string
			b  int
		)
		if err := rows.Scan(&id, &b); err != nil {
			return nil, fmt.Errorf("recipients' clicks of %s: %w", videoID, err)
		}
		if i, ok := idx[id]; ok {
			out[i].Clicks = append(out[i].Clicks, b)
		}
	}
	return out, rows.Err()
}

func (s *SQLite) SuppressMail(ctx context.Context, addressHash string, at time.Time) error {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO mail_suppressions (address_hash, created_at) VALUES (?, ?)
		ON CONFLICT (address_hash) DO NOTHING`, addressHash, micros(at)); err != nil {
		return fmt.Errorf("suppress mail: %w", err)
	}
	return nil
}

func (s *SQLite) MailSuppressed(ctx context.Context, hashes []string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, h := range hashes {
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM mail_suppressions WHERE address_hash = ?`, h).Scan(&n); err != nil {
			return nil, fmt.Errorf("mail suppressed: %w", err)
		}
		if n > 0 {
			out[h] = true
		}
	}
	return out, nil
}
