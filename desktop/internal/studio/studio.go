// Package studio is the one recording use case the window, the tray and
// the hotkey call: start a recording that uploads while it records, pause
// and resume it, stop it and get the share link (or hear that it is saved
// offline), and list, retry and tidy the recordings. It knows nothing of
// Wails; it reports what happens through Config.OnEvent.
//
// A Studio owns this device's queue (it claims it, so one uploader runs per
// queue) and runs the uploader for as long as it is open, when a server
// address and device token are set.
package studio

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"os"
	"path/filepath"
	stdsync "sync"
	"time"

	"framecast.dev/desktop/internal/encode"
	"framecast.dev/desktop/internal/keystore"
	"framecast.dev/desktop/internal/queue"
	"framecast.dev/desktop/internal/recorder"
	"framecast.dev/desktop/internal/settings"
	upsync "framecast.dev/desktop/internal/sync"
	"framecast.dev/shared/api"
	"framecast.dev/shared/seal"
)

// DefaultStopWait bounds how long Stop waits for the share link.
const DefaultStopWait = 10 * time.Second

// pollOthers is how often the uploader looks for work other processes
// queued.
const pollOthers = 3 * time.Second

// segmentPattern is how the recorder names media segments, numbered from 1.
const segmentPattern = "seg%05d.m4s"

// Config is what a Studio needs.
type Config struct {
	// Dir is the config folder (settings.Dir()): settings, device key and
	// the queue.
	Dir string
	// OutDir receives each recording's folder (default ~/Videos/Framecast).
	OutDir string
	// StopWait bounds how long Stop waits for the link (DefaultStopWait).
	StopWait time.Duration
	// OnEvent receives what happens; calls may come from any goroutine and
	// must return quickly.
	OnEvent func(Event)
	Log     *slog.Logger
}

// Options choose what a recording captures; zero values are the defaults
// (display 0, 30 fps, the default microphone if there is one).
type Options struct {
	Title   string
	Display int
	// Region, when not empty, is the desktop rectangle to record instead
	// of the whole display.
	Region            image.Rectangle
	FPS               int
	MaxHeight         int    // 0 is 1080; -1 keeps the screen's size
	Mic               string // "" means "auto"; "none" records no microphone
	SystemAudio       bool
	SystemAudioDevice string
	// Tracking is the viewer-tracking level the video is created with
	// ("" for the account's default).
	Tracking string
}

// OptionsFrom is what the saved settings say to record: the source
// picker's choice and the quality settings. The window, the tray and the
// hotkey all record with it.
func OptionsFrom(st settings.Settings) Options {
	return Options{Display: st.Display, Region: st.Region.Rect(), FPS: st.FPS, MaxHeight: st.MaxHeight,
		Mic: st.Mic, SystemAudio: st.SystemAudio, SystemAudioDevice: st.SystemAudioDevice, Tracking: st.Tracking}
}

// Studio is the recording use case; see the package doc.
type Studio struct {
	cfg      Config
	log      *slog.Logger
	settings *settings.Store
	q        *queue.Queue
	release  func()

	mu        stdsync.Mutex
	u         *upsync.Uploader // nil without a server, or when another process uploads
	stopUp    context.CancelFunc
	upDone    chan struct{}
	links     map[string]string // recording id → share URL, from the uploader
	progress  map[string][2]int64
	offline   bool
	cur       *session
	lastState string
	thumbing  map[string]bool // thumbnails being made, or tried, this run
	elsewhere bool            // another process holds the queue's claim and uploads
}

// UploadsElsewhere says whether another Framecast (the app, or framecast
// sync) holds this queue and uploads what this one adds.
func (s *Studio) UploadsElsewhere() bool { return s.elsewhere }

// session is one recording in progress.
type session struct {
	rec     *recorder.Recorder
	qrec    queue.Recording
	dir     string
	media   int
	length  time.Duration
	failed  []recorder.SegmentClosed
	lastErr error
	ended   chan struct{} // closed once the queue recording is finished
	stopped chan recorder.Stopped
	stop    stdsync.Once
}

