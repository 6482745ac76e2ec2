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
	"sync/atomic"
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
	PixFmt        string // of the raw frames: "bgr0", "rgba" or "yuv420p" (BT.709, limited range, even size)
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
	procs      []*proc // the encoder first
	ready      chan struct{}
	video      *os.File
	noSplice   bool
	nut        nutWriter
	hdr        []byte
	lastIndex  int64
	audio      audioInput
	done       chan struct{}
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

// FrameBytes is the size of one raw frame.
func (c Config) FrameBytes() int {
	if c.PixFmt == "yuv420p" {
		return c.Width*c.Height + c.Width*c.Height/2
	}
	return c.Width * c.Height * 4
}

// scaleFilter converts to BT.709 limited range (what players assume for
// HD) and resizes or trims an odd pixel when needed. Frames that arrive
// as BT.709 I420 already go straight to the encoder unless they must
// shrink: no swscale pass at all, which is the point of converting them
// in the recorder.
func scaleFilter(pixfmt string, inW, inH, outW, outH int) string {
	const color = "out_color_matrix=bt709:out_range=tv"
	if pixfmt == "yuv420p" {
		if outW == inW && outH == inH {
			return ""
		}
		return fmt.Sprintf("scale=%d:%d:flags=bicubic:in_color_matrix=bt709:in_range=tv:%s", outW, outH, color)
	}
	if outW == inW&^1 && outH == inH&^1 {
		crop := ""
		if outW != inW || outH != inH {
			crop = fmt.Sprintf("crop=%d:%d:0:0,", outW, outH)
		}
		return crop + "scale=" + color
	}
	return fmt.Sprintf("scale=%d:%d:flags=bicubic:%s", outW, outH, color)
}

func (c Config) segSeconds() int {
	if c.SegmentSeconds <= 0 {
		return 2
	}
	return c.SegmentSeconds
}

// Raw inputs need no probing; without these flags ffmpeg reads about a
// second of each input before it starts, and the video pipe stalls.
var noProbe = []string{"-probesize", "32", "-analyzeduration", "0"}

var quiet = []string{"-hide_banner", "-nostdin", "-nostats", "-loglevel", "warning"}

// encoderArgs: raw frames on stdin; out "nut" sends H.264 in NUT
// (timestamped packets) to stdout for the muxer, "hls" writes the segments
// itself (no sound: nothing to wait for, so no second process).
func (c Config) encoderArgs(out string) []string {
	outW, outH := OutputSize(c.Width, c.Height, c.MaxHeight)
	seg := c.segSeconds()
	a := append([]string{}, quiet...)
	a = append(a, c.Encoder.Global...)
	a = append(a, noProbe...)
	// Frames come timestamped (see nut.go); the fps filter repeats the
	// previous one for beats without a fresh frame, after conversion.
	filters := []string{c.Encoder.Filter, "fps=" + strconv.Itoa(c.FPS)}
	if f := scaleFilter(c.PixFmt, c.Width, c.Height, outW, outH); f != "" {
		filters = append([]string{f}, filters...)
	}
	a = append(a, "-f", "nut", "-i", "pipe:0", "-map", "0:v", "-vf", strings.Join(filters, ","))
	a = append(a, c.Encoder.Codec(outW, outH, c.FPS)...)
	// A keyframe every segment length, so segments are cut on time and
	// each one decodes on its own.
	a = append(a, "-g", strconv.Itoa(c.FPS*seg), "-force_key_frames", fmt.Sprintf("expr:gte(t,n_forced*%d)", seg),
		"-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709")
	if out == "hls" {
		return append(a, c.hlsArgs()...)
	}
	return append(a, "-f", "nut", "pipe:1")
}

// muxerArgs: encoded video (NUT) on stdin, raw sound at audioURL, HLS out.
func (c Config) muxerArgs(audioURL string) []string {
	a := append([]string{}, quiet...)
	a = append(a, "-f", "nut", "-i", "pipe:0")
	a = append(a, noProbe...)
	a = append(a, "-f", "f32le", "-ar", "48000", "-ac", "2", "-thread_queue_size", "1024", "-i", audioURL,
		"-map", "0:v", "-map", "1:a", "-c:v", "copy", "-c:a", "aac", "-b:a", "128k")
	return append(a, c.hlsArgs()...)
}

