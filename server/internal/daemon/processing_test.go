package daemon

import (
	"bytes"
	"context"
	"image/gif"
	"image/jpeg"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"framecast.dev/server/internal/media"
	"framecast.dev/server/internal/store"
	"framecast.dev/shared/testenv"
)

// assetBytes reads a derived file the way the share routes serve it.
func (ts *testServer) assetBytes(t *testing.T, videoID, kind string) (store.Asset, []byte) {
	t.Helper()
	ctx := context.Background()
	v, err := ts.d.store.Video(ctx, videoID)
	if err != nil {
		t.Fatal(err)
	}
	a, err := ts.d.store.Asset(ctx, videoID, kind)
	if err != nil {
		t.Fatalf("%s of %s: %v", kind, videoID, err)
	}
	rc, err := ts.d.media.OpenAsset(ctx, v, a)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(b)) != a.Size {
		t.Fatalf("%s: read %d bytes, recorded size %d", kind, len(b), a.Size)
	}
	return a, b
}

// TestProcessingAfterFinalize: a real recording uploaded through the sync
// API gets its duration, a thumbnail, a GIF preview and an MP4 download,
// sealed at rest.
func TestProcessingAfterFinalize(t *testing.T) {
	ffmpeg := testenv.Require(t, "ffmpeg")
	rec := recordHLS(t, 6.5, 640, 360)
	ts := start(t)
	v := rec.upload(t, ts, "Processing")

	jobs := ts.waitJobs(t, v.ID, 90*time.Second)
	kinds := map[string]bool{}
	for _, j := range jobs {
		kinds[j.Kind] = true
		if j.State != store.JobDone || j.Attempts != 1 {
			t.Errorf("job %s: %s after %d attempts", j.Kind, j.State, j.Attempts)
		}
	}
	for _, k := range []string{media.JobDuration, media.JobThumbnail, media.JobGIF, media.JobMP4} {
		if !kinds[k] {
			t.Errorf("no %s job after finalize", k)
		}
	}

	got, err := ts.d.store.Video(context.Background(), v.ID)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got.ProbedDuration-rec.duration()) > 0.1 {
		t.Errorf("probed duration %.3f s, recording %.3f s", got.ProbedDuration, rec.duration())
	}

	// Thumbnail: a JPEG at the recording's size (under the width cap).
	a, b := ts.assetBytes(t, v.ID, store.AssetThumbnail)
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(b))
	if err != nil || cfg.Width != 640 || cfg.Height != 360 || a.Width != 640 || a.Height != 360 || a.ContentType != "image/jpeg" {
		t.Errorf("thumbnail: %dx%d (recorded %dx%d, %s), %v; want 640x360", cfg.Width, cfg.Height, a.Width, a.Height, a.ContentType, err)
	}

	// GIF: animated, looping, at most 1 MB.
	a, b = ts.assetBytes(t, v.ID, store.AssetGIF)
	if len(b) > media.GIFMaxBytes {
		t.Errorf("GIF is %d bytes, over %d", len(b), media.GIFMaxBytes)
	}
	g, err := gif.DecodeAll(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("GIF: %v", err)
	}
	if len(g.Image) < 10 || g.LoopCount != 0 || a.Duration < 2.9 {
		t.Errorf("GIF has %d frames, loop count %d, covers %.1f s; want an animated, looping preview of ~3 s", len(g.Image), g.LoopCount, a.Duration)
	}
	if w := g.Config.Width; w != a.Width || w > 480 {
		t.Errorf("GIF width %d, recorded %d", w, a.Width)
	}

	// MP4: plays to the end (every frame decodes) and lasts as long as the
	// recording.
	_, b = ts.assetBytes(t, v.ID, store.AssetMP4)
	mp4 := filepath.Join(t.TempDir(), "download.mp4")
	if err := os.WriteFile(mp4, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if d := probeDuration(t, mp4); math.Abs(d-rec.duration()) > 0.1 {
		t.Errorf("MP4 lasts %.3f s, recording %.3f s", d, rec.duration())
	}
	out, err := exec.Command(ffmpeg, "-v", "error", "-i", mp4, "-f", "null", "-").CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("decoding the MP4: %v\n%s", err, out)
	}

	// At rest, every derived file is sealed: no JPEG, GIF or MP4 bytes.
	for _, f := range ts.blobFiles(t, v.ID) {
		head := make([]byte, 16)
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		io.ReadFull(fh, head)
		fh.Close()
		if !bytes.HasPrefix(head, []byte("FCSG")) {
			t.Errorf("blob %s is not sealed: starts %q", f, head)
		}
	}
	// And no plaintext is left in the work folder.
	if left, _ := filepath.Glob(filepath.Join(ts.DataDir, "work", "*")); len(left) > 0 {
		t.Errorf("work folder not cleaned: %v", left)
	}
}
