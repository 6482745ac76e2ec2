package daemon

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"framecast.dev/server/internal/media"
	"framecast.dev/server/internal/store"
	"framecast.dev/shared/api"
	"framecast.dev/shared/testenv"
)

// TestImportPlaysWhileProcessing holds an import half-processed (its
// first segments published, the rest not) and checks what people see
// then, in Chromium (server/web/e2e/import.test.js): the share page shows
// the player and plays from the start; the owner's library shows the
// upload's progress on its card, and a new upload appears in the list
// without a reload. Released, the import ends as a complete video whose
// processing runs, with each segment stored once.
func TestImportPlaysWhileProcessing(t *testing.T) {
	node, chromium, e2e := browserTools(t)
	var (
		holding  atomic.Bool
		held     = make(chan int, 1)
		release  = make(chan struct{})
		released = sync.OnceFunc(func() { close(release) })
	)
	defer released()
	// The first publication of two segments or more (4 s to play) is held.
	ts := startWith(t, []Option{WithImportPublished(func(_ string, n int) {
		if n >= 2 && holding.CompareAndSwap(false, true) {
			held <- n
			<-release
		}
	})})
	b := signedInBrowser(t, ts)
	session, owner := ownerSession(t, ts)

	// 30 s in 4:4:4, which the import transcodes: slower than a stream
	// copy, so the first publication comes long before the last segment.
	dir := t.TempDir()
	ffmpeg := testenv.Require(t, "ffmpeg")
	src := filepath.Join(dir, "Quarterly review.mp4")
	if out, err := exec.Command(ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "30", "-c:v", "libx264", "-preset", "ultrafast",
		"-pix_fmt", "yuv444p", "-g", "50", "-c:a", "aac", src).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	next := filepath.Join(dir, "Next one.mp4")
	if out, err := exec.Command(ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25",
		"-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", next).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	body, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	st := startUpload(t, b, filepath.Base(src), int64(len(body)))
	a := b.do(http.MethodPatch, st.URL, strings.NewReader(string(body)), "application/offset+octet-stream",
		"X-CSRF-Token", b.csrf(), api.HeaderUploadOffset, "0")
	if a.Status != http.StatusOK {
		t.Fatalf("PATCH: %d %s", a.Status, a.Body)
	}
	var published int
	select {
	case published = <-held:
	case <-time.After(2 * time.Minute):
		t.Fatal("the import published nothing")
	}

	// Half-processed: the owner is told it plays; the playlist has what
	// was published, without an end.
	now := decodeImport(t, b.get(st.URL))
	if now.State != "processing" || !now.Playable || now.ShareURL == "" {
		t.Fatalf("while processing the upload says %+v", now)
	}
	share := strings.TrimPrefix(now.ShareURL, ts.URL)
	pl := b.get(share + "/playlist.m3u8")
	want(t, pl, http.StatusOK, "#EXT-X-PLAYLIST-TYPE:EVENT", "#EXT-X-START:TIME-OFFSET=0", "#EXT-X-MAP")
	if strings.Contains(pl.Body, "#EXT-X-ENDLIST") {
		t.Fatalf("a half-processed video's playlist has its end:\n%s", pl.Body)
	}
	if n := strings.Count(pl.Body, "#EXTINF:"); n != published || n >= 15 {
		t.Fatalf("the playlist lists %d segments, %d were published, the video has 15", n, published)
	}
	if pl.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("a growing playlist is cached: %q", pl.Header.Get("Cache-Control"))
	}
	// The owner's page of the video says how its upload stands.
	want(t, b.get("/videos/"+st.ID), http.StatusOK, "Upload: plays already · processing…")
	if v := mustVideo(t, ts, st.ID); v.State != store.StateUploading || !v.Growing() {
		t.Fatalf("half-processed video: %+v", v)
	}

	fixture, _ := json.Marshal(map[string]any{"base": ts.URL, "session": session, "share": share, "title": "Quarterly review",
		"next": map[string]string{"path": next, "title": "Next one"}})
	fx := filepath.Join(t.TempDir(), "fixture.json")
	if err := os.WriteFile(fx, fixture, 0o600); err != nil {
		t.Fatal(err)
	}
	runNode(t, node, chromium, e2e, "import.test.js", fx)

	// Released: the rest is published, then the end; processing follows.
	released()
	done := waitImport(t, b, st.URL, 2*time.Minute)
	if done.State != "done" {
		t.Fatalf("after the hold the upload is %s: %s", done.State, done.Message)
	}
	v := mustVideo(t, ts, st.ID)
	if v.State != store.StateReady || v.SegmentCount != 15 || v.Growing() {
		t.Fatalf("finished video: %+v", v)
	}
	pl = b.get(share + "/playlist.m3u8")
	want(t, pl, http.StatusOK, "#EXT-X-PLAYLIST-TYPE:VOD", "#EXT-X-ENDLIST")
	segs, err := ts.d.store.Segments(context.Background(), st.ID)
	if err != nil || len(segs) != v.SegmentCount+1 {
		t.Fatalf("%d segment rows for %d segments and the init segment: %v", len(segs), v.SegmentCount, err)
	}
	n := 0
	for _, err := range ts.d.blobs.List(context.Background(), "videos/"+st.ID+"/") {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != len(segs) {
		t.Errorf("%d blobs stored for %d segments", n, len(segs))
	}
	// What viewers get is the whole file.
	probe := testenv.Require(t, "ffprobe")
	out, err := exec.Command(probe, "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", playable(t, ts, st.ID)).Output()
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := strconv.ParseFloat(strings.TrimSpace(string(out)), 64); d < 29.5 || d > 30.5 {
		t.Errorf("the video plays %.2f s, the file 30 s", d)
	}
	kinds := map[string]bool{}
	for _, j := range ts.waitJobs(t, st.ID, 2*time.Minute) {
		kinds[j.Kind] = true
	}
	for _, k := range []string{media.JobDuration, media.JobThumbnail, media.JobGIF, media.JobMP4} {
		if !kinds[k] {
			t.Errorf("no %s job after the import", k)
		}
	}
	waitUploadsIdle(t, ts, owner.ID, 2*time.Minute)
}
