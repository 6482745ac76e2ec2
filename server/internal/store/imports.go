package store

import (
	"context"
	"time"
)

// ImportState is where a whole-file upload is.
type ImportState string

const (
	ImportReceiving  ImportState = "receiving"  // bytes arriving
	ImportProcessing ImportState = "processing" // all bytes in; probing and segmenting
	ImportFailed     ImportState = "failed"     // refused or broken; Message says why
	ImportDone       ImportState = "done"       // the video is ready
)

// Import is a video uploaded as one file from the dashboard. The file's
// bytes are stored in the blob store as parts (media decides where), each
// part one request's worth; Received counts them, so any replica can say
// where an upload stands and take the next part.
type Import struct {
	VideoID   string
	FileName  string // display only
	Length    int64
	Received  int64
	Parts     int
	State     ImportState
	Progress  float64 // of processing, 0..1
	Message   string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Publication is how far an import being processed plays.
type Publication struct {
	HasInit    bool
	Durations  []float64 // of segments 0..len-1, all stored
	WrappedKey []byte
}

// Imports is the part of Store that keeps whole-file uploads.
type Imports interface {
	// CreateImport records a new import (Received 0, receiving) of an
	// existing video; ErrNotFound without the video, ErrConflict when it
	// has one already.
	CreateImport(ctx context.Context, im Import) error
	// Import returns a video's import, or ErrNotFound.
	Import(ctx context.Context, videoID string) (Import, error)
	// AdvanceImport records one more stored part, moving Received from
	// from to to while the import is receiving. ErrConflict when Received
	// is not from or the import no longer receives.
	AdvanceImport(ctx context.Context, videoID string, from, to int64, now time.Time) (Import, error)
	// SetImportState moves an import to state with a message (failed) or
	// a progress (processing).
	SetImportState(ctx context.Context, videoID string, state ImportState, progress float64, message string, now time.Time) error
	// ClearImportSegments forgets the segment rows an interrupted
	// processing attempt left, and what it published on the video (data
	// key, init flag, durations), so the next one starts clean and the
	// video stops playing; only while the video is not ready (ErrConflict
	// then).
	ClearImportSegments(ctx context.Context, videoID string) error
	// PublishImportSegments makes a still uploading video play as far as
	// its import got, in one transaction: it records segs (an index
	// already recorded keeps its row) and sets the video's data key, init
	// flag and the durations of its first len(p.Durations) segments, so
	// the video is Growing. ErrNotFound without the video, ErrConflict
	// once it is ready.
	PublishImportSegments(ctx context.Context, videoID string, segs []Segment, p Publication) error
	// AddImportSegments records many stored segments of one video in one
	// transaction (an import stores hundreds at once); like AddSegment,
	// an index already recorded keeps its row.
	AddImportSegments(ctx context.Context, segs []Segment) error
}
