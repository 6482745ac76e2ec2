package recorder

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"framecast.dev/desktop/internal/capture"
	"framecast.dev/desktop/internal/capture/audio"
	"framecast.dev/desktop/internal/encode"
)

// Options say what to record and where.
type Options struct {
	// Dir is the recording's own folder. It is created if missing and
	// must not hold another recording.
	Dir string
	// Display is the index from capture.Displays; ignored when Region is
	// set.
	Display int
	// Region, when not empty, is the desktop rectangle to record.
	Region image.Rectangle
	// FPS is the frame rate (default 30).
	FPS int
	// Mic is "" for no microphone, "default", "auto" (the default
	// microphone if there is one, else none with a Warning), or an id
	// from audio.Context.Devices.
	Mic string
	// SystemAudio records what the computer plays (the default output's
	// loopback/monitor, or SystemAudioDevice).
	SystemAudio       bool
	SystemAudioDevice string
	// MaxHeight scales taller screens down (default 1080; -1 keeps the
	// full size).
	MaxHeight int
	// Duration stops the recording by itself after this much video (0:
	// until Stop).
	Duration time.Duration
	// Encoder is "" or "auto" (hardware when it works, else libx264), or
	// an ffmpeg encoder name; Preset is libx264's preset (default
	// veryfast).
	Encoder string
	Preset  string
	// FFmpeg is the ffmpeg executable (default: see encode.Locate).
	FFmpeg string
	// HideCursor leaves the mouse pointer out of the video.
	HideCursor bool
	Logger     *slog.Logger
}

// Stats is the recording's progress.
type Stats struct {
	Elapsed  time.Duration // length of the video so far (pauses excluded)
	Frames   int64         // frames in the video
	Captured int64         // of which freshly grabbed
	Dropped  int64         // beats without a fresh grab (the previous frame shows)
	FPS      float64       // fresh grabs per second over the last second
	Segments int           // media segments closed so far
	State    State
}

// Result describes a finished recording.
type Result struct {
	Dir      string
	MP4      string // the single-file copy; "" when not made (error, cancel)
	Duration time.Duration
	Frames   int64
	Captured int64
	Dropped  int64
	Segments int
	Width    int // encoded size
	Height   int
	Encoder  string
}

// ErrDiskFull means the recording stopped because its disk is full.
var ErrDiskFull = errors.New("the disk is full")

// ErrNotRecording is returned by Pause and Resume after the end.
var ErrNotRecording = errors.New("not recording")

// MP4Name is the final file's name inside Options.Dir.
const MP4Name = "recording.mp4"

// Recorder is one recording in progress. Its methods are safe for
// concurrent use.
type Recorder struct {
	opts   Options
	log    *slog.Logger
	ffmpeg string
	events *eventQueue

	clock *clock
	scr   capture.Screen
	actx  *audio.Context
	srcs  []*audio.Source
	mic   int // track index of the microphone, -1 without
	sys   int // track index of system audio, -1 without
	enc   *encode.Session
	video *videoPipe
	audio *audioPipe
	segs  *segmenter

	mu       sync.Mutex
	state    State
	stopReq  chan struct{}
	stopOnce sync.Once
	cancel   bool
	failc    chan error
	done     chan struct{}
	result   Result
	err      error
	fps      float64
	lastGrab int64
	lastAt   time.Time
	// for the "frames are being dropped" warning
	dropMark   int64
	dropMarkAt time.Time
	warnedAt   time.Time
	quiet      map[int]bool // sources already reported silent
	lateSeen   []int64      // per source, late sound frames already reported
}

