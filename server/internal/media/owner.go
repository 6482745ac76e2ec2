package media

import (
	"context"
	"errors"
	"fmt"

	"framecast.dev/server/internal/store"
)

// CheckOwner answers KindNotFound unless the video exists and belongs to
// ownerID: through the sync API a device sees only its user's videos, and
// others' look the same as missing ones.
func (s *Service) CheckOwner(ctx context.Context, id, ownerID string) error {
	v, err := s.store.Video(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && (v.OwnerID == "" || v.OwnerID != ownerID) {
		return fail(KindNotFound, "There is no video %s.", id)
	}
	return err
}

// DeleteVideo removes a video: its blobs (sealed segments and anything
// else under its prefix), uploads in progress, and its rows. Deleting a
// missing video is not an error, so a retried deletion finishes the job.
func (s *Service) DeleteVideo(ctx context.Context, id string) error {
	if !ValidID(id) {
		return fail(KindInvalid, "%q is not a video id.", id)
	}
	// Stored segments and derived files, and the staged parts of uploads
	// in progress.
	var keys []string
	for _, prefix := range []string{"videos/" + id + "/", "uploads/" + id + "/"} {
		for info, err := range s.blobs.List(ctx, prefix) {
			if err != nil {
				return fmt.Errorf("delete video %s: list blobs: %w", id, err)
			}
			keys = append(keys, info.Key)
		}
	}
	for _, k := range keys {
		if err := s.blobs.Delete(ctx, k); err != nil {
			return fmt.Errorf("delete video %s: %w", id, err)
		}
	}
	if err := s.store.DeleteVideo(ctx, id); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("delete video %s: %w", id, err)
	}
	s.log.Info("video deleted", "video_id", id, "blobs", len(keys))
	return nil
}
