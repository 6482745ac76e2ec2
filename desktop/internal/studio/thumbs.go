package studio

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"

	"framecast.dev/desktop/internal/importer"
	"framecast.dev/desktop/internal/recorder"
)

// thumbWidth is the library's picture width in pixels (shown at 96 CSS
// pixels; twice that stays sharp on high-density screens).
const thumbWidth = 192

// thumbPath is where a recording's thumbnail is cached: beside the queue,
// so it outlives the recording's folder (deleting the local copy keeps
// the picture in the library).
func (s *Studio) thumbPath(id string) string {
	return filepath.Join(s.q.Dir(), "thumbs", id+".jpg")
}

// thumbnail returns the cached thumbnail as a data URL, or "" when there
// is none yet; then, if the recording's MP4 is there, it is made in the
// background and the library told when it is ready.
func (s *Studio) thumbnail(id, plainDir string) string {
	path := s.thumbPath(id)
	if b, err := os.ReadFile(path); err == nil {
		return "data:image/jpeg;base64," + base64.StdEncoding.EncodeToString(b)
	}
	if plainDir == "" {
		return ""
	}
	mp4 := filepath.Join(plainDir, recorder.MP4Name)
	if _, err := os.Stat(mp4); err != nil {
		return ""
	}
	s.mu.Lock()
	if s.thumbing == nil {
		s.thumbing = map[string]bool{}
	}
	busy := s.thumbing[id]
	s.thumbing[id] = true
	s.mu.Unlock()
	if busy {
		return ""
	}
	go func() {
		// One attempt per run: a file ffmpeg cannot read is not retried
		// on every refresh of the library.
		ffmpeg, _, err := importer.Tools()
		if err == nil {
			err = importer.Thumbnail(context.Background(), ffmpeg, mp4, path, thumbWidth)
		}
		if err != nil {
			s.log.Info("no thumbnail", "recording", id, "err", err)
			return
		}
		s.cfg.OnEvent(Event{Kind: KindLibrary})
	}()
	return ""
}
