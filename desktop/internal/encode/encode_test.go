package encode

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"framecast.dev/shared/testenv"
)

func TestOutputSize(t *testing.T) {
	for _, c := range []struct{ w, h, max, ow, oh int }{
		{1920, 1080, 1080, 1920, 1080},
		{2560, 1440, 1080, 1920, 1080},
		{3840, 2160, 720, 1280, 720},
		{641, 479, 1080, 640, 478},
		{1366, 768, 0, 1366, 768},
	} {
		if ow, oh := OutputSize(c.w, c.h, c.max); ow != c.ow || oh != c.oh {
			t.Errorf("OutputSize(%d,%d,%d) = %d,%d want %d,%d", c.w, c.h, c.max, ow, oh, c.ow, c.oh)
		}
	}
	if f := scaleFilter("bgr0", 641, 479, 640, 478); !strings.HasPrefix(f, "crop=640:478:0:0,scale=") {
		t.Errorf("odd size filter %q", f)
	}
	if f := scaleFilter("bgr0", 2560, 1440, 1920, 1080); !strings.HasPrefix(f, "scale=1920:1080:") {
		t.Errorf("scale filter %q", f)
	}
}

func TestParsePlaylist(t *testing.T) {
	const m3u8 = `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:1
#EXT-X-PLAYLIST-TYPE:EVENT
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="init.mp4"
#EXTINF:2.000000,
seg00001.m4s
#EXTINF:1.033333,
seg00002.m4s
#EXT-X-ENDLIST
`
	p, err := ParsePlaylist(strings.NewReader(m3u8))
	if err != nil {
		t.Fatal(err)
	}
	if p.Init != "init.mp4" || !p.Ended || len(p.Segments) != 2 ||
		p.Segments[1] != (Segment{Index: 2, File: "seg00002.m4s", Duration: 1033333 * time.Microsecond}) {
		t.Fatalf("%+v", p)
	}
	if _, err := ParsePlaylist(strings.NewReader("junk")); err == nil {
		t.Fatal("junk parsed")
	}
}

func TestLocateExplainsMissingFFmpeg(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("FRAMECAST_FFMPEG", "")
	_, err := Locate("")
	if !errors.Is(err, ErrNoFFmpeg) || !strings.Contains(err.Error(), "apt install ffmpeg") {
		t.Fatalf("err = %v", err)
	}
}

