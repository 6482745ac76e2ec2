package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"framecast.dev/desktop/internal/settings"
	"framecast.dev/desktop/internal/studio"
)

// The window gets a recording's thumbnail at its URL, and nothing else:
// names that are not recording ids never reach the disk.
func TestThumbnailsServesOnlyRecordingPictures(t *testing.T) {
	t.Setenv("FRAMECAST_DEVICE_TOKEN", "")
	dir := t.TempDir()
	st, err := studio.Open(studio.Config{Dir: dir, OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a := newApp(settings.NewStore(dir))
	a.studio = st
	id := "0123456789abcdef0123456789abcdef"
	jpeg := []byte{0xff, 0xd8, 0xff, 0xe0, 'j', 'f', 'i', 'f'}
	if err := os.MkdirAll(filepath.Join(dir, "queue", "thumbs"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "queue", "thumbs", id+".jpg"), jpeg, 0o600); err != nil {
		t.Fatal(err)
	}
	get := func(path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		a.thumbnails(w, httptest.NewRequest(http.MethodGet, path, nil))
		return w
	}
	if w := get(studio.ThumbnailPrefix + id + ".jpg?v=1"); w.Code != 200 || w.Body.String() != string(jpeg) || w.Header().Get("Content-Type") != "image/jpeg" {
		t.Fatalf("thumbnail: %d %q %q", w.Code, w.Header().Get("Content-Type"), w.Body.String())
	}
	for _, bad := range []string{
		studio.ThumbnailPrefix + "ffffffffffffffffffffffffffffffff.jpg", // no such picture
		studio.ThumbnailPrefix + "..%2f..%2fsettings.json",
		studio.ThumbnailPrefix + "../settings.jpg",
		"/settings.json",
		studio.ThumbnailPrefix + id + ".png",
	} {
		if w := get(bad); w.Code != 404 {
			t.Errorf("GET %s = %d, want 404", bad, w.Code)
		}
	}
}
