// Package media is the life of a video on the server: creation, segment
// ingest (resumable, idempotent, checked against the seal header), finalize
// (the data key wrapped under the server's key-encryption key), and
// playback (the VOD playlist and segments opened as they stream).
//
// Sealed segments are stored exactly as uploaded in the blob store, under
// content-addressed keys (videos/<id>/<index>-<sha256>), so two different
// uploads for one index can never overwrite each other; the database row
// says which one counts. Uploads in progress are shared by every server
// replica: what arrived is staged in the blob store (uploads/...) and
// counted in the database, and a database lease lets one request at a
// time write a segment (see lock.go). Only the request in flight is
// spooled to local disk.
package media

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"framecast.dev/server/internal/blob"
	"framecast.dev/server/internal/jobs"
	"framecast.dev/server/internal/secrets"
	"framecast.dev/server/internal/store"
	"framecast.dev/shared/api"
	"framecast.dev/shared/seal"
)

// Kind classifies the errors callers must tell apart; the HTTP layer maps
// each to a status and an api code.
type Kind int

const (
	KindInvalid          Kind = iota + 1 // the request itself is malformed
	KindNotFound                         // no such video, segment or upload
	KindSHA256Conflict                   // the index holds (or is receiving) other bytes
	KindOffsetMismatch                   // PATCH at the wrong offset
	KindFinalized                        // the video is finalized and cannot change
	KindSegmentsMissing                  // finalize before every segment arrived
	KindTooLarge                         // the segment exceeds the size limit
	KindChecksumMismatch                 // the bytes do not hash to the announced sha256
	KindBadSeal                          // not a sealed segment for this slot
	KindWrongDataKey                     // the data key does not open the segments
	KindBusy                             // another request holds the segment
	KindInterrupted                      // the body ended early; what arrived is kept
	KindCorrupt                          // a stored segment fails authentication
	KindRecordingTaken                   // another owner created a video with this recording id
)

// Error is a failure with a message meant for the client.
type Error struct {
	Kind    Kind
	Message string
	// Offset is the number of bytes held, for KindOffsetMismatch and
	// KindInterrupted.
	Offset int64
	Err    error // the cause, for logs; never shown to clients
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

func fail(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// IsKind reports whether err is an *Error of kind k.
func IsKind(err error, k Kind) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == k
}

// Config is what the Service needs.
type Config struct {
	Store           store.Store
	Blobs           blob.Store
	KEK             seal.Key
	SpoolDir        string // local scratch for the upload request in flight
	BaseURL         string // for share links
	MaxSegmentBytes int64
	Log             *slog.Logger
	// Jobs queues processing after finalize; nil: no processing.
	Jobs *jobs.Queue
	// Tools are ffmpeg and ffprobe for processing (FindTools).
	Tools Tools
	// WorkDir holds processing's plaintext while a job runs; local disk.
	WorkDir string
	// Imports limits whole-file uploads from the dashboard.
	Imports ImportLimits
	// OnImportPublished, if set, is called each time an import being
	// processed publishes more segments (segments: how many play now).
	// Tests hold an import half-processed with it.
	OnImportPublished func(videoID string, segments int)
}

// Service implements the media use cases.
type Service struct {
	store      store.Store
	blobs      blob.Store
	kek        seal.Key
	spool      string
	baseURL    string
	maxSegment int64
	log        *slog.Logger
	leases     *leases
	now        func() time.Time
	metrics    *Metrics
	jobs       *jobs.Queue
	tools      Tools
	workDir    string
	imports    ImportLimits

	onImportPublished func(videoID string, segments int)
}

// New returns a Service; the spool dir is created if needed.
func New(c Config) (*Service, error) {
	if err := os.MkdirAll(c.SpoolDir, 0o700); err != nil {
		return nil, fmt.Errorf("media: spool dir: %w", err)
	}
	clearSpool(c.SpoolDir, c.Log)
	s := &Service{
		store:      c.Store,
		blobs:      c.Blobs,
		kek:        c.KEK,
		spool:      c.SpoolDir,
		baseURL:    strings.TrimRight(c.BaseURL, "/"),
		maxSegment: c.MaxSegmentBytes,
		log:        c.Log,
		now:        time.Now,
		metrics:    newMetrics(),
		jobs:       c.Jobs,
		tools:      c.Tools,
		workDir:    c.WorkDir,
		imports:    c.Imports,

		onImportPublished: c.OnImportPublished,
	}
	s.leases = newLeases(c.Store, c.Log, func() time.Time { return s.now() })
	return s, nil
}

// clearSpool removes spool files an earlier run left behind when it
// stopped mid-request. Their bytes were never acknowledged; the client
// sends them again. Old ones only, in case another process shares the dir.
func clearSpool(dir string, log *slog.Logger) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !strings.HasPrefix(e.Name(), "upload-") || time.Since(info.ModTime()) < time.Hour {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
			log.Warn("remove old spool file", "err", err)
		}
	}
}