func TestChoose(t *testing.T) {
	ff := testenv.Require(t, "ffmpeg")
	t.Setenv("XDG_CACHE_HOME", t.TempDir()) // probe for real, cache privately
	ctx := context.Background()
	e, err := Choose(ctx, ff, "auto", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	// This machine has no GPU: the probe must reject every hardware
	// encoder ffmpeg was built with.
	if e.Name != "libx264" {
		t.Fatalf("auto chose %s on a machine without hardware encoders", e.Name)
	}
	if _, err := Choose(ctx, ff, "h264_nvenc", "", nil); err == nil || !strings.Contains(err.Error(), "does not work on this machine") {
		t.Fatalf("nvenc: %v", err)
	}
	if _, err := Choose(ctx, ff, "mpeg2", "", nil); err == nil || !strings.Contains(err.Error(), "unknown encoder") {
		t.Fatalf("mpeg2: %v", err)
	}
	// The answer was cached on disk for the next process.
	if names, ok := readProbeCache(ff); !ok || len(names) != 0 {
		t.Fatalf("probe cache: %v %v", names, ok)
	}
}

// feed writes n frames of a moving gradient and the matching audio (a
// 1 kHz tone) as fast as ffmpeg takes them.
func feed(t *testing.T, s *Session, w, h, fps, n int) {
	t.Helper()
	// Two frames in turn: a frame may be read after WriteFrame returns.
	frames := [2][]byte{make([]byte, w*h*4), make([]byte, w*h*4)}
	samplesPerFrame := 48000 / fps
	pcm := make([]byte, samplesPerFrame*2*4)
	errc := make(chan error, 1)
	go func() {
		k := 0
		for i := 0; i < n; i++ {
			for j := 0; j < samplesPerFrame; j++ {
				v := float32(0.5 * math.Sin(2*math.Pi*1000*float64(k)/48000))
				k++
				binary.LittleEndian.PutUint32(pcm[j*8:], math.Float32bits(v))
				binary.LittleEndian.PutUint32(pcm[j*8+4:], math.Float32bits(v))
			}
			if _, err := s.Audio().Write(pcm); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	written := 0
	for i := 0; i < n; i++ {
		frame := frames[written%2]
		for p := 0; p < w*h; p++ {
			frame[p*4] = byte(p%w + i*4)
			frame[p*4+1] = byte(p / w)
			frame[p*4+2] = byte(i * 8)
		}
		// Frames 30-59 come at half rate: ffmpeg repeats the others.
		if i >= 30 && i < 60 && i%2 == 1 {
			continue
		}
		if err := s.WriteFrame(frame, int64(i)); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		written++
	}
	if err := <-errc; err != nil {
		t.Fatalf("audio: %v", err)
	}
}

func TestSessionSegmentsAndRemux(t *testing.T) {
	ff := testenv.Require(t, "ffmpeg")
	ffprobe := testenv.Require(t, "ffprobe")
	dir := t.TempDir()
	s, err := Start(Config{FFmpeg: ff, Dir: dir, Width: 322, Height: 240, PixFmt: "bgr0", FPS: 30,
		MaxHeight: 120, Encoder: X264("ultrafast"), Audio: true})
	if err != nil {
		t.Fatal(err)
	}
	if w, h := s.OutputSize(); w != 160 || h != 120 {
		t.Fatalf("output size %dx%d", w, h)
	}
	feed(t, s, 322, 240, 30, 150) // 5 s
	// Segments are published while ffmpeg still runs.
	deadline := time.Now().Add(10 * time.Second)
	for {
		p, err := ReadPlaylist(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Segments) >= 1 && p.Init == InitName && !p.Ended {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no segment published while running: %+v", p)
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.CloseInputs()
	if err := s.WaitTimeout(20 * time.Second); err != nil {
		t.Fatal(err)
	}
	p, err := ReadPlaylist(dir)
	if err != nil {
		t.Fatal(err)
	}
	var total time.Duration
	parts := []string{filepath.Join(dir, p.Init)}
	for _, sg := range p.Segments {
		total += sg.Duration
		parts = append(parts, filepath.Join(dir, sg.File))
	}
	for _, part := range parts {
		if err := VerifyFragment(part, part == parts[0]); err != nil {
			t.Fatal(err)
		}
	}
	if !p.Ended || len(p.Segments) != 3 || (total-5*time.Second).Abs() > 50*time.Millisecond {
		t.Fatalf("playlist %+v, total %v", p, total)
	}
	if tmp, _ := filepath.Glob(filepath.Join(dir, "*.tmp")); len(tmp) > 0 {
		t.Fatalf("temporary files left: %v", tmp)
	}
	out := filepath.Join(dir, "out.mp4")
	if err := Remux(context.Background(), ff, parts, out); err != nil {
		t.Fatal(err)
	}
	probe, err := exec.Command(ffprobe, "-v", "error", "-show_entries", "stream=codec_name,width,height,nb_frames:format=duration",
		"-of", "default=nw=1", out).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe: %v %s", err, probe)
	}
	for _, want := range []string{"codec_name=h264", "codec_name=aac", "width=160", "height=120", "nb_frames=150"} {
		if !strings.Contains(string(probe), want) {
			t.Errorf("final MP4 lacks %s:\n%s", want, probe)
		}
	}
	if err := exec.Command(ff, "-v", "error", "-i", out, "-f", "null", "-").Run(); err != nil {
		t.Fatalf("final MP4 does not decode: %v", err)
	}
}

func TestSessionReportsFFmpegFailure(t *testing.T) {
	ff := testenv.Require(t, "ffmpeg")
	s, err := Start(Config{FFmpeg: ff, Dir: t.TempDir(), Width: 64, Height: 64, PixFmt: "bgr0", FPS: 30,
		Encoder: Encoder{Name: "bogus", Filter: "format=yuv420p", Codec: func(int, int, int) []string { return []string{"-c:v", "nosuchcodec"} }}})
	if err != nil {
		t.Fatal(err)
	}
	s.WriteFrame(make([]byte, 64*64*4), 0)
	s.CloseInputs()
	err = s.WaitTimeout(10 * time.Second)
	var ee *ExitError
	if !errors.As(err, &ee) || !strings.Contains(ee.Error(), "nosuchcodec") {
		t.Fatalf("err = %v", err)
	}
}

// TestDiskFullLeavesTruncatedSegments pins down the ffmpeg behaviour that
// VerifyFragment exists for: on a full disk the HLS muxer exits 0 and
// leaves cut-off segments under their final names.
func TestDiskFullLeavesTruncatedSegments(t *testing.T) {
	ff := testenv.Require(t, "ffmpeg")
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs (tests run as root): %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	s, err := Start(Config{FFmpeg: ff, Dir: dir, Width: 320, Height: 240, PixFmt: "bgr0", FPS: 30,
		Encoder: X264("ultrafast"), Audio: false})
	if err != nil {
		t.Fatal(err)
	}
	// Noise does not compress: 300 KB fill up within a few seconds.
	frames := [2][]byte{make([]byte, 320*240*4), make([]byte, 320*240*4)}
	seed := uint32(1)
	for i := 0; i < 200; i++ {
		frame := frames[i%2]
		for p := range frame {
			seed = seed*1664525 + 1013904223
			frame[p] = byte(seed >> 24)
		}
		if err := s.WriteFrame(frame, int64(i)); err != nil {
			break
		}
	}
	s.CloseInputs()
	_ = s.WaitTimeout(20 * time.Second)
	segs, _ := filepath.Glob(filepath.Join(dir, "seg*.m4s"))
	bad := 0
	for _, sg := range segs {
		if err := VerifyFragment(sg, false); err != nil {
			if !errors.Is(err, ErrIncomplete) {
				t.Fatal(err)
			}
			bad++
		}
	}
	if bad == 0 {
		t.Fatalf("no truncated segment among %v: ffmpeg changed, revisit disk-full handling", segs)
	}
	if err := VerifyFragment(filepath.Join(dir, InitName), true); err != nil {
		t.Fatalf("init segment: %v", err)
	}
}
