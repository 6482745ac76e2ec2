package media

import (
	"context"
	"fmt"

	"framecast.dev/shared/api"
)

// DiscardUpload forgets a segment upload in progress and removes its
// staged bytes: the retention job's way with uploads abandoned for long.
// A client that comes back asks HEAD, hears offset 0 and sends the
// segment again whole, so nothing recorded is lost.
func (s *Service) DiscardUpload(ctx context.Context, videoID string, index int) error {
	s.discardStaged(ctx, videoID, api.SegmentIndex(index))
	if err := s.store.DeleteUpload(ctx, videoID, index); err != nil {
		return fmt.Errorf("discard upload %s/%d: %w", videoID, index, err)
	}
	return nil
}
