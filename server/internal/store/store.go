// Package store keeps the server's metadata (videos, their segments,
// accounts, jobs) in a relational database. Store is the interface the
// rest of the server uses; SQLite (one server) and PostgreSQL (several
// replicas) implement it with one body of Go and SQL (see postgres.go),
// each engine with its own migrations directory, and both pass the
// contract suite in store/storetest.
package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Errors callers branch on. Implementations wrap them.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
)

// State is where a video is in its life.
type State string

const (
	// StateUploading: created, segments arriving, not yet playable.
	StateUploading State = "uploading"
	// StateReady: finalized; the playlist and segments are served.
	StateReady State = "ready"
)

// InitIndex is the index under which a video's HLS initialization segment
// (init.mp4) is recorded; media segments count from 0.
const InitIndex = -1

// Video is one recording on the server.
type Video struct {
	ID          string
	Slug        string // unguessable; the share link's capability
	RecordingID string // the id the desktop sealed the segments with
	Title       string
	State       State
	CreatedAt   time.Time
	OwnerID     string // the user who uploaded it; "" only for videos from before accounts
	WorkspaceID string // the workspace library it is in; "" for its owner's personal library

	// Set by Finalize.
	ReadyAt      time.Time
	HasInit      bool
	SegmentCount int
	Durations    []float64 // seconds, one per media segment
	WrappedKey   []byte    // the data key, wrapped by the server's KEK

	// Share settings, edited by the owner (see VideoSettings).
	Description  string
	CTAButtons   []CTAButton // nil: the workspace's default; empty: none
	Privacy      Privacy
	PasswordHash string    // argon2id PHC string, for PrivacyPassword
	ExpiresAt    time.Time // zero: never
	Downloads    bool

	// Set by processing: the playing time ffprobe measured (0 until then).
	ProbedDuration float64
}

// Duration is the total playing time in seconds.
func (v Video) Duration() float64 {
	var d float64
	for _, s := range v.Durations {
		d += s
	}
	return d
}

// Growing reports an imported video whose first segments are published
// while the rest is still being processed: still uploading, but with its
// data key, init segment and a prefix of its segments recorded
// (PublishImportSegments). Viewers may play it from the start; it gets
// its end (and its processing) when it is finalized. A recording being
// uploaded never grows: its data key only arrives with finalize.
func (v Video) Growing() bool {
	return v.State == StateUploading && len(v.WrappedKey) > 0 && v.HasInit && v.SegmentCount > 0
}

// Playable reports whether viewers may play the video: ready, or growing.
func (v Video) Playable() bool { return v.State == StateReady || v.Growing() }

// Segment is one stored sealed segment.
type Segment struct {
	VideoID   string
	Index     int // InitIndex for the init segment
	Size      int64
	SHA256    string // lowercase hex of the sealed bytes
	CreatedAt time.Time
}

// Finalization is what Finalize records about a video.
type Finalization struct {
	HasInit      bool
	SegmentCount int
	Durations    []float64
	WrappedKey   []byte
	ReadyAt      time.Time
}

// Store is the server's metadata database.
type Store interface {
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Close releases the database; the Store is unusable afterwards.
	Close() error

	Accounts
	Imports
	Jobs
	PrivacyCentre
	Sharing
	Tracking
	Sends
	Trims
	Uploads

	// CreateVideo inserts v. If a video with the same RecordingID exists,
	// it returns that one and created=false, so a retried create is harmless
	// (callers check the returned OwnerID: recording ids are unique across
	// owners).
	CreateVideo(ctx context.Context, v Video) (got Video, created bool, err error)
	// Video returns the video with the given id, or ErrNotFound.
	Video(ctx context.Context, id string) (Video, error)
	// VideoBySlug returns the video with the given slug, or ErrNotFound.
	VideoBySlug(ctx context.Context, slug string) (Video, error)
	// Finalize marks a video ready. Finalizing a ready video again with the
	// same segment count and durations succeeds without change; anything
	// else returns ErrConflict.
	Finalize(ctx context.Context, id string, f Finalization) (Video, error)

	// AddSegment records a stored segment. If the index is already
	// recorded, it returns the existing row and added=false.
	AddSegment(ctx context.Context, s Segment) (got Segment, added bool, err error)
	// Segment returns one segment, or ErrNotFound.
	Segment(ctx context.Context, videoID string, index int) (Segment, error)
	// Segments returns a video's segments ordered by index (init first).
	Segments(ctx context.Context, videoID string) ([]Segment, error)
}

// Open opens the store a database URL names and brings its schema up to
// date.
func Open(ctx context.Context, dbURL string) (Store, error) {
	switch {
	case strings.HasPrefix(dbURL, "sqlite:"):
		return OpenSQLite(ctx, dbURL)
	case strings.HasPrefix(dbURL, "postgres://"), strings.HasPrefix(dbURL, "postgresql://"):
		return OpenPostgres(ctx, dbURL)
	default:
		return nil, fmt.Errorf("open store: unsupported database URL scheme in %q", redactURL(dbURL))
	}
}

// redactURL keeps a database URL's password out of error messages.
func redactURL(s string) string {
	if i := strings.Index(s, "@"); i > 0 {
		if j := strings.Index(s, "://"); j > 0 && j < i {
			return s[:j+3] + "<redacted>" + s[i:]
		}
	}
	return s
}