// Start begins recording. When it returns without error the first frame
// is being captured; the context only bounds the start-up (device and
// encoder probing), not the recording.
func Start(ctx context.Context, opts Options) (_ *Recorder, err error) {
	if opts.FPS == 0 {
		opts.FPS = 30
	}
	if opts.MaxHeight == 0 {
		opts.MaxHeight = 1080
	}
	if opts.MaxHeight < 0 {
		opts.MaxHeight = 0
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.FPS < 1 || opts.FPS > 120 {
		return nil, fmt.Errorf("frame rate %d is out of range; use 1 to 120", opts.FPS)
	}
	if opts.Dir == "" {
		return nil, errors.New("no output folder given")
	}
	r := &Recorder{opts: opts, log: opts.Logger, mic: -1, sys: -1,
		stopReq: make(chan struct{}), failc: make(chan error, 8), done: make(chan struct{})}

	if r.ffmpeg, err = encode.Locate(opts.FFmpeg); err != nil {
		return nil, err
	}
	ds, err := capture.Displays()
	if err != nil {
		return nil, err
	}
	rect, err := capture.Target(ds, opts.Display, opts.Region)
	if err != nil {
		return nil, err
	}
	created, err := prepareDir(opts.Dir)
	if err != nil {
		if created {
			os.RemoveAll(opts.Dir)
		}
		return nil, err
	}
	var warnings []string
	defer func() {
		if err != nil {
			r.teardown()
			if created {
				os.RemoveAll(opts.Dir)
			}
		}
	}()
	if err := r.openAudio(&warnings); err != nil {
		return nil, err
	}
	if r.scr, err = capture.Open(capture.Options{Rect: rect, Cursor: !opts.HideCursor}); err != nil {
		return nil, err
	}
	enc, err := encode.Choose(ctx, r.ffmpeg, opts.Encoder, opts.Preset, r.log)
	if err != nil {
		return nil, err
	}
	r.events = newEventQueue()
	if r.segs, err = newSegmenter(opts.Dir, r.events.emit); err != nil {
		return nil, err
	}
	frames, err := newFrameFormat(r.scr)
	if err != nil {
		return nil, err
	}
	r.enc, err = encode.Start(encode.Config{FFmpeg: r.ffmpeg, Dir: opts.Dir, Width: frames.width, Height: frames.height,
		PixFmt: frames.pixfmt, FPS: opts.FPS, MaxHeight: opts.MaxHeight, Encoder: enc,
		Audio: len(r.srcs) > 0, Log: r.log})
	if err != nil {
		return nil, err
	}
	var maxFrames int64
	if opts.Duration > 0 {
		maxFrames = int64((opts.Duration*time.Duration(opts.FPS) + time.Second - 1) / time.Second)
	}
	r.clock = newClock(time.Now())
	if r.video, err = newVideoPipe(r.scr, frames, r.enc.WriteFrame, opts.FPS, r.clock, maxFrames); err != nil {
		return nil, err
	}
	if len(r.srcs) > 0 {
		r.audio = newAudioPipe(r.clock, len(r.srcs), r.enc.Audio())
		for _, s := range r.srcs {
			if err := s.Start(); err != nil {
				return nil, err
			}
		}
	}
	primed, err := r.video.prime(r.enc.Ready(), r.enc.Done(), 15*time.Second)
	if err != nil {
		if werr := r.enc.WaitTimeout(time.Second); werr != nil {
			err = fmt.Errorf("%w: %v", err, werr)
		}
		return nil, err
	}
	// The clock starts now that ffmpeg keeps pace, after the primed
	// frames; sound captured before its start is dropped.
	r.clock.setStart(time.Now().Add(-r.video.frameTime(primed)))
	if r.audio != nil {
		r.audio.begin()
	}
	w, h := r.enc.OutputSize()
	r.result = Result{Dir: opts.Dir, Width: w, Height: h, Encoder: enc.Name}
	for _, m := range warnings {
		r.events.emit(Warning{Message: m})
	}
	r.log.Info("recording", "dir", opts.Dir, "rect", capture.FormatRect(rect), "size", fmt.Sprintf("%dx%d", w, h),
		"fps", opts.FPS, "encoder", enc.Name, "audio_sources", len(r.srcs))
	go r.run()
	return r, nil
}

// prepareDir makes sure dir exists, is writable and holds no recording.
func prepareDir(dir string) (created bool, err error) {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		created = true
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, fmt.Errorf("cannot create the output folder %s: %w; choose another folder", dir, unwrapPath(err))
	}
	if _, err := os.Stat(filepath.Join(dir, encode.PlaylistName)); err == nil {
		return false, fmt.Errorf("%s already holds a recording; choose an empty folder", dir)
	}
	probe := filepath.Join(dir, ".framecast-write-test")
	f, err := os.Create(probe)
	if err != nil {
		return created, fmt.Errorf("cannot write to the output folder %s: %w; choose another folder", dir, unwrapPath(err))
	}
	f.Close()
	os.Remove(probe)
	if free, err := diskFree(dir); err == nil && free < minFree {
		return created, fmt.Errorf("%w: only %s free where %s is; free up space or choose another folder", ErrDiskFull, mb(free), dir)
	}
	return created, nil
}

