package daemon

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"framecast.dev/server/internal/store"
	"framecast.dev/shared/api"
	"framecast.dev/shared/seal"
	"framecast.dev/shared/testenv"
)

// hlsRecording is a real recording made by ffmpeg the way the desktop
// makes one: H.264 + AAC in ~2 s fragmented-MP4 HLS segments.
type hlsRecording struct {
	dir       string
	init      string
	files     []string
	durations []float64
	width     int
	height    int
}

func (r hlsRecording) duration() float64 {
	var d float64
	for _, x := range r.durations {
		d += x
	}
	return d
}

// recordHLS encodes seconds of a moving test pattern with a tone, with the
// desktop's encoder settings (libx264 veryfast, High profile: B-frames).
func recordHLS(t testing.TB, seconds float64, width, height int) hlsRecording {
	t.Helper()
	ffmpeg := testenv.Require(t, "ffmpeg")
	dir := t.TempDir()
	cmd := exec.Command(ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error",
		"-f", "lavfi", "-i", fmt.Sprintf("testsrc2=size=%dx%d:rate=25", width, height),
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", strconv.FormatFloat(seconds, 'f', 3, 64), "-map", "0:v", "-map", "1:a",
		"-c:v", "libx264", "-preset", "veryfast", "-crf", "30", "-profile:v", "high", "-pix_fmt", "yuv420p",
		"-g", "50", "-force_key_frames", "expr:gte(t,n_forced*2)",
		"-c:a", "aac", "-b:a", "96k", "-ac", "2",
		"-f", "hls", "-hls_time", "2", "-hls_list_size", "0", "-hls_playlist_type", "event", "-hls_segment_type", "fmp4",
		"-hls_fmp4_init_filename", "init.mp4", "-hls_segment_filename", filepath.Join(dir, "seg%05d.m4s"), "-start_number", "1",
		"-hls_flags", "independent_segments", filepath.Join(dir, "index.m3u8"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	f, err := os.Open(filepath.Join(dir, "index.m3u8"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := hlsRecording{dir: dir, width: width, height: height}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "#EXT-X-MAP:URI="):
			r.init = strings.Trim(strings.TrimPrefix(line, "#EXT-X-MAP:URI="), `"`)
		case strings.HasPrefix(line, "#EXTINF:"):
			d, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimPrefix(line, "#EXTINF:"), ","), 64)
			if err != nil {
				t.Fatal(err)
			}
			r.durations = append(r.durations, d)
		case line != "" && !strings.HasPrefix(line, "#"):
			r.files = append(r.files, line)
		}
	}
	if r.init == "" || len(r.files) == 0 || len(r.files) != len(r.durations) {
		t.Fatalf("unexpected ffmpeg playlist: %+v", r)
	}
	return r
}

// upload seals and uploads a recording through the sync API with the
// shared client, as the desktop does, and finalizes it.
func (r hlsRecording) upload(t testing.TB, ts *testServer, title string) api.Video {
	t.Helper()
	return r.uploadWith(t, ts.client, title)
}

// uploadWith uploads with a given client (a signed-in device's).
func (r hlsRecording) uploadWith(t testing.TB, client *api.Client, title string) api.Video {
	t.Helper()
	ctx := context.Background()
	key, rec := seal.NewKey(), seal.NewRecordingID()
	v, _, err := client.CreateVideo(ctx, api.CreateVideoRequest{Title: title, RecordingID: rec.String()})
	if err != nil {
		t.Fatal(err)
	}
	put := func(index api.SegmentIndex, name string) {
		plain, err := os.ReadFile(filepath.Join(r.dir, name))
		if err != nil {
			t.Fatal(err)
		}
		sealed := sealSegment(t, key, rec, index, plain)
		if _, err := client.PutSegment(ctx, v.ID, index, sum(sealed), int64(len(sealed)), bytes.NewReader(sealed)); err != nil {
			t.Fatalf("upload %s: %v", name, err)
		}
	}
	put(api.InitSegment, r.init)
	for i, name := range r.files {
		put(api.SegmentIndex(i), name)
	}
	v, err = client.Finalize(ctx, v.ID, api.FinalizeRequest{
		SegmentCount: len(r.files), Init: true, SegmentDurations: r.durations, DataKey: key[:],
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// waitJobs waits until every job of the video is done; a failed job fails
// the test with its error.
func (ts *testServer) waitJobs(t testing.TB, videoID string, timeout time.Duration) []store.Job {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		js, err := ts.d.store.VideoJobs(context.Background(), videoID)
		if err != nil {
			t.Fatal(err)
		}
		pending := 0
		for _, j := range js {
			switch j.State {
			case store.JobFailed:
				t.Fatalf("job %s (%s) failed: %s", j.Kind, j.ID, j.LastError)
			case store.JobQueued, store.JobRunning:
				if j.LastError != "" {
					t.Fatalf("job %s (%s) failed an attempt: %s", j.Kind, j.ID, j.LastError)
				}
				pending++
			}
		}
		if pending == 0 && len(js) > 0 {
			return js
		}
		if time.Now().After(deadline) {
			t.Fatalf("jobs of %s still pending after %v: %+v", videoID, timeout, js)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ffprobeJSON runs ffprobe with JSON output into v.
func ffprobeJSON(t testing.TB, v any, args ...string) {
	t.Helper()
	ffprobe := testenv.Require(t, "ffprobe")
	out, err := exec.Command(ffprobe, append([]string{"-v", "error", "-of", "json"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe %v: %v\n%s", args, err, out)
	}
	if err := json.Unmarshal(out, v); err != nil {
		t.Fatalf("ffprobe output: %v\n%s", err, out)
	}
}

func probeDuration(t testing.TB, target string) float64 {
	t.Helper()
	var p struct {
		Format struct {
			Duration string `json:"duration"`
		} `json:"format"`
	}
	ffprobeJSON(t, &p, "-show_entries", "format=duration", target)
	d, err := strconv.ParseFloat(p.Format.Duration, 64)
	if err != nil {
		t.Fatalf("ffprobe duration %q of %s", p.Format.Duration, target)
	}
	return d
}
