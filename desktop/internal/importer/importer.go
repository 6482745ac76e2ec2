// Package importer turns a video file the user already has into the same
// ~2 s fragmented-MP4 HLS segments the recorder writes, so an imported
// file goes through the same sealed, offline-safe upload queue as a
// recording. H.264 video is copied as it is (sound that is not AAC is
// re-encoded); anything else is transcoded with libx264 and AAC. Copied
// video can only be cut at the file's own keyframes, so a file with a
// keyframe every 10 s gets 10 s segments: still correct, only coarser.
//
// Files are never trusted: ffprobe decides what a file is (never its
// name), and what is not a video is refused with a sentence that says so.
package importer

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"framecast.dev/desktop/internal/encode"
)

// SegmentPattern and FirstNumber name the media segments as the
// recorder's do: seg00001.m4s is the first.
const (
	SegmentPattern = "seg%05d.m4s"
	FirstNumber    = 1
)

// Limits: what the server would refuse anyway is refused before spending
// minutes on it.
const (
	MaxHeight   = 2160
	MaxDuration = 12 * time.Hour
)

// ErrNotVideo means the file holds no picture ffmpeg can decode: a text
// file renamed .mp4, a sound file, a truncated header. The error that
// matches it says so in a sentence of its own.
var ErrNotVideo = errors.New("not a video")

type refusal struct{ msg string }

func (r *refusal) Error() string        { return r.msg }
func (r *refusal) Is(target error) bool { return target == ErrNotVideo }

func refuse(format string, args ...any) error { return &refusal{fmt.Sprintf(format, args...)} }

// Info is what ffprobe found in a file.
type Info struct {
	Duration   time.Duration
	VideoCodec string
	AudioCodec string // "" without sound
	PixFmt     string
	Width      int
	Height     int
	// Convert forces re-encoding even when the video could be copied.
	Convert bool
}

// Copy says whether the video can go into segments without re-encoding:
// H.264 in the 8-bit 4:2:0 every browser plays, not taller than the cap.
func (i Info) Copy() bool {
	return !i.Convert && i.VideoCodec == "h264" && (i.PixFmt == "yuv420p" || i.PixFmt == "yuvj420p") && i.Height <= MaxHeight
}

// Tools locates ffmpeg and ffprobe (ffprobe beside ffmpeg when it is
// there, how the app bundles both, else on the PATH).
func Tools() (ffmpeg, ffprobe string, err error) {
	ffmpeg, err = encode.Locate("")
	if err != nil {
		return "", "", err
	}
	name := "ffprobe"
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	if p := filepath.Join(filepath.Dir(ffmpeg), name); fileExists(p) {
		return ffmpeg, p, nil
	}
	ffprobe, err = exec.LookPath(name)
	if err != nil {
		return "", "", fmt.Errorf("ffprobe not found beside %s or on the PATH: install ffmpeg", ffmpeg)
	}
	return ffmpeg, ffprobe, nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

type probeOut struct {
	Streams []struct {
		CodecType   string `json:"codec_type"`
		CodecName   string `json:"codec_name"`
		PixFmt      string `json:"pix_fmt"`
		Width       int    `json:"width"`
		Height      int    `json:"height"`
		Disposition struct {
			AttachedPic int `json:"attached_pic"`
		} `json:"disposition"`
	} `json:"streams"`
	Format struct {
		Duration string `json:"duration"`
	} `json:"format"`
}

// Probe reads what path holds. A file that is not a video gives an error
// matching ErrNotVideo (errors.Is) whose message says so in words.
func Probe(ctx context.Context, ffprobe, path string) (Info, error) {
	name := filepath.Base(path)
	st, err := os.Stat(path)
	if err != nil {
		return Info{}, fmt.Errorf("cannot read %s: %w", name, err)
	}
	if st.IsDir() {
		return Info{}, refuse("%s is a folder, not a video file", name)
	}
	cmd := exec.CommandContext(ctx, ffprobe, "-v", "error", "-print_format", "json", "-show_format", "-show_streams", "--", path)
	out, err := cmd.Output()
	if ctx.Err() != nil {
		return Info{}, ctx.Err()
	}
	if err != nil {
		return Info{}, refuse("%s is not a video file Framecast can read (%s)", name, stderrOf(err))
	}
	var p probeOut
	if err := json.Unmarshal(out, &p); err != nil {
		return Info{}, refuse("%s could not be examined (%v)", name, err)
	}
	var info Info
	for _, s := range p.Streams {
		switch {
		case s.CodecType == "video" && s.Disposition.AttachedPic == 0 && info.VideoCodec == "":
			info.VideoCodec, info.PixFmt, info.Width, info.Height = s.CodecName, s.PixFmt, s.Width, s.Height
		case s.CodecType == "audio" && info.AudioCodec == "":
			info.AudioCodec = s.CodecName
		}
	}
	if info.VideoCodec == "" {
		if info.AudioCodec != "" {
			return Info{}, refuse("%s is a sound file with no picture; Framecast imports videos only", name)
		}
		return Info{}, refuse("%s is not a video: it holds no picture", name)
	}
	if secs, err := strconv.ParseFloat(p.Format.Duration, 64); err == nil && secs > 0 {
		info.Duration = time.Duration(secs * float64(time.Second))
	}
	if info.Duration <= 0 {
		return Info{}, refuse("%s has no length ffmpeg can read (a damaged or unfinished file?)", name)
	}
	if info.Duration > MaxDuration {
		return Info{}, fmt.Errorf("%s is %s long; Framecast imports videos up to %s", name, info.Duration.Round(time.Second), MaxDuration)
	}
	if info.Width <= 0 || info.Height <= 0 {
		return Info{}, refuse("%s has a picture of no size", name)
	}
	return info, nil
}

func stderrOf(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) && len(ee.Stderr) > 0 {
		line, _, _ := strings.Cut(strings.TrimSpace(string(ee.Stderr)), "\n")
		return line
	}
	return err.Error()
}

