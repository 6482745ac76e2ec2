package daemon

import (
	"context"
	"math"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"framecast.dev/shared/testenv"
)

// TestTrim: the owner trims a real recording from the dashboard; viewers
// get a playlist of the requested length (± a frame at the joins), the
// cut-away segments are no longer served, and the duration, thumbnail,
// GIF and MP4 follow the trimmed video. Removing the trim brings the
// whole recording back.
func TestTrim(t *testing.T) {
	ffmpeg := testenv.Require(t, "ffmpeg")
	clk := newClock()
	ts, smtp := startAccounts(t, clk)
	ctx := context.Background()
	owner := signUp(t, ts, smtp, "Olga Owner", "olga@acme.example")
	app, _ := signInDevice(t, ts, clk, owner, "laptop")
	rec := recordHLS(t, 6.5, 320, 240) // segments of 2, 2, 2 and 0.5 s
	v := rec.uploadWith(t, app, "To be trimmed")
	ts.waitJobs(t, v.ID, 90*time.Second)
	page := strings.TrimPrefix(v.ShareURL, ts.URL)
	viewer := newBrowser(t, ts.URL)
	const frame = 1.0 / 25

	decodes := func(target string) {
		t.Helper()
		out, err := exec.Command(ffmpeg, "-v", "error", "-i", target, "-f", "null", "-").CombinedOutput()
		if err != nil || len(strings.TrimSpace(string(out))) > 0 {
			t.Errorf("decoding %s: %v\n%s", target, err, out)
		}
	}
	check := func(start, end float64, parts int) {
		t.Helper()
		want := end - start
		pl := viewer.get(page + "/playlist.m3u8")
		if pl.Status != 200 || strings.Count(pl.Body, "#EXT-X-MAP") != parts || strings.Count(pl.Body, "#EXT-X-DISCONTINUITY") != parts-1 {
			t.Fatalf("trimmed playlist (%d):\n%s", pl.Status, pl.Body)
		}
		if d := probeDuration(t, v.ShareURL+"/playlist.m3u8"); math.Abs(d-want) > frame+0.01 {
			t.Errorf("trim %.2f–%.2f plays %.3f s, want %.3f ± a frame", start, end, d, want)
		}
		decodes(v.ShareURL + "/playlist.m3u8")
		if a := viewer.get(page + "/seg/0.m4s"); a.Status != 404 {
			t.Errorf("an original segment of a trimmed video: %d", a.Status)
		}
		got, err := ts.d.store.Video(ctx, v.ID)
		if err != nil || math.Abs(got.ProbedDuration-want) > frame+0.01 {
			t.Errorf("probed duration %.3f, want %.3f", got.ProbedDuration, want)
		}
		mp4 := viewer.get(page + "/download")
		if mp4.Status != 200 {
			t.Fatalf("download: %d", mp4.Status)
		}
		f := filepath.Join(t.TempDir(), "trimmed.mp4")
		os.WriteFile(f, []byte(mp4.Body), 0o600)
		var p struct {
			Streams []struct {
				Type     string `json:"codec_type"`
				Duration string `json:"duration"`
			} `json:"streams"`
		}
		ffprobeJSON(t, &p, "-show_entries", "stream=codec_type,duration", f)
		for _, s := range p.Streams {
			d, err := strconv.ParseFloat(s.Duration, 64)
			if err != nil || math.Abs(d-want) > 2*frame+0.01 {
				t.Errorf("trimmed MP4 %s stream lasts %s s, want %.3f", s.Type, s.Duration, want)
			}
		}
		decodes(f)
		if a := viewer.get(page + "/thumbnail.jpg"); a.Status != 200 {
			t.Errorf("thumbnail after the trim: %d", a.Status)
		}
	}

	// A start inside a segment (re-encoded from there) and an end inside
	// another (cut by copy).
	wantRedirect(t, owner.post("/videos/"+v.ID+"/trim", url.Values{"start": {"1.3"}, "end": {"4.7"}}), "/videos/"+v.ID+"?notice=trim-queued")
	ts.waitJobs(t, v.ID, 90*time.Second)
	check(1.3, 4.7, 2)
	want(t, owner.get("/videos/"+v.ID), 200, "Trimmed to 1.30–4.70 s", "Remove the trim")

	// Cuts on segment boundaries: nothing re-encoded, one part.
	wantRedirect(t, owner.post("/videos/"+v.ID+"/trim", url.Values{"start": {"2"}, "end": {"6"}}), "/videos/")
	ts.waitJobs(t, v.ID, 90*time.Second)
	check(2, 6, 1)

	// Both cuts in one segment: only that segment, re-encoded.
	wantRedirect(t, owner.post("/videos/"+v.ID+"/trim", url.Values{"start": {"4.4"}, "end": {"5.6"}}), "/videos/")
	ts.waitJobs(t, v.ID, 90*time.Second)
	check(4.4, 5.6, 1)

	// Out of range, too short, not numbers: refused with a message.
	want(t, owner.post("/videos/"+v.ID+"/trim", url.Values{"start": {"1"}, "end": {"60"}}), 400, "within the video")
	want(t, owner.post("/videos/"+v.ID+"/trim", url.Values{"start": {"1"}, "end": {"1.2"}}), 400, "at least")
	want(t, owner.post("/videos/"+v.ID+"/trim", url.Values{"start": {"a"}, "end": {"2"}}), 400, "seconds")

	// Removing the trim: the whole recording again.
	wantRedirect(t, owner.post("/videos/"+v.ID+"/trim", url.Values{"remove": {"on"}}), "/videos/"+v.ID+"?notice=trim-removed")
	ts.waitJobs(t, v.ID, 90*time.Second)
	pl := viewer.get(page + "/playlist.m3u8")
	if strings.Contains(pl.Body, "t/0/") || viewer.get(page+"/seg/0.m4s").Status != 200 {
		t.Fatalf("after removing the trim:\n%s", pl.Body)
	}
	if d := probeDuration(t, v.ShareURL+"/playlist.m3u8"); math.Abs(d-rec.duration()) > 0.1 {
		t.Errorf("untrimmed video plays %.2f s, want %.2f", d, rec.duration())
	}
	// The trimmed files are gone from the blob store.
	for _, f := range ts.blobFiles(t, v.ID) {
		if strings.Contains(f, "trim-") {
			t.Errorf("trim file left: %s", f)
		}
	}
}
