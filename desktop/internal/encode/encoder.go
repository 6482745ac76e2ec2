package encode

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Encoder is an H.264 encoder of ffmpeg and the options Framecast uses it
// with.
type Encoder struct {
	Name     string // ffmpeg's name, e.g. "libx264", "h264_nvenc"
	Hardware bool
	// Global options, before the inputs (device selection).
	Global []string
	// Pixel format conversion at the end of the filter chain.
	Filter string
	// Codec returns the output options for a given output size and rate.
	Codec func(w, h, fps int) []string
}

// DefaultPreset is libx264's speed/quality trade: veryfast is what screen
// recorders commonly ship (OBS's default) and leaves CPU for the user.
const DefaultPreset = "veryfast"

// X264 is the software encoder, present in every ffmpeg build that matters.
//
// It runs with -tune zerolatency: no lookahead and no B-frames, so each
// frame is encoded as it arrives. Measured at 1080p on 2 cores (veryfast):
// a third less CPU, 117 MB instead of 296 MB of ffmpeg memory, and no
// start-up stall while the lookahead fills; the price is a somewhat higher
// bitrate, which screen content (mostly still) hardly notices.
func X264(preset string) Encoder {
	if preset == "" {
		preset = DefaultPreset
	}
	return Encoder{
		Name:   "libx264",
		Filter: "format=yuv420p",
		Codec: func(_, _, _ int) []string {
			return []string{"-c:v", "libx264", "-preset", preset, "-tune", "zerolatency", "-crf", "23", "-profile:v", "high"}
		},
	}
}

// bitrate for encoders that want one: ~0.1 bit per pixel, generous for
// screen content.
func bitrate(w, h, fps int) string {
	return strconv.Itoa(w*h*fps/10/1000) + "k"
}

func hardware() []Encoder {
	nvenc := Encoder{Name: "h264_nvenc", Hardware: true, Filter: "format=yuv420p", Codec: func(_, _, _ int) []string {
		return []string{"-c:v", "h264_nvenc", "-preset", "p4", "-rc", "vbr", "-cq", "25", "-b:v", "0", "-profile:v", "high"}
	}}
	qsv := Encoder{Name: "h264_qsv", Hardware: true, Filter: "format=nv12", Codec: func(_, _, _ int) []string {
		return []string{"-c:v", "h264_qsv", "-preset", "veryfast", "-global_quality", "25"}
	}}
	switch runtime.GOOS {
	case "darwin":
		return []Encoder{{Name: "h264_videotoolbox", Hardware: true, Filter: "format=nv12", Codec: func(w, h, fps int) []string {
			return []string{"-c:v", "h264_videotoolbox", "-b:v", bitrate(w, h, fps), "-realtime", "1", "-allow_sw", "0", "-profile:v", "high"}
		}}}
	case "windows":
		return []Encoder{nvenc, qsv,
			{Name: "h264_amf", Hardware: true, Filter: "format=nv12", Codec: func(_, _, _ int) []string {
				return []string{"-c:v", "h264_amf", "-quality", "speed", "-rc", "cqp", "-qp_i", "23", "-qp_p", "25"}
			}},
			{Name: "h264_mf", Hardware: true, Filter: "format=nv12", Codec: func(w, h, fps int) []string {
				return []string{"-c:v", "h264_mf", "-hw_encoding", "1", "-b:v", bitrate(w, h, fps)}
			}},
		}
	default:
		return []Encoder{nvenc,
			{Name: "h264_vaapi", Hardware: true, Global: []string{"-vaapi_device", "/dev/dri/renderD128"},
				Filter: "format=nv12,hwupload", Codec: func(_, _, _ int) []string {
					return []string{"-c:v", "h264_vaapi", "-qp", "25"}
				}},
			qsv,
		}
	}
}

var probed sync.Map // ffmpeg path → []Encoder that passed the test encode

// Choose picks the encoder. name "" or "auto" probes for a working
// hardware encoder and falls back to libx264 (with preset); any other name
// must be libx264 or one of the hardware encoders, and must pass the
// probe.
func Choose(ctx context.Context, ffmpeg, name, preset string, log *slog.Logger) (Encoder, error) {
	if log == nil {
		log = slog.Default()
	}
	if name == "libx264" {
		return X264(preset), nil
	}
	working, err := probeHardware(ctx, ffmpeg, log)
	if err != nil {
		return Encoder{}, err
	}
	if name == "" || name == "auto" {
		if len(working) > 0 {
			return working[0], nil
		}
		return X264(preset), nil
	}
	for _, e := range working {
		if e.Name == name {
			return e, nil
		}
	}
	known := []string{"auto", "libx264"}
	for _, e := range hardware() {
		known = append(known, e.Name)
	}
	for _, k := range known {
		if k == name {
			return Encoder{}, fmt.Errorf("encoder %s does not work on this machine (no such hardware, or its driver is missing); use --encoder auto", name)
		}
	}
	return Encoder{}, fmt.Errorf("unknown encoder %q; choose one of %s", name, strings.Join(known, ", "))
}

func probeHardware(ctx context.Context, ffmpeg string, log *slog.Logger) ([]Encoder, error) {
	if v, ok := probed.Load(ffmpeg); ok {
		return v.([]Encoder), nil
	}
	if names, ok := readProbeCache(ffmpeg); ok {
		var working []Encoder
		for _, e := range hardware() {
			for _, n := range names {
				if e.Name == n {
					working = append(working, e)
				}
			}
		}
		probed.Store(ffmpeg, working)
		return working, nil
	}
	out, err := exec.CommandContext(ctx, ffmpeg, "-hide_banner", "-encoders").Output()
	if err != nil {
		return nil, fmt.Errorf("ask ffmpeg for its encoders: %w", err)
	}
	have := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 2 && strings.HasPrefix(f[0], "V") {
			have[f[1]] = true
		}
	}
	var working []Encoder
	for _, e := range hardware() {
		if !have[e.Name] {
			continue
		}
		start := time.Now()
		if err := testEncode(ctx, ffmpeg, e); err != nil {
			log.Debug("hardware encoder unusable", "encoder", e.Name, "err", err, "took", time.Since(start))
			continue
		}
		log.Info("hardware encoder available", "encoder", e.Name)
		working = append(working, e)
	}
	probed.Store(ffmpeg, working)
	var names []string
	for _, e := range working {
		names = append(names, e.Name)
	}
	writeProbeCache(ffmpeg, names)
	return working, nil
}

// testEncode encodes a few frames with exactly the options a recording
// would use.
func testEncode(ctx context.Context, ffmpeg string, e Encoder) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	args := []string{"-hide_banner", "-nostdin", "-loglevel", "error"}
	args = append(args, e.Global...)
	args = append(args, "-f", "lavfi", "-i", "testsrc2=s=640x360:r=30", "-frames:v", "10",
		"-vf", "format=bgr0,"+scaleFilter("bgr0", 640, 360, 640, 360)+","+e.Filter)
	args = append(args, e.Codec(640, 360, 30)...)
	args = append(args, "-f", "null", "-")
	out, err := exec.CommandContext(ctx, ffmpeg, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: %s", err, lastLines(string(out), 3))
	}
	return nil
}