// minFree is the least free space a recording starts with.
const minFree = 1 << 20

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func mb(b uint64) string { return fmt.Sprintf("%.1f MB", float64(b)/1e6) }

func (r *Recorder) openAudio(warnings *[]string) error {
	o := r.opts
	if o.Mic == "" && !o.SystemAudio {
		return nil
	}
	var err error
	if r.actx, err = audio.NewContext(r.log); err != nil {
		if o.Mic == "auto" && !o.SystemAudio {
			*warnings = append(*warnings, "Recording without sound: "+err.Error()+".")
			return nil
		}
		return err
	}
	open := func(kind audio.Kind, id string) (int, error) {
		track := len(r.srcs)
		src, err := r.actx.Open(kind, id,
			func(c audio.Chunk) { r.audio.onChunk(track, c) },
			func() { r.warn(fmt.Sprintf("The %s stopped; the recording continues without it.", kind)) })
		if err != nil {
			return -1, err
		}
		r.srcs = append(r.srcs, src)
		return track, nil
	}
	if o.Mic != "" {
		id := o.Mic
		if id == "auto" {
			id = "default"
		}
		r.mic, err = open(audio.Microphone, id)
		if err != nil {
			if o.Mic != "auto" || !errors.Is(err, audio.ErrNoDevice) {
				return err
			}
			*warnings = append(*warnings, "No microphone found; recording without one.")
		}
	}
	if o.SystemAudio {
		if r.sys, err = open(audio.System, o.SystemAudioDevice); err != nil {
			return err
		}
	}
	return nil
}

// warn tells the user through a Warning event; the log keeps it at info
// level, so a front end that shows events and the log on one terminal
// does not say it twice.
func (r *Recorder) warn(msg string) { r.warnEvent(Warning{Message: msg}) }

func (r *Recorder) warnEvent(w Warning) {
	r.log.Info("warning", "message", w.Message)
	if r.events != nil {
		r.events.emit(w)
	}
}

// fail ends the recording with err (the first one wins).
func (r *Recorder) fail(err error) {
	select {
	case r.failc <- err:
	default:
	}
}

// Events delivers the recording's events in order; it is closed after
// Stopped. Read it until it closes: events wait in memory meanwhile, and
// Level events are merged when they pile up, so a slow reader never
// stalls the recording.
func (r *Recorder) Events() <-chan Event { return r.events.out }

// Done is closed when the recording is over and Stopped was queued.
func (r *Recorder) Done() <-chan struct{} { return r.done }

// Pause stops the clock: nothing captured until Resume is in the video.
func (r *Recorder) Pause() error { return r.setPaused(true) }

// Resume continues after Pause.
func (r *Recorder) Resume() error { return r.setPaused(false) }

// TogglePause pauses or resumes and reports whether it is now paused.
func (r *Recorder) TogglePause() (bool, error) {
	r.mu.Lock()
	p := r.state == Paused
	r.mu.Unlock()
	return !p, r.setPaused(!p)
}

func (r *Recorder) setPaused(p bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state != Recording && r.state != Paused {
		return ErrNotRecording
	}
	now := time.Now()
	changed := false
	if p {
		changed = r.clock.pause(now)
		r.state = Paused
	} else {
		changed = r.clock.resume(now)
		r.state = Recording
	}
	if changed {
		r.events.emit(StateChanged{State: r.state})
	}
	return nil
}

