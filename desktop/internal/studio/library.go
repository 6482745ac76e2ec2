package studio

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"framecast.dev/desktop/internal/queue"
	"framecast.dev/desktop/internal/settings"
)

// Library states of a recording.
const (
	LibRecording = "recording" // being recorded
	LibWaiting   = "waiting"   // finished, waiting to upload (offline, or no server set)
	LibUploading = "uploading" // finished, upload going on
	LibUploaded  = "uploaded"  // playable at ShareURL
	LibFailed    = "failed"    // given up on; Error says why
)

// Recording is one entry of the library.
type Recording struct {
	ID        string  `json:"id"`
	Title     string  `json:"title"`
	CreatedAt int64   `json:"createdAt"` // Unix milliseconds
	Seconds   float64 `json:"seconds"`
	State     string  `json:"state"`
	Segments  int     `json:"segments"`
	Uploaded  int     `json:"uploaded"`  // segments on the server
	Progress  float64 `json:"progress"`  // 0..1
	ShareURL  string  `json:"shareURL"`  // "" until the server made the video
	Error     string  `json:"error"`     // why it failed, or the latest upload trouble
	LocalCopy bool    `json:"localCopy"` // the recording's folder (its MP4) is still on disk
	Kind      string  `json:"kind"`      // "recording", or "import" for an imported file
	Thumbnail string  `json:"thumbnail"` // the JPEG's URL in the window (ThumbnailPrefix); "" until made
	OnServer  bool    `json:"onServer"`  // the server has made the video (it can be sent by e-mail)
}

// Recordings returns the library, newest first.
func (s *Studio) Recordings(ctx context.Context) ([]Recording, error) {
	rs, err := s.q.ListRecordings(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the library: %w", err)
	}
	base := s.serverURL()
	thumbs := make([]string, len(rs))
	for i, r := range rs {
		thumbs[i] = s.thumbnail(r.ID.String(), r.PlainDir)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Recording, 0, len(rs))
	for i := len(rs) - 1; i >= 0; i-- {
		r := rs[i]
		id := r.ID.String()
		e := Recording{ID: id, Title: r.Title, CreatedAt: r.CreatedAt.UnixMilli(), Seconds: r.Duration.Seconds(),
			Segments: r.SegmentCount, Uploaded: r.Uploaded, ShareURL: s.links[id], Error: r.Failure, Kind: r.Kind,
			Thumbnail: thumbs[i], OnServer: r.ServerID != ""}
		if e.ShareURL == "" && r.Slug != "" && base != "" {
			e.ShareURL = base + "/v/" + r.Slug
		}
		if p, ok := s.progress[id]; ok && p[1] > 0 {
			e.Progress = float64(p[0]) / float64(p[1])
		} else if r.SegmentCount > 0 {
			e.Progress = float64(r.Uploaded) / float64(r.SegmentCount)
		}
		switch r.State {
		case queue.StateRecording:
			e.State = LibRecording
		case queue.StateFinished:
			e.State = LibWaiting
			if s.u != nil && !s.offline {
				e.State = LibUploading
			}
		case queue.StateUploaded:
			e.State, e.Progress = LibUploaded, 1
		case queue.StateFailed:
			e.State = LibFailed
		}
		if r.PlainDir != "" && r.Kind != queue.KindImport {
			if _, err := os.Stat(r.PlainDir); err == nil {
				e.LocalCopy = true
			}
		}
		out = append(out, e)
	}
	return out, nil
}

func (s *Studio) serverURL() string {
	st, err := s.settings.Load()
	if err != nil || st.Validate() != nil {
		return ""
	}
	return strings.TrimRight(st.ServerURL, "/")
}

// Retry asks for another upload attempt now: a failed recording is tried
// again from where it stopped, a waiting one is sent at once.
func (s *Studio) Retry(ctx context.Context, id string) error {
	rid, err := parseID(id)
	if err != nil {
		return err
	}
	r, err := s.q.Recording(ctx, rid)
	if err != nil {
		return fmt.Errorf("retry: %w", err)
	}
	if r.State == queue.StateFailed {
		if r.Failure == cancelled {
			return errors.New("this recording was cancelled; it is not uploaded")
		}
		if err := s.q.Retry(ctx, rid); err != nil {
			return fmt.Errorf("retry “%s”: %w", r.Title, err)
		}
	}
	u := s.uploader()
	if u == nil {
		if err := s.Reconfigure(); err != nil {
			return fmt.Errorf("cannot upload yet: %w", err)
		}
	} else {
		u.Notify()
	}
	s.cfg.OnEvent(Event{Kind: KindLibrary})
	return nil
}

// DeleteLocal deletes the recording's folder on this computer (its MP4).
// Only an uploaded or cancelled recording can go: until then the folder
// may hold what the upload still needs.
func (s *Studio) DeleteLocal(ctx context.Context, id string) error {
	rid, err := parseID(id)
	if err != nil {
		return err
	}
	r, err := s.q.Recording(ctx, rid)
	if err != nil {
		return fmt.Errorf("delete the local copy: %w", err)
	}
	if r.State != queue.StateUploaded && !(r.State == queue.StateFailed && r.Failure == cancelled) {
		return fmt.Errorf("“%s” is not uploaded yet; delete its local copy once it is", r.Title)
	}
	dir := r.PlainDir
	if dir == "" {
		return nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("delete the local copy of “%s” in %s: %w", r.Title, dir, err)
	}
	s.cfg.OnEvent(Event{Kind: KindLibrary})
	return nil
}

// Settings returns the settings store the studio reads.
func (s *Studio) Settings() *settings.Store { return s.settings }

const cancelled = "Cancelled while recording."
