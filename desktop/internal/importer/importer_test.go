package importer

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Copy what browsers play as it is; convert the rest.
func TestArgsCopyWhatBrowsersPlay(t *testing.T) {
	for _, c := range []struct {
		name  string
		info  Info
		video string // the -c:v value
		audio string // the -c:a value, "" for none
	}{
		{"h264+aac", Info{VideoCodec: "h264", PixFmt: "yuv420p", AudioCodec: "aac", Height: 1080}, "copy", "copy"},
		{"h264+opus", Info{VideoCodec: "h264", PixFmt: "yuv420p", AudioCodec: "opus", Height: 720}, "copy", "aac"},
		{"h264 silent", Info{VideoCodec: "h264", PixFmt: "yuvj420p", Height: 720}, "copy", ""},
		{"h264 4:4:4", Info{VideoCodec: "h264", PixFmt: "yuv444p", AudioCodec: "aac", Height: 720}, "libx264", "aac"},
		{"h264 8K", Info{VideoCodec: "h264", PixFmt: "yuv420p", AudioCodec: "aac", Height: 4320}, "libx264", "aac"},
		{"vp9+opus", Info{VideoCodec: "vp9", PixFmt: "yuv420p", AudioCodec: "opus", Height: 1080}, "libx264", "aac"},
	} {
		args := strings.Join(Args("in.mkv", c.info), " ")
		if !strings.Contains(args, "-c:v "+c.video+" ") {
			t.Errorf("%s: video not %s: %s", c.name, c.video, args)
		}
		if c.audio == "" && strings.Contains(args, "-c:a") || c.audio != "" && !strings.Contains(args, "-c:a "+c.audio+" ") {
			t.Errorf("%s: audio not %q: %s", c.name, c.audio, args)
		}
		if !strings.Contains(args, "-hls_segment_type fmp4") || !strings.Contains(args, "-hls_time 2 ") {
			t.Errorf("%s: not ~2 s fMP4 segments: %s", c.name, args)
		}
	}
}

// A copied file whose keyframes are too far apart for segments the server
// takes is converted instead, into ~2 s segments.
func TestSegmentConvertsWhenCopiedSegmentsAreTooBig(t *testing.T) {
	ffmpeg, ffprobe, err := Tools()
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "one-keyframe.mp4")
	// 6 s with a single keyframe: stream copy can make only one segment.
	if b, err := exec.Command(ffmpeg, "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=6",
		"-c:v", "libx264", "-preset", "veryfast", "-g", "1000", "-pix_fmt", "yuv420p", src).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, b)
	}
	info, err := Probe(context.Background(), ffprobe, src)
	if err != nil {
		t.Fatal(err)
	}
	run := func() int {
		dir := t.TempDir()
		p, err := Segment(context.Background(), ffmpeg, src, dir, info, nil)
		if err != nil {
			t.Fatal(err)
		}
		return len(p.Segments)
	}
	if n := run(); n != 1 {
		t.Fatalf("copied: %d segments, want the one the keyframes allow", n)
	}
	old := MaxCopiedSegment
	MaxCopiedSegment = 1000 // bytes: the one copied segment is bigger
	defer func() { MaxCopiedSegment = old }()
	if n := run(); n < 3 {
		t.Fatalf("after the copy made a segment too big: %d segments, want ~2 s ones from converting", n)
	}
}