// Open opens the queue in cfg.Dir, finishes what an interrupted recording
// left, and starts uploading when a server and device token are set.
func Open(cfg Config) (*Studio, error) {
	if cfg.Dir == "" {
		return nil, errors.New("studio: no config folder")
	}
	if cfg.OutDir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("find the home folder for recordings: %w", err)
		}
		cfg.OutDir = filepath.Join(home, "Videos", "Framecast")
	}
	if cfg.StopWait == 0 {
		cfg.StopWait = DefaultStopWait
	}
	if cfg.OnEvent == nil {
		cfg.OnEvent = func(Event) {}
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	keys, err := keystore.Open(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("open the device key in %s: %w", cfg.Dir, err)
	}
	qdir := filepath.Join(cfg.Dir, "queue")
	q, err := queue.Open(qdir, keys)
	if err != nil {
		return nil, fmt.Errorf("open the upload queue in %s: %w", qdir, err)
	}
	s := &Studio{cfg: cfg, log: cfg.Log, settings: settings.NewStore(cfg.Dir), q: q,
		links: map[string]string{}, progress: map[string][2]int64{}, lastState: StateIdle}
	s.release, err = upsync.Claim(qdir)
	switch {
	case errors.Is(err, upsync.ErrClaimed):
		s.log.Warn("another Framecast uploads this queue; recordings are queued for it")
		s.release = func() {}
		s.elsewhere = true
	case err != nil:
		q.Close()
		return nil, fmt.Errorf("claim the upload queue: %w", err)
	default:
		if _, err := q.Recover(context.Background()); err != nil {
			s.warn(fmt.Sprintf("Some leftovers of an interrupted recording could not be queued: %v", err))
		}
		s.tidyImports(context.Background())
		if err := s.startUploader(); err != nil {
			s.log.Info("not uploading", "reason", err)
		}
	}
	return s, nil
}

// Reconfigure restarts the uploader with the saved settings (after the
// server address or device token changed). The error says what to set.
func (s *Studio) Reconfigure() error {
	s.stopUploader()
	return s.startUploader()
}

func (s *Studio) startUploader() error {
	st, err := s.settings.Load()
	if err != nil {
		return err
	}
	if err := st.Validate(); err != nil {
		return err
	}
	token, err := s.settings.DeviceToken()
	if err != nil {
		return err
	}
	if token == "" {
		return errors.New("no device token is set: paste the token from the server in Settings")
	}
	// Poll: `framecast import` and `framecast record` may add to this queue
	// while the app runs, and their Notify cannot reach this process.
	u, err := upsync.New(upsync.Config{Queue: s.q, ServerURL: st.ServerURL, Token: token, OnEvent: s.uploadEvent, Log: s.log,
		Poll: pollOthers})
	if err != nil {
		return fmt.Errorf("start uploading to %s: %w", st.ServerURL, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	s.mu.Lock()
	s.u, s.stopUp, s.upDone, s.offline = u, cancel, done, false
	s.mu.Unlock()
	go func() {
		defer close(done)
		if err := u.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			s.log.Error("uploader stopped", "err", err)
			s.warn(fmt.Sprintf("Uploading stopped: %v", err))
		}
	}()
	return nil
}

func (s *Studio) stopUploader() {
	s.mu.Lock()
	cancel, done := s.stopUp, s.upDone
	s.u, s.stopUp, s.upDone = nil, nil, nil
	s.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

func (s *Studio) uploader() *upsync.Uploader {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.u
}

func (s *Studio) uploadEvent(ev upsync.Event) {
	s.mu.Lock()
	switch ev.Kind {
	case upsync.EventCreated, upsync.EventReady:
		if ev.ShareURL != "" {
			s.links[ev.Recording] = ev.ShareURL
		}
	case upsync.EventProgress:
		s.progress[ev.Recording] = [2]int64{ev.Sent, ev.Total}
	case upsync.EventOffline:
		s.offline = true
	case upsync.EventOnline:
		s.offline = false
	}
	s.mu.Unlock()
	s.cfg.OnEvent(Event{Kind: KindUpload, Upload: &ev})
	switch ev.Kind {
	case upsync.EventCreated, upsync.EventReady, upsync.EventFailed, upsync.EventSegmentUploaded:
		s.cfg.OnEvent(Event{Kind: KindLibrary})
	}
}

// Close stops recording (keeping what was recorded) and uploading.
func (s *Studio) Close() error {
	s.mu.Lock()
	cur := s.cur
	s.mu.Unlock()
	if cur != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, _ = s.Stop(ctx)
		cancel()
	}
	s.stopUploader()
	s.release()
	return s.q.Close()
}

// Recording reports whether a recording is in progress.
func (s *Studio) Recording() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur != nil
}

