package daemon

import (
	"bufio"
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"framecast.dev/shared/api"
	"framecast.dev/shared/seal"
	"framecast.dev/shared/testenv"
)

// TestFFmpegHLSEndToEnd records 6 s of real fMP4 HLS with ffmpeg, seals and
// uploads it the way the desktop does, and has ffprobe play the share link.
func TestFFmpegHLSEndToEnd(t *testing.T) {
	ffmpeg := testenv.Require(t, "ffmpeg")
	ffprobe := testenv.Require(t, "ffprobe")
	ts := start(t)
	ctx := context.Background()

	work := t.TempDir()
	cmd := exec.Command(ffmpeg, "-hide_banner", "-loglevel", "error",
		"-f", "lavfi", "-i", "testsrc=size=320x240:rate=25",
		"-t", "6", "-c:v", "libx264", "-preset", "ultrafast", "-g", "50", "-pix_fmt", "yuv420p",
		"-f", "hls", "-hls_segment_type", "fmp4", "-hls_time", "2", "-hls_playlist_type", "vod",
		"-hls_fmp4_init_filename", "init.mp4", "-hls_segment_filename", filepath.Join(work, "seg%d.m4s"),
		filepath.Join(work, "index.m3u8"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}

	// Read ffmpeg's playlist: the init segment, then EXTINF + file pairs.
	f, err := os.Open(filepath.Join(work, "index.m3u8"))
	if err != nil {
		t.Fatal(err)
	}
	var (
		files     []string
		durations []float64
		init      string
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "#EXT-X-MAP:URI="):
			init = strings.Trim(strings.TrimPrefix(line, "#EXT-X-MAP:URI="), `"`)
		case strings.HasPrefix(line, "#EXTINF:"):
			d, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimPrefix(line, "#EXTINF:"), ","), 64)
			if err != nil {
				t.Fatal(err)
			}
			durations = append(durations, d)
		case line != "" && !strings.HasPrefix(line, "#"):
			files = append(files, line)
		}
	}
	f.Close()
	if init == "" || len(files) < 3 || len(files) != len(durations) {
		t.Fatalf("unexpected ffmpeg playlist: init %q, files %v, durations %v", init, files, durations)
	}

	key, rec := seal.NewKey(), seal.NewRecordingID()
	v, _, err := ts.client.CreateVideo(ctx, api.CreateVideoRequest{Title: "ffmpeg testsrc", RecordingID: rec.String()})
	if err != nil {
		t.Fatal(err)
	}
	upload := func(index api.SegmentIndex, name string) {
		plain, err := os.ReadFile(filepath.Join(work, name))
		if err != nil {
			t.Fatal(err)
		}
		sealed := sealSegment(t, key, rec, index, plain)
		if _, err := ts.client.PutSegment(ctx, v.ID, index, sum(sealed), int64(len(sealed)), strings.NewReader(string(sealed))); err != nil {
			t.Fatalf("upload %s: %v", name, err)
		}
	}
	// Last first: order must not matter.
	for i := len(files) - 1; i >= 0; i-- {
		upload(api.SegmentIndex(i), files[i])
	}
	upload(api.InitSegment, init)
	v, err = ts.client.Finalize(ctx, v.ID, api.FinalizeRequest{
		SegmentCount: len(files), Init: true, SegmentDurations: durations, DataKey: key[:],
	})
	if err != nil {
		t.Fatal(err)
	}

	out, err := exec.Command(ffprobe, "-v", "error", "-show_entries", "format=duration:stream=codec_name,width,height",
		"-of", "json", v.ShareURL+"/playlist.m3u8").CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe of the share link: %v\n%s\nserver log:\n%s", err, out, ts.logs.String())
	}
	var probe struct {
		Format struct {
			Duration string `json:"duration"`
		} `json:"format"`
		Streams []struct {
			Codec  string `json:"codec_name"`
			Width  int    `json:"width"`
			Height int    `json:"height"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(out, &probe); err != nil {
		t.Fatalf("ffprobe output: %v\n%s", err, out)
	}
	d, _ := strconv.ParseFloat(probe.Format.Duration, 64)
	if math.Abs(d-6) > 0.5 || len(probe.Streams) != 1 || probe.Streams[0].Codec != "h264" || probe.Streams[0].Width != 320 {
		t.Fatalf("ffprobe says %s", out)
	}

	// Decode every frame too: each segment must open and play.
	out, err = exec.Command(ffmpeg, "-v", "error", "-i", v.ShareURL+"/playlist.m3u8", "-f", "null", "-").CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("decoding the share link: %v\n%s", err, out)
	}
}