func (c Config) hlsArgs() []string {
	return []string{"-f", "hls", "-hls_time", strconv.Itoa(c.segSeconds()), "-hls_list_size", "0",
		"-hls_playlist_type", "event", "-hls_segment_type", "fmp4",
		"-hls_fmp4_init_filename", InitName, "-hls_segment_filename", segmentPattern, "-start_number", "1",
		// temp_file: a segment and the playlist appear under their names
		// only when complete.
		"-hls_flags", "temp_file+independent_segments", PlaylistName}
}

// proc is one running ffmpeg.
type proc struct {
	name   string
	cmd    *exec.Cmd
	tail   *lineTail
	done   chan struct{}
	err    error
	killed atomic.Bool // by us: its error says nothing about the cause
}

func startProc(name string, cmd *exec.Cmd, log *slog.Logger) (*proc, error) {
	p := &proc{name: name, cmd: cmd, tail: newLineTail(40, log.With("ffmpeg", name)), done: make(chan struct{})}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	detach(cmd)
	log.Debug("starting ffmpeg", "role", name, "args", strings.Join(cmd.Args, " "))
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start ffmpeg: %w", err)
	}
	go func() {
		p.tail.consume(stderr)
		err := cmd.Wait()
		if err != nil {
			p.err = &ExitError{Err: err, Tail: p.tail.last(4)}
		}
		close(p.done)
	}()
	return p, nil
}

// Start launches ffmpeg. The caller must eventually call CloseInputs and
// Wait (or Kill and Wait).
//
// With sound it is two processes: an encoder turning raw frames into
// H.264, and a muxer adding the sound and writing the segments. ffmpeg 5.1
// always advances the input that is furthest behind and sleeps while that
// one has no data, and the recorder's sound runs half a second behind its
// picture (it waits for late audio blocks). In one process the raw 3–8 MB
// frames would wait in the pipe and the recorder would have to drop them;
// split, the encoder never waits, and the small encoded packets queue in
// memory until the sound catches up. Without sound one process does it all.
func Start(cfg Config) (*Session, error) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	s := &Session{cfg: cfg, done: make(chan struct{}), ready: make(chan struct{}),
		nut: nutWriter{fps: cfg.FPS}, lastIndex: -1}
	s.outW, s.outH = OutputSize(cfg.Width, cfg.Height, cfg.MaxHeight)
	header, err := s.nut.header(cfg.Width, cfg.Height, cfg.PixFmt)
	if err != nil {
		return nil, err
	}
	var closers []io.Closer
	fail := func(err error) (*Session, error) {
		for _, c := range closers {
			c.Close()
		}
		s.killAll()
		return nil, err
	}

	vr, vw, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("create the video pipe: %w", err)
	}
	closers = append(closers, vr, vw)
	growPipe(vw, cfg.FrameBytes())

	if !cfg.Audio {
		enc := exec.Command(cfg.FFmpeg, cfg.encoderArgs("hls")...)
		enc.Dir = cfg.Dir
		enc.Stdin = vr
		e, err := startProc("encoder", enc, cfg.Log)
		if err != nil {
			return fail(err)
		}
		s.procs = []*proc{e}
		// Nothing comes out before the first segment closes; the
		// recorder's priming watches how fast frames are taken instead.
		close(s.ready)
	} else {
		mr, mw, err := os.Pipe()
		if err != nil {
			return fail(fmt.Errorf("create the muxer pipe: %w", err))
		}
		closers = append(closers, mr, mw)
		if s.audio, err = newAudioInput(); err != nil {
			return fail(err)
		}
		closers = append(closers, closerFunc(s.audio.close))
		mux := exec.Command(cfg.FFmpeg, cfg.muxerArgs(s.audio.url())...)
		mux.Dir = cfg.Dir
		mux.Stdin = mr
		if err := s.audio.prepare(mux); err != nil {
			return fail(err)
		}
		enc := exec.Command(cfg.FFmpeg, cfg.encoderArgs("nut")...)
		enc.Dir = cfg.Dir
		enc.Stdin = vr
		encOut, err := enc.StdoutPipe()
		if err != nil {
			return fail(err)
		}
		m, err := startProc("muxer", mux, cfg.Log)
		if err != nil {
			return fail(err)
		}
		s.procs = append(s.procs, m)
		mr.Close()
		s.audio.started()
		e, err := startProc("encoder", enc, cfg.Log)
		if err != nil {
			return fail(err)
		}
		s.procs = append([]*proc{e}, s.procs...)
		go relay(mw, encOut, s.ready)
	}
	vr.Close()
	s.video = vw
	// Small enough to sit in the pipe until ffmpeg reads it.
	if _, err := vw.Write(header); err != nil {
		return fail(fmt.Errorf("start the video stream: %w", err))
	}
	go func() {
		for _, p := range s.procs {
			<-p.done
		}
		close(s.done)
	}()
	// One dead process brings the other down, so Done fires and Wait
	// reports it instead of the survivor idling.
	for _, p := range s.procs {
		go func(p *proc) {
			<-p.done
			if p.err != nil {
				s.killAll()
			}
		}(p)
	}
	return s, nil
}

