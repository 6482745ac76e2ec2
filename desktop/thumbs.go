package main

import (
	"net/http"
	"strings"

	"framecast.dev/desktop/internal/studio"
)

// thumbnails serves the library's pictures to the window at
// studio.ThumbnailPrefix; the window's own files are served before this
// is asked.
func (a *App) thumbnails(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.URL.Path, studio.ThumbnailPrefix)
	id, isJPEG := strings.CutSuffix(name, ".jpg")
	if !ok || !isJPEG || a.studio == nil || r.Method != http.MethodGet {
		http.NotFound(w, r)
		return
	}
	path, ok := a.studio.ThumbnailFile(id)
	if !ok {
		http.NotFound(w, r)
		return
	}
	// The URL changes with the picture (?v=), so it may be kept.
	w.Header().Set("Cache-Control", "max-age=31536000, immutable")
	w.Header().Set("Content-Type", "image/jpeg")
	http.ServeFile(w, r, path)
}