// Start starts a recording that uploads while it records.
func (s *Studio) Start(ctx context.Context, opts Options) error {
	s.mu.Lock()
	if s.cur != nil {
		stopping := s.lastState == StateStopping
		s.mu.Unlock()
		if stopping {
			return errors.New("the previous recording is still being saved; try again in a moment")
		}
		return errors.New("a recording is already running; stop it first")
	}
	sess := &session{ended: make(chan struct{}), stopped: make(chan recorder.Stopped, 1)}
	s.cur = sess // held while starting, so a second Start is refused
	s.mu.Unlock()
	if err := s.start(ctx, sess, opts); err != nil {
		s.mu.Lock()
		s.cur = nil
		s.mu.Unlock()
		s.setState(StateIdle)
		return err
	}
	return nil
}

func (s *Studio) start(ctx context.Context, sess *session, opts Options) error {
	dir, err := newRecordingDir(s.cfg.OutDir)
	if err != nil {
		return err
	}
	sess.dir = dir
	title := opts.Title
	if title == "" {
		title = "Recording " + time.Now().Format("2006-01-02 15:04")
	}
	sess.qrec, err = s.q.CreateRecording(ctx, queue.NewRecording{Title: title, PlainDir: dir,
		PlainPattern: segmentPattern, PlainInit: encode.InitName, PlainFirst: 1, Tracking: opts.Tracking})
	if err != nil {
		return fmt.Errorf("prepare the recording's upload: %w", err)
	}
	if u := s.uploader(); u != nil {
		u.Notify() // the server video, and its link, are made at once
	}
	mic := opts.Mic
	switch mic {
	case "":
		mic = "auto"
	case "none":
		mic = ""
	}
	fps := opts.FPS
	if fps == 0 {
		fps = 30
	}
	rec, err := recorder.Start(context.WithoutCancel(ctx), recorder.Options{Dir: dir, Display: opts.Display, Region: opts.Region,
		FPS: fps, MaxHeight: opts.MaxHeight, Mic: mic, SystemAudio: opts.SystemAudio, SystemAudioDevice: opts.SystemAudioDevice,
		Logger: s.log})
	if err != nil {
		_ = s.q.MarkFailed(context.Background(), sess.qrec.ID, "The recording did not start: "+err.Error())
		s.cfg.OnEvent(Event{Kind: KindLibrary})
		return fmt.Errorf("start recording: %w", err)
	}
	sess.rec = rec
	s.setState(StateRecording)
	s.cfg.OnEvent(Event{Kind: KindLibrary})
	go s.pump(sess)
	return nil
}

// pump turns the recorder's events into queued segments and UI events.
func (s *Studio) pump(sess *session) {
	for ev := range sess.rec.Events() {
		switch ev := ev.(type) {
		case recorder.SegmentClosed:
			s.segment(sess, ev)
		case recorder.Level:
			st := ev.Stats
			s.cfg.OnEvent(Event{Kind: KindStats, Stats: &Stats{Elapsed: st.Elapsed.Seconds(), FPS: st.FPS,
				Dropped: st.Dropped, Segments: st.Segments, Mic: ev.Mic, System: ev.System, State: st.State.String()}})
		case recorder.StateChanged:
			switch ev.State {
			case recorder.Recording:
				s.setState(StateRecording)
			case recorder.Paused:
				s.setState(StatePaused)
			case recorder.Stopping:
				s.setState(StateStopping)
			}
		case recorder.Warning:
			s.warn(ev.Message)
		case recorder.Error:
			s.warn("The recording stopped: " + ev.Err.Error())
		case recorder.Stopped:
			sess.stopped <- ev
			return
		}
	}
	sess.stopped <- recorder.Stopped{Err: errors.New("the recorder ended without a result")}
}

