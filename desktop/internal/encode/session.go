package encode

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Names of what a Session writes into Config.Dir.
const (
	PlaylistName   = "index.m3u8"
	InitName       = "init.mp4"
	segmentPattern = "seg%05d.m4s"
)

// Config describes one encoding run.
type Config struct {
	FFmpeg        string // from Locate
	Dir           string // receives the playlist, init segment and segments
	Width, Height int    // of the raw frames
	PixFmt        string // of the raw frames, e.g. "bgr0"
	FPS           int
	MaxHeight     int // scale down to this height when taller (0: never)
	Encoder       Encoder
	// Audio adds a second input: 48 kHz stereo float32 little-endian.
	Audio bool
	// SegmentSeconds is the target segment length (default 2).
	SegmentSeconds int
	Log            *slog.Logger
}

// ErrDiskFull means ffmpeg could not write because the disk is full.
var ErrDiskFull = errors.New("the disk is full")

// ExitError is how ffmpeg failed, with the end of what it printed.
type ExitError struct {
	Err  error  // from the process (exit status, signal)
	Tail string // last lines of ffmpeg's stderr
}

func (e *ExitError) Error() string {
	msg := "ffmpeg stopped (" + e.Err.Error() + ")"
	if e.Tail != "" {
		msg += ": " + e.Tail
	}
	return msg
}

func (e *ExitError) Unwrap() []error {
	if strings.Contains(e.Tail, "No space left on device") {
		return []error{e.Err, ErrDiskFull}
	}
	return []error{e.Err}
}

// Session is a running ffmpeg. Write frames to Video and samples to Audio
// (each from one goroutine), then CloseInputs and Wait.
type Session struct {
	cfg        Config
	outW, outH int
	cmd        *exec.Cmd
	video      *os.File
	audio      audioInput
	stderr     *lineTail
	done       chan struct{}
	waitErr    error
	closeOnce  sync.Once
}

// OutputSize is the encoded size for w×h frames: scaled down to maxHeight
// when taller, aspect kept, both sides even (4:2:0 H.264 needs that).
func OutputSize(w, h, maxHeight int) (int, int) {
	if maxHeight > 0 && h > maxHeight {
		w = int(float64(w)*float64(maxHeight)/float64(h) + 0.5)
		h = maxHeight
	}
	return w &^ 1, h &^ 1
}

// scaleFilter converts to BT.709 limited range (what players assume for
// HD) and resizes or trims an odd pixel when needed.
func scaleFilter(inW, inH, outW, outH int) string {
	const color = "out_color_matrix=bt709:out_range=tv"
	if outW == inW&^1 && outH == inH&^1 {
		crop := ""
		if outW != inW || outH != inH {
			crop = fmt.Sprintf("crop=%d:%d:0:0,", outW, outH)
		}
		return crop + "scale=" + color
	}
	return fmt.Sprintf("scale=%d:%d:flags=bicubic:%s", outW, outH, color)
}

// args builds ffmpeg's command line; audioURL is "" without audio.
func (c Config) args(audioURL string) []string {
	outW, outH := OutputSize(c.Width, c.Height, c.MaxHeight)
	seg := c.SegmentSeconds
	if seg <= 0 {
		seg = 2
	}
	a := []string{"-hide_banner", "-nostdin", "-nostats", "-loglevel", "warning"}
	a = append(a, c.Encoder.Global...)
	a = append(a,
		"-f", "rawvideo", "-pix_fmt", c.PixFmt, "-video_size", fmt.Sprintf("%dx%d", c.Width, c.Height),
		"-framerate", strconv.Itoa(c.FPS), "-thread_queue_size", "64", "-i", "pipe:0")
	if audioURL != "" {
		a = append(a, "-f", "f32le", "-ar", "48000", "-ac", "2", "-thread_queue_size", "1024", "-i", audioURL)
	}
	a = append(a, "-map", "0:v")
	if audioURL != "" {
		a = append(a, "-map", "1:a")
	}
	a = append(a, "-vf", scaleFilter(c.Width, c.Height, outW, outH)+","+c.Encoder.Filter)
	a = append(a, c.Encoder.Codec(outW, outH, c.FPS)...)
	// A keyframe every segment length, so segments are cut on time and
	// each one decodes on its own.
	a = append(a, "-g", strconv.Itoa(c.FPS*seg), "-force_key_frames", fmt.Sprintf("expr:gte(t,n_forced*%d)", seg),
		"-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709")
	if audioURL != "" {
		a = append(a, "-c:a", "aac", "-b:a", "128k")
	}
	a = append(a, "-f", "hls", "-hls_time", strconv.Itoa(seg), "-hls_list_size", "0",
		"-hls_playlist_type", "event", "-hls_segment_type", "fmp4",
		"-hls_fmp4_init_filename", InitName, "-hls_segment_filename", segmentPattern, "-start_number", "1",
		// temp_file: a segment and the playlist appear under their names
		// only when complete.
		"-hls_flags", "temp_file+independent_segments", PlaylistName)
	return a
}

