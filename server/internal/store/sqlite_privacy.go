package store

import (
	"context"
	"fmt"
)

func (s *SQLite) SetVideoOwner(ctx context.Context, id, ownerID string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE videos SET owner_id = ? WHERE id = ?`, ownerID, id)
	if isForeignKey(err) {
		return fmt.Errorf("set owner of video %s: user: %w", id, ErrNotFound)
	}
	return oneRow(res, err, "set owner of video "+id)
}

func (s *SQLite) DeleteInvitationsTo(ctx context.Context, emailNorm string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM invitations WHERE email_norm = ?`, emailNorm); err != nil {
		return fmt.Errorf("delete invitations to an address: %w", err)
	}
	return nil
}

func (s *SQLite) DeleteRateLimits(ctx context.Context, keys []string) error {
	for _, k := range keys {
		if _, err := s.db.ExecContext(ctx, `DELETE FROM rate_limits WHERE key = ?`, k); err != nil {
			return fmt.Errorf("delete rate limits: %w", err)
		}
	}
	return nil
}