// Stop ends the recording: the last segment closes, the MP4 is made, and
// Stopped is emitted. It returns when that is done (or ctx ends first, in
// which case the recording still finishes in the background).
func (r *Recorder) Stop(ctx context.Context) (Result, error) {
	r.requestStop(false)
	select {
	case <-r.done:
		return r.result, r.err
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
}

// Cancel ends the recording and deletes its folder. Segments already
// announced belong to their receiver, which should discard them too.
func (r *Recorder) Cancel() {
	r.requestStop(true)
	<-r.done
}

func (r *Recorder) requestStop(cancel bool) {
	r.mu.Lock()
	if cancel {
		r.cancel = true
	}
	r.mu.Unlock()
	r.stopOnce.Do(func() { close(r.stopReq) })
}

// Status is the progress now.
func (r *Recorder) Status() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.statsLocked()
}

func (r *Recorder) statsLocked() Stats {
	s := Stats{State: r.state, FPS: r.fps}
	if r.video != nil {
		s.Frames = r.video.frames.Load()
		s.Captured = r.video.captured.Load()
		s.Dropped = r.video.dropped.Load()
		s.Elapsed = r.video.frameTime(s.Frames)
	}
	if r.segs != nil {
		s.Segments = r.segs.published()
	}
	return s
}

// captureEnded runs when capture has ended, before it asks to stop; tests
// delay it to make the frame writer finish first.
var captureEnded = func() {}

