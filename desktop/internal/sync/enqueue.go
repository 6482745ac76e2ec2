package sync

import (
	"context"
	"fmt"
	"strings"
	"time"

	"framecast.dev/desktop/internal/queue"
	"framecast.dev/shared/api"
	"framecast.dev/shared/seal"
)

// QueueSegment queues a segment the recorder closed (queue.AddSegment) and
// wakes the uploader, which may be nil when no server is set. Its errors
// are sentences for the user; a full disk says so and that what was
// recorded before is kept.
func QueueSegment(ctx context.Context, q *queue.Queue, u *Uploader, id seal.RecordingID, index api.SegmentIndex, path string, d time.Duration) error {
	if _, err := q.AddSegment(ctx, id, index, path, d); err != nil {
		if isDiskFull(err) {
			return fmt.Errorf("the disk that holds the upload queue is full, so segment %s could not be sealed: free some space. Everything recorded before it is kept and will upload (%w)", index, err)
		}
		return fmt.Errorf("could not queue segment %s for upload: %w", index, err)
	}
	if u != nil {
		u.Notify()
	}
	return nil
}

// sqliteFull recognises SQLITE_FULL by its message: the queue's database
// hits the full disk when the sealed file still fitted.
func sqliteFull(err error) bool {
	return strings.Contains(err.Error(), "database or disk is full")
}
