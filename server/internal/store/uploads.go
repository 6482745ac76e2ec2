package store

import (
	"context"
	"time"
)

// Upload is a segment upload in progress. Its bytes so far are staged in
// the blob store (media decides where); the row says how many there are,
// so any replica can answer HEAD and take a PATCH.
type Upload struct {
	VideoID   string
	Index     int
	SHA256    string // as announced by the client
	Length    int64  // total sealed length
	Received  int64  // bytes durably staged
	UpdatedAt time.Time
}

// Uploads is the part of Store that lets server replicas share uploads in
// progress and take turns on them.
type Uploads interface {
	// StartUpload records a fresh upload of a segment (Received 0),
	// replacing any earlier one of the same index.
	StartUpload(ctx context.Context, u Upload) error
	// Upload returns the upload in progress, or ErrNotFound.
	Upload(ctx context.Context, videoID string, index int) (Upload, error)
	// AdvanceUpload moves Received from from to to. ErrConflict when
	// Received is not from (someone else moved it), ErrNotFound when the
	// upload is gone.
	AdvanceUpload(ctx context.Context, videoID string, index int, from, to int64, now time.Time) error
	// DeleteUpload forgets the upload; a missing one is not an error.
	DeleteUpload(ctx context.Context, videoID string, index int) error

	// AcquireLease takes the named lease for holder until until, if it is
	// free or its previous holder let it lapse (expired at or before now).
	AcquireLease(ctx context.Context, name, holder string, now, until time.Time) (bool, error)
	// RenewLease extends holder's lease and reports whether someone has
	// asked for it (WantLease). ErrNotFound when holder no longer has it.
	RenewLease(ctx context.Context, name, holder string, until time.Time) (releaseWanted bool, err error)
	// WantLease asks the lease's holder, whichever replica it is on, to
	// let go.
	WantLease(ctx context.Context, name string) error
	// ReleaseLease gives the lease up if holder has it.
	ReleaseLease(ctx context.Context, name, holder string) error
}