// run is the recording's life after Start.
func (r *Recorder) run() {
	vctx, stopVideo := context.WithCancel(context.Background())
	defer stopVideo()
	frames := make(chan int64, 1)
	lastFrame := make(chan int64, 1) // frames in the video, once capture ended
	go func() {
		n, err := r.video.capture(vctx)
		if err != nil {
			r.fail(err)
		}
		frames <- n
		lastFrame <- n
		captureEnded()
		if r.video.max > 0 && n >= r.video.max {
			r.requestStop(false)
		}
	}()
	writeErr := make(chan error, 1)
	go func() {
		writeErr <- r.video.write(func() int64 { return <-lastFrame - 1 })
	}()
	audioEnd := make(chan time.Duration, 1)
	audioErr := make(chan error, 1)
	var watchAudio chan error // nil without sound: never ready in select
	if r.audio != nil {
		go func() { audioErr <- r.audio.run(audioEnd) }()
		watchAudio = audioErr
	} else {
		audioErr <- nil
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var lastPoll time.Time
	var failure error

loop:
	for {
		select {
		case <-r.stopReq:
			break loop
		case err := <-r.failc:
			failure = err
			break loop
		case <-r.enc.Done():
			failure = r.enc.Wait()
			if failure == nil {
				failure = errors.New("ffmpeg quit in the middle of the recording")
			}
			break loop
		case err := <-writeErr:
			writeErr <- nil // finish reads it again; err is dealt with here
			if err == nil {
				// Capture reached the duration and every frame is
				// written: the normal end, arriving before capture's
				// stop request. (Treating it as ffmpeg failing killed a
				// healthy ffmpeg two seconds later.)
				break loop
			}
			// ffmpeg stopped reading: its exit status says why.
			failure = r.enc.WaitTimeout(2 * time.Second)
			if failure == nil {
				failure = err
			}
			break loop
		case err := <-watchAudio:
			failure = r.enc.WaitTimeout(2 * time.Second)
			if failure == nil {
				failure = fmt.Errorf("send sound to ffmpeg: %w", err)
			}
			audioErr <- nil
			break loop
		case now := <-tick.C:
			r.tick(now)
			if now.Sub(lastPoll) >= 200*time.Millisecond {
				lastPoll = now
				if err := r.pollSegments(); err != nil {
					failure = err
					break loop
				}
			}
		}
	}
	r.finish(failure, stopVideo, frames, writeErr, audioEnd, audioErr)
}

// pollSegments publishes closed segments and watches the disk.
func (r *Recorder) pollSegments() error {
	if _, err := r.segs.poll(); err != nil {
		return r.explainWriteError(err)
	}
	if free, err := diskFree(r.opts.Dir); err == nil {
		// Keep room for the segment being written and the one after.
		reserve := max(3*r.segs.largest, 256<<10)
		if int64(free) < reserve {
			return fmt.Errorf("%w: only %s left where %s is", ErrDiskFull, mb(free), r.opts.Dir)
		}
	}
	return nil
}

// explainWriteError turns a broken segment or playlist into "disk full"
// when that is what it is: ffmpeg itself does not say.
func (r *Recorder) explainWriteError(err error) error {
	if free, ferr := diskFree(r.opts.Dir); ferr == nil && int64(free) < max(2*r.segs.largest, 1<<20) {
		return fmt.Errorf("%w: only %s left where %s is (%v)", ErrDiskFull, mb(free), r.opts.Dir, err)
	}
	return fmt.Errorf("ffmpeg wrote a damaged segment: %w", err)
}

func (r *Recorder) tick(now time.Time) {
	r.mu.Lock()
	if r.video != nil {
		g := r.video.captured.Load()
		if !r.lastAt.IsZero() && r.state == Recording {
			inst := float64(g-r.lastGrab) / now.Sub(r.lastAt).Seconds()
			// About a one-second average.
			r.fps += (inst - r.fps) * 0.1
			if r.fps == 0 {
				r.fps = inst
			}
		}
		r.lastGrab, r.lastAt = g, now
	}
	st := r.statsLocked()
	warnDrops := false
	if now.Sub(r.dropMarkAt) >= time.Second {
		// A tenth of the frames repeated in a second is visible stutter.
		warnDrops = st.Dropped-r.dropMark >= int64(r.opts.FPS/10+1) && now.Sub(r.warnedAt) > 30*time.Second
		if warnDrops {
			r.warnedAt = now
		}
		r.dropMark, r.dropMarkAt = st.Dropped, now
	}
	r.mu.Unlock()
	if warnDrops {
		r.warnEvent(Warning{Slow: true,
			Message: "Frames are being dropped: the computer cannot capture and encode fast enough. Close busy programs, or record at a lower frame rate or resolution."})
	}
	r.checkSources(now, st.State)
	lv := Level{Mic: -90, System: -90, Stats: st}
	if r.audio != nil {
		peaks := r.audio.levels()
		if r.mic >= 0 {
			lv.Mic = audio.DBFS(peaks[r.mic])
		}
		if r.sys >= 0 {
			lv.System = audio.DBFS(peaks[r.sys])
		}
	}
	r.events.emit(lv)
}

// checkSources warns once per source that stops delivering sound (an
// unplugged microphone, a sound server that went away).
func (r *Recorder) checkSources(now time.Time, state State) {
	if state != Recording {
		return
	}
	if r.audio != nil {
		if r.lateSeen == nil {
			r.lateSeen = make([]int64, len(r.srcs))
		}
		for i, s := range r.srcs {
			late := r.audio.mix.lateFrames(i)
			if late-r.lateSeen[i] >= 4800 { // 100 ms
				r.lateSeen[i] = late
				r.warn(fmt.Sprintf("Some sound from %q arrived too late and was left out; the computer is very busy.", s.Device().Name))
			}
		}
	}
	for i, s := range r.srcs {
		last := s.LastChunk()
		if last.IsZero() || now.Sub(last) < 2*time.Second || r.quiet[i] {
			continue
		}
		if r.quiet == nil {
			r.quiet = map[int]bool{}
		}
		r.quiet[i] = true
		r.warn(fmt.Sprintf("No sound has come from %q for 2 seconds; the recording continues with silence for it.", s.Device().Name))
	}
}

func (r *Recorder) finish(failure error, stopVideo func(), frames <-chan int64, writeErr chan error, audioEnd chan time.Duration, audioErr chan error) {
	r.mu.Lock()
	r.state = Stopping
	cancelled := r.cancel
	r.mu.Unlock()
	r.events.emit(StateChanged{State: Stopping})
	r.clock.pause(time.Now()) // sound after this moment is not wanted
	stopVideo()
	n := <-frames
	end := r.video.frameTime(n)
	graceful := failure == nil || errors.Is(failure, ErrDiskFull)
	if !graceful || cancelled {
		r.enc.Kill()
	}
	// The video writer drains its queue (or fails if ffmpeg is gone),
	// the audio writer adds the sound up to the video's end.
	audioEnd <- end
	if err := <-writeErr; err != nil && failure == nil && !cancelled {
		failure = err
	}
	if err := <-audioErr; err != nil && failure == nil && !cancelled {
		failure = fmt.Errorf("send sound to ffmpeg: %w", err)
	}
	for _, s := range r.srcs {
		s.Close()
	}
	r.enc.CloseInputs()
	if err := r.enc.WaitTimeout(time.Minute); err != nil && failure == nil && !cancelled {
		failure = err
	}
	if !cancelled {
		p, err := r.segs.poll()
		if err != nil && failure == nil {
			failure = r.explainWriteError(err)
		}
		if failure == nil && !p.Ended {
			failure = r.explainWriteError(errors.New("ffmpeg did not finish the playlist"))
		}
	}
	r.mu.Lock()
	cancelled = cancelled || r.cancel // Cancel while stopping still discards
	r.mu.Unlock()
	var finalErr error
	res := r.result
	st := r.Status()
	res.Duration, res.Frames, res.Captured, res.Dropped, res.Segments = end, n, st.Captured, st.Dropped, r.segs.published()
	switch {
	case cancelled:
		r.teardown()
		os.RemoveAll(r.opts.Dir)
		finalErr = nil
	case failure != nil:
		r.segs.removeUnfinished()
		finalErr = r.explainFailure(failure, res.Segments)
		r.events.emit(Error{Err: finalErr})
		r.teardown()
	default:
		mp4 := filepath.Join(r.opts.Dir, MP4Name)
		if err := r.makeMP4(mp4); err != nil {
			finalErr = err
			r.events.emit(Error{Err: err})
		} else {
			res.MP4 = mp4
			r.segs.removeParts()
		}
		r.teardown()
	}
	r.mu.Lock()
	r.state = Done
	r.result, r.err = res, finalErr
	r.mu.Unlock()
	r.log.Info("recording stopped", "dir", res.Dir, "duration", res.Duration, "frames", res.Frames,
		"dropped", res.Dropped, "segments", res.Segments, "err", finalErr)
	r.events.emit(Stopped{Result: res, Err: finalErr})
	r.events.close()
	close(r.done)
}

func (r *Recorder) makeMP4(out string) error {
	if free, err := diskFree(r.opts.Dir); err == nil && int64(free) < r.segs.bytes+(1<<20) {
		return fmt.Errorf("%w: no room for the single MP4 (%s needed, %s free); the segments are kept in %s",
			ErrDiskFull, mb(uint64(r.segs.bytes)), mb(free), r.opts.Dir)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := encode.Remux(ctx, r.ffmpeg, r.segs.parts, out); err != nil {
		return fmt.Errorf("make the MP4: %w; the segments are kept in %s", err, r.opts.Dir)
	}
	return nil
}

func (r *Recorder) explainFailure(err error, segments int) error {
	kept := "No segment was completed."
	if segments > 0 {
		kept = fmt.Sprintf("The %d segment(s) recorded before that are kept in %s.", segments, r.opts.Dir)
	}
	if errors.Is(err, ErrDiskFull) {
		return fmt.Errorf("recording stopped because the disk is full (%w). %s Free up space and record again", err, kept)
	}
	return fmt.Errorf("recording failed: %w. %s", err, kept)
}

// teardown releases devices; safe to call more than once and on a
// partly started recorder.
func (r *Recorder) teardown() {
	for _, s := range r.srcs {
		s.Close()
	}
	r.srcs = nil
	if r.actx != nil {
		r.actx.Close()
		r.actx = nil
	}
	if r.enc != nil {
		r.enc.Kill()
		_ = r.enc.Wait()
	}
	if r.scr != nil {
		r.scr.Close()
		r.scr = nil
	}
}