func (s *Studio) segment(sess *session, ev recorder.SegmentClosed) {
	if !ev.Init {
		sess.media++
		sess.length += ev.Duration
	}
	if err := s.queueSegment(sess, ev); err != nil {
		sess.failed = append(sess.failed, ev)
		if sess.lastErr == nil || err.Error() != sess.lastErr.Error() {
			s.warn(err.Error())
		}
		sess.lastErr = err
		return
	}
	// The recorder says Stopped only after it has made the MP4; the link
	// must not wait for that. Once ffmpeg's playlist is complete and this
	// was its last segment, the recording is finished at once.
	if len(sess.failed) == 0 {
		if p, err := encode.ReadPlaylist(sess.dir); err == nil && p.Ended && len(p.Segments) == sess.media {
			if err := s.q.Finish(context.Background(), sess.qrec.ID, sess.length); err == nil {
				close(sess.ended)
				if u := s.uploader(); u != nil {
					u.Notify()
				}
			}
		}
	}
}

func (s *Studio) queueSegment(sess *session, ev recorder.SegmentClosed) error {
	index, d := api.SegmentIndex(ev.Index-1), ev.Duration
	if ev.Init {
		index, d = api.InitSegment, 0
	}
	return upsync.QueueSegment(context.Background(), s.q, s.uploader(), sess.qrec.ID, index, ev.Path, d)
}

func (s *Studio) current() (*session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == nil || s.cur.rec == nil {
		return nil, errors.New("nothing is being recorded")
	}
	return s.cur, nil
}

// Pause pauses the recording.
func (s *Studio) Pause() error {
	sess, err := s.current()
	if err != nil {
		return err
	}
	return sess.rec.Pause()
}

// Resume resumes a paused recording.
func (s *Studio) Resume() error {
	sess, err := s.current()
	if err != nil {
		return err
	}
	return sess.rec.Resume()
}

// TogglePause pauses or resumes and says whether it is now paused.
func (s *Studio) TogglePause() (bool, error) {
	sess, err := s.current()
	if err != nil {
		return false, err
	}
	return sess.rec.TogglePause()
}

// Outcome is what Stop ends with.
type Outcome struct {
	Recording string `json:"recording"`
	Title     string `json:"title"`
	ShareURL  string `json:"shareURL,omitempty"` // "" when not uploaded yet
	// Offline: saved in the queue; it uploads when the server is
	// reachable (Message says so).
	Offline bool    `json:"offline"`
	Message string  `json:"message"`
	Seconds float64 `json:"seconds"`
}

// Stop ends the recording, waits (at most Config.StopWait) for its link
// and says where it is. What was recorded is kept whatever the error.
func (s *Studio) Stop(ctx context.Context) (Outcome, error) {
	sess, err := s.current()
	if err != nil {
		return Outcome{}, err
	}
	sess.stop.Do(func() { go func() { _, _ = sess.rec.Stop(context.WithoutCancel(ctx)) }() })
	// Either the last segment is queued (the link can be made now) or the
	// recorder is done (then what is left is queued below).
	var st recorder.Stopped
	var gotStopped bool
	select {
	case <-sess.ended:
	case st = <-sess.stopped:
		gotStopped = true
	case <-ctx.Done():
		return Outcome{}, fmt.Errorf("stop the recording: %w", ctx.Err())
	}
	out, err := s.finishUpload(ctx, sess, st, gotStopped)
	if !gotStopped {
		// The MP4 is still being written; the next recording may start only
		// when the recorder is done with this one.
		go func() {
			st := <-sess.stopped
			if st.Err != nil {
				s.log.Warn("recorder stopped with an error", "err", st.Err)
			}
			s.endSession(sess)
		}()
	} else {
		s.endSession(sess)
	}
	return out, err
}

func (s *Studio) endSession(sess *session) {
	s.mu.Lock()
	if s.cur == sess {
		s.cur = nil
	}
	s.mu.Unlock()
	s.setState(StateIdle)
	s.cfg.OnEvent(Event{Kind: KindLibrary})
}