// Lengths of generated identifiers: the id is 128 random bits, the slug
// 160 (it is the share link's only protection).
const (
	idBytes   = 16
	slugBytes = 20
	IDLen     = 26 // base32 characters of idBytes
	SlugLen   = 32 // base32 characters of slugBytes
)

// ValidID reports whether s has the shape of a video id; handlers check
// before anything touches the store or the file system.
func ValidID(s string) bool { return validB32(s, IDLen) }

// ValidSlug reports whether s has the shape of a slug.
func ValidSlug(s string) bool { return validB32(s, SlugLen) }

func validB32(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || '2' <= c && c <= '7') {
			return false
		}
	}
	return true
}

// ShareURL is the link viewers open.
func (s *Service) ShareURL(v store.Video) string { return s.baseURL + "/v/" + v.Slug }

// purpose binds a wrapped data key to its video (see seal.WrapKey).
func purpose(videoID string) string { return "framecast video " + videoID }

// CreateVideo creates a video owned by ownerID in their personal library,
// or returns the existing one with the same recording id. An empty
// recording id gets a fresh one. A recording id another owner created is
// a conflict (recording ids are random: only a replay would clash).
func (s *Service) CreateVideo(ctx context.Context, ownerID, title, recordingID string) (store.Video, bool, error) {
	if len(title) > api.MaxTitleLen {
		return store.Video{}, false, fail(KindInvalid, "The title is longer than %d bytes.", api.MaxTitleLen)
	}
	var rec seal.RecordingID
	if recordingID == "" {
		rec = seal.NewRecordingID()
	} else {
		var err error
		if rec, err = seal.ParseRecordingID(recordingID); err != nil {
			return store.Video{}, false, fail(KindInvalid, "The recording_id must be 32 hex digits.")
		}
	}
	v, created, err := s.store.CreateVideo(ctx, store.Video{
		ID:          secrets.Random(idBytes),
		Slug:        secrets.Random(slugBytes),
		RecordingID: rec.String(),
		Title:       title,
		State:       store.StateUploading,
		CreatedAt:   s.now().UTC(),
		OwnerID:     ownerID,
	})
	if err != nil {
		return store.Video{}, false, err
	}
	if v.OwnerID != ownerID {
		return store.Video{}, false, fail(KindRecordingTaken, "Another account already uploaded a recording with this recording_id.")
	}
	if created {
		s.log.Info("video created", "video_id", v.ID)
	}
	return v, created, nil
}

// Video returns a video and the segments stored so far.
func (s *Service) Video(ctx context.Context, id string) (store.Video, []store.Segment, error) {
	v, err := s.video(ctx, id)
	if err != nil {
		return store.Video{}, nil, err
	}
	segs, err := s.store.Segments(ctx, id)
	if err != nil {
		return store.Video{}, nil, err
	}
	return v, segs, nil
}

func (s *Service) video(ctx context.Context, id string) (store.Video, error) {
	v, err := s.store.Video(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Video{}, fail(KindNotFound, "There is no video %s.", id)
	}
	return v, err
}

func blobKey(videoID string, index api.SegmentIndex, sha string) string {
	return "videos/" + videoID + "/" + index.String() + "-" + sha
}