// Args is the ffmpeg command line that segments in into dir.
func Args(in string, info Info) []string {
	a := []string{"-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-progress", "pipe:1",
		"-i", in, "-map", "0:v:0", "-map", "0:a:0?", "-sn", "-dn", "-map_metadata", "-1"}
	if info.Copy() {
		a = append(a, "-c:v", "copy")
	} else {
		// A keyframe every 2 s, so segments are cut on time; sizes made
		// even and capped, as the recorder's are.
		a = append(a, "-vf", fmt.Sprintf("scale=w=-2:h='min(ih,%d)':flags=bicubic,scale=trunc(iw/2)*2:trunc(ih/2)*2,format=yuv420p", MaxHeight),
			"-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-bf", "0",
			"-force_key_frames", "expr:gte(t,n_forced*2)", "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709")
	}
	if info.AudioCodec == "aac" && info.Copy() {
		a = append(a, "-c:a", "copy")
	} else if info.AudioCodec != "" {
		a = append(a, "-c:a", "aac", "-b:a", "128k", "-ac", "2", "-ar", "48000")
	}
	return append(a, "-f", "hls", "-hls_time", "2", "-hls_list_size", "0", "-hls_playlist_type", "vod",
		"-hls_segment_type", "fmp4", "-hls_fmp4_init_filename", encode.InitName,
		"-hls_segment_filename", SegmentPattern, "-start_number", strconv.Itoa(FirstNumber),
		"-hls_flags", "temp_file+independent_segments", encode.PlaylistName)
}

// MaxCopiedSegment is the largest segment stream copy may make. Copied
// video is cut only at the file's keyframes, and a file with rare ones at
// a high bit rate makes segments the server refuses (its limit is 128 MiB
// by default); such a file is converted instead. A variable so tests can
// make it small.
var MaxCopiedSegment int64 = 64 << 20

// Segment writes in's segments and playlist into dir (which must exist
// and be empty), reporting progress (0..1) as ffmpeg goes.
func Segment(ctx context.Context, ffmpeg, in, dir string, info Info, progress func(float64)) (encode.Playlist, error) {
	if progress == nil {
		progress = func(float64) {}
	}
	p, err := segment(ctx, ffmpeg, in, dir, info, progress)
	if err != nil || !info.Copy() {
		return p, err
	}
	for _, s := range p.Segments {
		if st, err := os.Stat(filepath.Join(dir, s.File)); err == nil && st.Size() > MaxCopiedSegment {
			// Start again, converting, in the emptied folder.
			ents, _ := os.ReadDir(dir)
			for _, e := range ents {
				if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
					return encode.Playlist{}, fmt.Errorf("clear the import's work folder: %w", err)
				}
			}
			info.Convert = true
			return segment(ctx, ffmpeg, in, dir, info, progress)
		}
	}
	return p, nil
}

func segment(ctx context.Context, ffmpeg, in, dir string, info Info, progress func(float64)) (encode.Playlist, error) {
	cmd := exec.CommandContext(ctx, ffmpeg, Args(in, info)...)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return encode.Playlist{}, err
	}
	if err := cmd.Start(); err != nil {
		return encode.Playlist{}, fmt.Errorf("start ffmpeg: %w", err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		// -progress writes key=value lines; out_time_us is how far it is.
		if v, ok := strings.CutPrefix(sc.Text(), "out_time_us="); ok && info.Duration > 0 {
			if us, err := strconv.ParseInt(v, 10, 64); err == nil && us > 0 {
				progress(min(1, float64(us)/float64(info.Duration.Microseconds())))
			}
		}
	}
	if err := cmd.Wait(); err != nil {
		if ctx.Err() != nil {
			return encode.Playlist{}, ctx.Err()
		}
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 300 {
			msg = msg[len(msg)-300:]
		}
		return encode.Playlist{}, fmt.Errorf("ffmpeg could not convert %s (%v): %s", filepath.Base(in), err, msg)
	}
	p, err := encode.ReadPlaylist(dir)
	if err != nil {
		return encode.Playlist{}, err
	}
	if !p.Ended || len(p.Segments) == 0 || p.Init == "" {
		return encode.Playlist{}, fmt.Errorf("ffmpeg made no playable segments from %s", filepath.Base(in))
	}
	progress(1)
	return p, nil
}

// Thumbnail writes a JPEG of the picture at 1 s (or the first frame of a
// shorter video), at most width pixels wide, to out.
func Thumbnail(ctx context.Context, ffmpeg, in, out string, width int) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o700); err != nil {
		return fmt.Errorf("make a thumbnail: %w", err)
	}
	tmp := out + ".tmp.jpg"
	defer os.Remove(tmp)
	run := func(seek string) error {
		args := []string{"-hide_banner", "-nostdin", "-loglevel", "error", "-y"}
		if seek != "" {
			args = append(args, "-ss", seek)
		}
		args = append(args, "-i", in, "-frames:v", "1", "-vf", fmt.Sprintf("scale=w='min(%d,iw)':h=-2", width), "-q:v", "5", tmp)
		b, err := exec.CommandContext(ctx, ffmpeg, args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("make a thumbnail of %s: %v: %s", filepath.Base(in), err, strings.TrimSpace(string(b)))
		}
		if !fileExists(tmp) {
			return fmt.Errorf("make a thumbnail of %s: no picture", filepath.Base(in))
		}
		return nil
	}
	if err := run("1"); err != nil {
		if err := run(""); err != nil {
			return err
		}
	}
	return os.Rename(tmp, out)
}