// Start launches ffmpeg. The caller must eventually call CloseInputs and
// Wait (or Kill and Wait).
func Start(cfg Config) (*Session, error) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	s := &Session{cfg: cfg, stderr: newLineTail(40, cfg.Log), done: make(chan struct{})}
	s.outW, s.outH = OutputSize(cfg.Width, cfg.Height, cfg.MaxHeight)

	vr, vw, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("create the video pipe: %w", err)
	}
	growPipe(vw, cfg.Width*cfg.Height*4)
	url := ""
	if cfg.Audio {
		if s.audio, err = newAudioInput(); err != nil {
			vr.Close()
			vw.Close()
			return nil, err
		}
		url = s.audio.url()
	}
	cmd := exec.Command(cfg.FFmpeg, cfg.args(url)...)
	cmd.Dir = cfg.Dir
	cmd.Stdin = vr
	stderr, err := cmd.StderrPipe()
	if err == nil && s.audio != nil {
		err = s.audio.prepare(cmd)
	}
	if err != nil {
		vr.Close()
		vw.Close()
		s.closeAudio()
		return nil, fmt.Errorf("prepare ffmpeg: %w", err)
	}
	cfg.Log.Debug("starting ffmpeg", "args", strings.Join(cmd.Args, " "))
	if err := cmd.Start(); err != nil {
		vr.Close()
		vw.Close()
		s.closeAudio()
		return nil, fmt.Errorf("start ffmpeg: %w", err)
	}
	vr.Close()
	if s.audio != nil {
		s.audio.started()
	}
	s.cmd, s.video = cmd, vw
	stderrDone := make(chan struct{})
	go func() { s.stderr.consume(stderr); close(stderrDone) }()
	go func() {
		<-stderrDone
		err := cmd.Wait()
		if err != nil {
			err = &ExitError{Err: err, Tail: s.stderr.last(4)}
		}
		s.waitErr = err
		close(s.done)
	}()
	return s, nil
}

// OutputSize is the size of the encoded video.
func (s *Session) OutputSize() (int, int) { return s.outW, s.outH }

// Video takes raw frames, each exactly Width×Height×4 bytes.
func (s *Session) Video() io.Writer { return s.video }

// Audio takes interleaved stereo float32 little-endian samples at 48 kHz;
// nil when the session has no audio.
func (s *Session) Audio() io.Writer {
	if s.audio == nil {
		return nil
	}
	return s.audio.writer()
}

// CloseInputs signals the end of the recording: ffmpeg finishes the last
// segment and the playlist.
func (s *Session) CloseInputs() {
	s.closeOnce.Do(func() {
		s.video.Close()
		s.closeAudio()
	})
}

func (s *Session) closeAudio() {
	if s.audio != nil {
		s.audio.close()
	}
}

// Done is closed when ffmpeg has exited.
func (s *Session) Done() <-chan struct{} { return s.done }

// Wait waits for ffmpeg to exit and returns an *ExitError if it failed.
func (s *Session) Wait() error {
	<-s.done
	return s.waitErr
}

// WaitTimeout waits up to d, then kills ffmpeg.
func (s *Session) WaitTimeout(d time.Duration) error {
	select {
	case <-s.done:
	case <-time.After(d):
		s.Kill()
	}
	return s.Wait()
}

// Kill stops ffmpeg at once; segments already closed stay on disk.
func (s *Session) Kill() {
	s.CloseInputs()
	_ = s.cmd.Process.Kill()
}

// lineTail keeps the last lines ffmpeg printed and logs each one.
type lineTail struct {
	mu    sync.Mutex
	n     int
	lines []string
	log   *slog.Logger
}

func newLineTail(n int, log *slog.Logger) *lineTail { return &lineTail{n: n, log: log} }

func (t *lineTail) consume(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		t.log.Debug("ffmpeg", "line", line)
		t.mu.Lock()
		t.lines = append(t.lines, line)
		if len(t.lines) > t.n {
			t.lines = t.lines[len(t.lines)-t.n:]
		}
		t.mu.Unlock()
	}
	_, _ = io.Copy(io.Discard, r)
}

func (t *lineTail) last(n int) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	l := t.lines
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, " | ")
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
