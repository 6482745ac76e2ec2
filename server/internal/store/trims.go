package store

import (
	"context"
	"time"
)

// TrimFile is one sealed file of a trimmed rendition.
type TrimFile struct {
	Key       string  `json:"key"`
	SealIndex uint32  `json:"seal_index"`
	Size      int64   `json:"size"`               // plaintext bytes
	Duration  float64 `json:"duration,omitempty"` // seconds, for media segments
}

// TrimPart is a run of segments sharing one init segment; parts are
// separated by a discontinuity (the re-encoded boundary, then the copied
// rest).
type TrimPart struct {
	Init     TrimFile   `json:"init"`
	Segments []TrimFile `json:"segments"`
}

// Trim is a video's trimmed rendition.
type Trim struct {
	VideoID   string
	Start     float64 // seconds of the original
	End       float64
	Parts     []TrimPart
	CreatedAt time.Time
}

// Duration is the trimmed rendition's playing time.
func (t Trim) Duration() float64 {
	var d float64
	for _, p := range t.Parts {
		for _, s := range p.Segments {
			d += s.Duration
		}
	}
	return d
}

// Files lists every file of the rendition.
func (t Trim) Files() []TrimFile {
	var out []TrimFile
	for _, p := range t.Parts {
		out = append(out, p.Init)
		out = append(out, p.Segments...)
	}
	return out
}

// Trims is the part of Store that keeps trimmed renditions.
type Trims interface {
	// PutTrim records a video's trimmed rendition, replacing any; it
	// returns the replaced one (empty VideoID when none) so its blobs can
	// be removed.
	PutTrim(ctx context.Context, t Trim) (replaced Trim, err error)
	// Trim returns a video's trimmed rendition, or ErrNotFound.
	Trim(ctx context.Context, videoID string) (Trim, error)
	// DeleteTrim removes and returns it.
	DeleteTrim(ctx context.Context, videoID string) (Trim, error)
}
