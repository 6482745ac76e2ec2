package media

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"framecast.dev/server/internal/blob"
	"framecast.dev/server/internal/jobs"
	"framecast.dev/server/internal/store"
	"framecast.dev/server/internal/store/storetest"
	"framecast.dev/shared/api"
	"framecast.dev/shared/seal"
	"framecast.dev/shared/testenv"
)

// interruptedImport uploads a 20 s clip and runs an import attempt that
// is cut off (its context ends, as when the server is killed: nothing is
// taken back) right after it published its first segments. It returns
// the service, its store and disk, the video as the attempt left it, and
// a function that turns off the cut for later attempts.
func interruptedImport(t *testing.T) (*Service, store.Store, *blob.Disk, store.Video, func()) {
	t.Helper()
	ffmpeg := testenv.Require(t, "ffmpeg")
	testenv.Require(t, "ffprobe")
	ctx := context.Background()
	st := storetest.Open(t, storetest.SQLite)
	disk, err := blob.NewDisk(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var (
		crash     context.CancelFunc
		published atomic.Int32
	)
	s, err := New(Config{Store: st, Blobs: disk, KEK: seal.NewKey(), SpoolDir: t.TempDir(), BaseURL: "http://framecast.test",
		Log: log, Jobs: jobs.New(jobs.Config{Store: st, Log: log}), Tools: FindTools(), WorkDir: t.TempDir(),
		OnImportPublished: func(_ string, n int) {
			if published.CompareAndSwap(0, int32(n)) && crash != nil {
				crash()
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "clip.mp4")
	// 4:4:4 is transcoded: slow enough that the first publication comes
	// long before the last segment.
	if out, err := exec.Command(ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25",
		"-t", "20", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p", "-g", "50", src).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	body, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	v, _, err := s.StartImport(ctx, "", "clip.mp4", int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.WriteImport(ctx, ImportUpload{VideoID: v.ID, BodyLength: int64(len(body)), Abort: func() {}}, bytes.NewReader(body)); err != nil {
		t.Fatal(err)
	}

	attempt, cancel := context.WithCancel(ctx)
	crash = cancel
	if err := s.processImport(attempt, store.Job{VideoID: v.ID, Attempts: 1, MaxAttempts: 3}); err == nil {
		t.Fatal("the interrupted attempt succeeded")
	}
	half, err := st.Video(ctx, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !half.Growing() || half.SegmentCount != int(published.Load()) || half.SegmentCount >= 10 {
		t.Fatalf("after the interruption: %+v (published %d)", half, published.Load())
	}
	if pl := Playlist(half); strings.Contains(pl, "#EXT-X-ENDLIST") || !strings.Contains(pl, "#EXT-X-PLAYLIST-TYPE:EVENT") {
		t.Fatalf("an interrupted import's playlist:\n%s", pl)
	}

	return s, st, disk, half, func() { crash = nil }
}

// An import attempt that stops after publishing its first segments (here
// its context ends, as when the server is killed: nothing is taken back)
// leaves a video that plays that far and has no end; the retried job
// clears it, starts over with a fresh key and ends with every segment
// stored once, all of them opening.
func TestImportInterruptedMidwayIsRetriedClean(t *testing.T) {
	ctx := context.Background()
	s, st, disk, half, uncut := interruptedImport(t)
	v := half
	uncut()
	if err := s.processImport(ctx, store.Job{VideoID: v.ID, Attempts: 2, MaxAttempts: 3}); err != nil {
		t.Fatal(err)
	}
	done, err := st.Video(ctx, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	if done.State != store.StateReady || done.SegmentCount != 10 || done.Duration() < 19.9 || done.Duration() > 20.1 ||
		string(done.WrappedKey) == string(half.WrappedKey) {
		t.Fatalf("after the retry: %+v", done)
	}
	segs, err := st.Segments(ctx, v.ID)
	if err != nil || len(segs) != done.SegmentCount+1 {
		t.Fatalf("%d segment rows for %d segments and init: %v", len(segs), done.SegmentCount, err)
	}
	stored := 0
	for info, err := range disk.List(ctx, "videos/"+v.ID+"/") {
		if err != nil {
			t.Fatal(err)
		}
		stored++
		if strings.Contains(info.Key, "/source/") {
			t.Errorf("the upload is still stored: %s", info.Key)
		}
	}
	if stored != len(segs) {
		t.Errorf("%d blobs for %d segments: the interrupted attempt's are left", stored, len(segs))
	}
	for _, seg := range segs {
		rc, _, err := s.OpenSegment(ctx, done, api.SegmentIndex(seg.Index))
		if err != nil {
			t.Fatalf("segment %d: %v", seg.Index, err)
		}
		if _, err := io.Copy(io.Discard, rc); err != nil {
			t.Fatalf("segment %d: %v", seg.Index, err)
		}
		rc.Close()
	}
}

// An import whose every attempt was cut off is given up by the job queue
// without its handler seeing the end: the give-up takes back what the last
// attempt published (the share link stops playing a partial video with no
// end) and the owner sees the failure.
func TestGivenUpImportIsTakenBack(t *testing.T) {
	ctx := context.Background()
	s, st, _, half, _ := interruptedImport(t)
	s.importGivenUp(ctx, store.Job{VideoID: half.ID}, "interrupted: 3 attempts did not finish")
	v, err := st.Video(ctx, half.ID)
	if err != nil {
		t.Fatal(err)
	}
	if v.Playable() || v.SegmentCount != 0 {
		t.Fatalf("a given-up import still plays: %+v", v)
	}
	im, err := st.Import(ctx, half.ID)
	if err != nil {
		t.Fatal(err)
	}
	if im.State != store.ImportFailed || !strings.Contains(im.Message, "interrupted") {
		t.Fatalf("the owner is not told: %+v", im)
	}
}