func (s *Studio) finishUpload(ctx context.Context, sess *session, st recorder.Stopped, stopped bool) (Outcome, error) {
	id := sess.qrec.ID
	out := Outcome{Recording: id.String(), Title: sess.qrec.Title, Seconds: sess.length.Seconds()}
	select {
	case <-sess.ended:
	default:
		var still []recorder.SegmentClosed
		for _, ev := range sess.failed {
			if err := s.queueSegment(sess, ev); err != nil {
				still = append(still, ev)
				sess.lastErr = err
			}
		}
		if len(still) > 0 {
			// Left unfinished on purpose: the next start recovers the
			// recording and queues these from its folder.
			return out, errors.Join(st.Err, fmt.Errorf("%d segment(s) could not be queued for upload (%v); they stay in %s: free some space and restart Framecast to upload the whole recording", len(still), sess.lastErr, sess.dir))
		}
		length := sess.length
		if stopped && st.Result.Duration > 0 {
			length = st.Result.Duration
		}
		if err := s.q.Finish(ctx, id, length); err != nil && !errors.Is(err, queue.ErrState) {
			return out, errors.Join(st.Err, fmt.Errorf("finish the recording's upload: %w", err))
		}
		out.Seconds = length.Seconds()
	}
	u := s.uploader()
	if u == nil {
		out.Offline = true
		out.Message = "Saved offline; it will upload when a server and device token are set."
		return out, st.Err
	}
	u.Notify()
	wctx, cancel := context.WithTimeout(ctx, s.cfg.StopWait)
	defer cancel()
	type ready struct {
		url string
		err error
	}
	ch := make(chan ready, 1)
	go func() {
		url, err := u.WaitReady(wctx, id)
		ch <- ready{url, err}
	}()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case r := <-ch:
			var fe *upsync.FailedError
			switch {
			case r.err == nil:
				out.ShareURL = r.url
				out.Message = "Link ready — copied."
				return out, st.Err
			case errors.As(r.err, &fe):
				return out, errors.Join(st.Err, fmt.Errorf("the recording could not be uploaded: %s", fe.Reason))
			default:
				out.Offline = true
				out.Message = "Saved offline; it will upload when the server is reachable."
				return out, st.Err
			}
		case <-tick.C:
			// A server that is down does not answer in time: say so at once
			// rather than after the whole wait.
			s.mu.Lock()
			off := s.offline
			s.mu.Unlock()
			if off {
				out.Offline = true
				out.Message = "Saved offline; it will upload when the server is reachable."
				return out, st.Err
			}
		}
	}
}

// Cancel ends the recording and throws it away: it is not uploaded.
func (s *Studio) Cancel() error {
	sess, err := s.current()
	if err != nil {
		return err
	}
	sess.stop.Do(sess.rec.Cancel)
	st := <-sess.stopped
	_ = st
	if err := s.q.MarkFailed(context.Background(), sess.qrec.ID, cancelled); err != nil && !errors.Is(err, queue.ErrState) {
		s.log.Warn("mark a cancelled recording", "err", err)
	}
	s.endSession(sess)
	return nil
}

func (s *Studio) setState(state string) {
	s.mu.Lock()
	same := s.lastState == state
	s.lastState = state
	s.mu.Unlock()
	if !same {
		s.cfg.OnEvent(Event{Kind: KindState, State: state})
	}
}

// State is the recording's state: StateIdle, StateRecording, StatePaused
// or StateStopping.
func (s *Studio) State() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastState
}

func (s *Studio) warn(msg string) {
	s.log.Warn(msg)
	s.cfg.OnEvent(Event{Kind: KindWarning, Message: msg})
}

// newRecordingDir picks out/framecast-YYYYMMDD-HHMMSS, unused so far.
func newRecordingDir(out string) (string, error) {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", fmt.Errorf("cannot create the recordings folder %s: %w; choose another folder", out, err)
	}
	base := filepath.Join(out, "framecast-"+time.Now().Format("20060102-150405"))
	dir := base
	for i := 2; ; i++ {
		if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
			return dir, nil
		}
		dir = fmt.Sprintf("%s-%d", base, i)
	}
}

func parseID(id string) (seal.RecordingID, error) {
	rid, err := seal.ParseRecordingID(id)
	if err != nil {
		return rid, fmt.Errorf("%q is not a recording id: %w", id, err)
	}
	return rid, nil
}