// Ready is closed once the encoder has turned its first frame into output:
// from then on it keeps pace, and the recorder can start its clock.
func (s *Session) Ready() <-chan struct{} { return s.ready }

type closerFunc func()

func (f closerFunc) Close() error { f(); return nil }

// relay copies the encoder's packets to the muxer through a memory queue
// (up to 64 MB: minutes of video) so the encoder never waits on the muxer.
func relay(dst io.WriteCloser, src io.Reader, ready chan struct{}) {
	chunks := make(chan []byte, 2048)
	go func() {
		defer close(chunks)
		first := true
		for {
			b := make([]byte, 32*1024)
			n, err := src.Read(b)
			if n > 0 {
				if first {
					first = false
					close(ready)
				}
				chunks <- b[:n]
			}
			if err != nil {
				return
			}
		}
	}()
	broken := false
	for b := range chunks {
		if broken {
			continue
		}
		if _, err := dst.Write(b); err != nil {
			broken = true // the muxer died; keep draining so the encoder notices on its own
		}
	}
	dst.Close()
}

// OutputSize is the size of the encoded video.
func (s *Session) OutputSize() (int, int) { return s.outW, s.outH }

// WriteFrame sends one raw frame of exactly FrameBytes bytes to be
// shown at frame index (media time index/FPS). Indexes must increase;
// skipped indexes repeat the previous frame, so the video stays in step
// with the clock however few frames arrive. Call it from one goroutine.
//
// ffmpeg may still read the frame's memory after WriteFrame returns (on
// Linux the pipe refers to it instead of holding a copy): do not change a
// frame until the next WriteFrame call has returned. Writing the same
// frame again is fine.
func (s *Session) WriteFrame(frame []byte, index int64) error {
	if want := s.cfg.FrameBytes(); len(frame) != want {
		return fmt.Errorf("frame has %d bytes, want %d", len(frame), want)
	}
	if index <= s.lastIndex {
		return fmt.Errorf("frame index %d after %d", index, s.lastIndex)
	}
	s.lastIndex = index
	s.hdr = s.nut.frameHeader(s.hdr[:0], index, len(frame))
	if _, err := s.video.Write(s.hdr); err != nil {
		return err
	}
	return writeFrame(s.video, frame, &s.noSplice)
}

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
		if s.audio != nil {
			s.audio.close()
		}
	})
}

// Done is closed when ffmpeg has exited.
func (s *Session) Done() <-chan struct{} { return s.done }

// Wait waits for ffmpeg to exit and returns an *ExitError if it failed:
// the process that failed by itself, the encoder first, rather than the
// one we stopped because of it.
func (s *Session) Wait() error {
	<-s.done
	for _, p := range s.procs {
		if p.err != nil && !p.killed.Load() {
			return p.err
		}
	}
	for _, p := range s.procs {
		if p.err != nil {
			return p.err
		}
	}
	return nil
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
	s.killAll()
}

func (s *Session) killAll() {
	for _, p := range s.procs {
		select {
		case <-p.done:
		default:
			p.killed.Store(true)
			_ = p.cmd.Process.Kill()
		}
	}
}

// Pids are the process ids of the running ffmpeg processes.
func (s *Session) Pids() []int {
	var out []int
	for _, p := range s.procs {
		out = append(out, p.cmd.Process.Pid)
	}
	return out
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
