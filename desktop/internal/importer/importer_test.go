package importer

import (
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
