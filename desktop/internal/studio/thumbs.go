package studio

import (
	"context"
	"os"
	"path/filepath"
	"strconv"

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

// ThumbnailPrefix is where the window finds thumbnails: the library
// lists ThumbnailPrefix+ID+".jpg?v=…" and the app serves ThumbnailFile
// there. A URL, not the picture itself, because the library is listed
// again on every upload progress event and the browser caches by URL.
const ThumbnailPrefix = "/thumbs/"

// ThumbnailFile is the cached thumbnail of the recording id, if made.
// Anything that is not a recording id is refused, so no name becomes a
// path.
func (s *Studio) ThumbnailFile(id string) (string, bool) {
	rid, err := parseID(id)
	if err != nil {
		return "", false
	}
	path := s.thumbPath(rid.String())
	st, err := os.Stat(path)
	return path, err == nil && st.Mode().IsRegular()
}

// thumbnail returns the cached thumbnail's URL (its version the file's
// time), or "" when there is none yet; then, if the recording's MP4 is
// there, it is made in the background and the library told when it is
// ready.
func (s *Studio) thumbnail(id, plainDir string) string {
	path := s.thumbPath(id)
	if st, err := os.Stat(path); err == nil {
		return ThumbnailPrefix + id + ".jpg?v=" + strconv.FormatInt(st.ModTime().UnixMilli(), 36)
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
