package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/term"

	"framecast.dev/desktop/internal/encode"
	"framecast.dev/desktop/internal/recorder"
)

func init() {
	register("record", "record the screen (and sound) until Ctrl-C or --duration", runRecord)
}

const recordSynopsis = `[flags]

Records into a new folder inside --out: ~2 s HLS segments while recording,
and recording.mp4 when it ends. Ctrl-C or SIGTERM stops; SIGUSR1, or p and
Enter on a terminal, pauses and resumes (q and Enter stops).`

func runRecord(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("record", recordSynopsis, stderr)
	display := fs.Int("display", 0, "display `index` to record (see framecast devices)")
	region := fs.String("region", "", "record the rectangle `x,y,w,h` of the desktop instead of a whole display")
	fps := fs.Int("fps", 30, "frames per second")
	mic := fs.String("mic", "default", "microphone: an `id` from framecast devices, default, or none")
	sys := fs.Bool("system-audio", false, "also record what the computer plays")
	sysDev := fs.String("system-audio-device", "", "system-audio source `id` (default: the default output)")
	dur := fs.Duration("duration", 0, "stop after this long, e.g. 90s or 5m (default: until Ctrl-C)")
	maxH := fs.Int("max-height", 1080, "scale taller screens down to this many `pixels`; 0 keeps the full size")
	out := fs.String("out", defaultOut(), "folder that receives the recording's `dir`ectory")
	enc := fs.String("encoder", "auto", "H.264 encoder: auto (hardware when available), libx264, h264_nvenc, h264_vaapi, ...")
	preset := fs.String("preset", encode.DefaultPreset, "libx264 preset (ultrafast ... medium): faster uses less CPU, more bytes")
	noCursor := fs.Bool("no-cursor", false, "leave the mouse pointer out")
	asJSON := fs.Bool("json", false, "print events as JSON lines on stdout")
	verbose := fs.Bool("v", false, "log details (ffmpeg's messages included) to stderr")
	upload := fs.String("upload", "auto", "upload while recording and print the link at Stop: auto (when a device token is set), yes or no")
	title := fs.String("title", "", "the video's title on the server (default: Recording and the date)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: %w", fs.Arg(0), errUsage)
	}
	micSet := false
	fs.Visit(func(f *flag.Flag) { micSet = micSet || f.Name == "mic" })
	opts := recorder.Options{Display: *display, FPS: *fps, SystemAudio: *sys, SystemAudioDevice: *sysDev,
		Duration: *dur, Encoder: *enc, Preset: *preset, HideCursor: *noCursor}
	switch {
	case *fps < 1 || *fps > 120:
		return fmt.Errorf("--fps %d is out of range; use 1 to 120: %w", *fps, errUsage)
	case *dur < 0:
		return fmt.Errorf("--duration must not be negative: %w", errUsage)
	case *maxH < 0 || (*maxH > 0 && *maxH < 16):
		return fmt.Errorf("--max-height %d is too small; use 0 or at least 16: %w", *maxH, errUsage)
	}
	opts.MaxHeight = *maxH
	if *maxH == 0 {
		opts.MaxHeight = -1
	}
	if *region != "" {
		r, err := parseRegion(*region)
		if err != nil {
			return fmt.Errorf("--region %q: %v: %w", *region, err, errUsage)
		}
		opts.Region = r
	}
	switch m := strings.TrimSpace(*mic); {
	case m == "none" || m == "":
		opts.Mic = ""
	case m == "default" && !micSet:
		opts.Mic = "auto" // a machine without a microphone still records
	default:
		opts.Mic = m
	}

	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	opts.Logger = log

	dir, err := newRecordingDir(*out)
	if err != nil {
		return err
	}
	opts.Dir = dir
	up, err := startRecordUpload(*upload, *title, dir, stdout, stderr, *asJSON, *verbose)
	if err != nil {
		return err
	}
	rec, err := recorder.Start(ctx, opts)
	if err != nil {
		up.abort(err)
		return err
	}
	tty := isTerminal(stderr)
	fmt.Fprintf(stderr, "Recording to %s\n", dir)
	if tty {
		fmt.Fprintln(stderr, "Ctrl-C stops; p then Enter pauses and resumes.")
	}
	ui := &recordUI{rec: rec, stdout: stdout, stderr: stderr, tty: tty, json: *asJSON, upload: up}
	return ui.run(ctx)
}

func defaultOut() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return "."
	}
	return filepath.Join(home, "Videos", "Framecast")
}

// newRecordingDir picks out/framecast-YYYYMMDD-HHMMSS, unused so far.
func newRecordingDir(out string) (string, error) {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", fmt.Errorf("cannot create the output folder %s: %w; choose another --out", out, unwrapPath(err))
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

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func parseRegion(s string) (image.Rectangle, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return image.Rectangle{}, errors.New("want four numbers x,y,w,h")
	}
	var v [4]int
	for i, p := range parts {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil {
			return image.Rectangle{}, fmt.Errorf("%q is not a whole number", p)
		}
		v[i] = n
	}
	if v[2] < 16 || v[3] < 16 {
		return image.Rectangle{}, errors.New("width and height must be at least 16 pixels")
	}
	return image.Rect(v[0], v[1], v[0]+v[2], v[1]+v[3]), nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// recordUI turns the recorder's events into a status line, JSON lines or a
// summary, and the user's signals and keys into Pause, Resume and Stop.
type recordUI struct {
	rec            *recorder.Recorder
	stdout, stderr io.Writer
	tty, json      bool
	statusShown    bool
	upload         *recordUpload // nil when not uploading
}

func (u *recordUI) run(ctx context.Context) error {
	toggle, stopSignals := pauseSignals()
	defer stopSignals()
	keys := make(chan string, 4)
	if isTerminal(os.Stdin) {
		go readKeys(keys)
	}
	var stopping bool
	stop := func() {
		if stopping {
			return
		}
		stopping = true
		// Stop blocks until the MP4 is written; events keep flowing.
		go func() { _, _ = u.rec.Stop(context.Background()) }()
	}
	done := ctx.Done()
	events := u.rec.Events()
	for {
		select {
		case <-done:
			done = nil
			stop()
		case <-toggle:
			u.toggle()
		case k := <-keys:
			switch k {
			case "p", "pause", "r", "resume":
				u.toggle()
			case "q", "quit", "s", "stop":
				stop()
			}
		case ev, ok := <-events:
			if !ok {
				return errors.New("the recorder ended without a result")
			}
			if st, ok := ev.(recorder.Stopped); ok {
				u.clearStatus()
				u.print(ev)
				return u.upload.finish(st.Result, st.Err)
			}
			u.print(ev)
		}
	}
}

func (u *recordUI) toggle() {
	paused, err := u.rec.TogglePause()
	if err != nil {
		return
	}
	if !u.tty && !u.json {
		if paused {
			fmt.Fprintln(u.stderr, "Paused.")
		} else {
			fmt.Fprintln(u.stderr, "Resumed.")
		}
	}
}

func readKeys(out chan<- string) {
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		out <- strings.ToLower(strings.TrimSpace(sc.Text()))
	}
}

func (u *recordUI) print(ev recorder.Event) {
	if u.json {
		u.printJSON(ev)
	}
	switch ev := ev.(type) {
	case recorder.SegmentClosed:
		u.upload.segment(ev)
	case recorder.Level:
		if u.tty {
			u.status(ev)
		}
	case recorder.Warning:
		u.clearStatus()
		msg := ev.Message
		if ev.Slow {
			msg += " (--fps, --max-height, or a faster --preset)"
		}
		fmt.Fprintf(u.stderr, "warning: %s\n", msg)
	case recorder.Stopped:
		if ev.Err == nil && !u.json {
			r := ev.Result
			fmt.Fprintf(u.stdout, "Saved %s (%.1f s, %dx%d, %d frames, %d dropped, %d segments)\n",
				r.MP4, r.Duration.Seconds(), r.Width, r.Height, r.Frames, r.Dropped, r.Segments)
		}
	}
}

func (u *recordUI) status(l recorder.Level) {
	s := l.Stats
	state := "● REC"
	if s.State == recorder.Paused {
		state = "❚❚ PAUSED"
	}
	el := s.Elapsed.Truncate(time.Second)
	line := fmt.Sprintf("%s %02d:%02d  %4.1f fps  %d dropped  mic %s  system %s",
		state, int(el.Minutes()), int(el.Seconds())%60, s.FPS, s.Dropped, meter(l.Mic), meter(l.System))
	fmt.Fprintf(u.stderr, "\r\033[K%s", line)
	u.statusShown = true
}

func (u *recordUI) clearStatus() {
	if u.statusShown {
		fmt.Fprint(u.stderr, "\r\033[K")
		u.statusShown = false
	}
}

// meter draws a dBFS level as a small bar.
func meter(db float64) string {
	const width = 8
	n := int((db + 60) / 60 * width)
	n = max(0, min(width, n))
	return "[" + strings.Repeat("|", n) + strings.Repeat(" ", width-n) + "]"
}

type eventJSON struct {
	Type     string   `json:"type"`
	Index    *int     `json:"index,omitempty"`
	Init     bool     `json:"init,omitempty"`
	Path     string   `json:"path,omitempty"`
	Size     int64    `json:"size,omitempty"`
	Seconds  *float64 `json:"seconds,omitempty"`
	Mic      *float64 `json:"micDb,omitempty"`
	System   *float64 `json:"systemDb,omitempty"`
	Elapsed  *float64 `json:"elapsed,omitempty"`
	FPS      *float64 `json:"fps,omitempty"`
	Frames   *int64   `json:"frames,omitempty"`
	Dropped  *int64   `json:"dropped,omitempty"`
	Captured *int64   `json:"captured,omitempty"`
	Segments *int     `json:"segments,omitempty"`
	State    string   `json:"state,omitempty"`
	Message  string   `json:"message,omitempty"`
	MP4      string   `json:"mp4,omitempty"`
	Dir      string   `json:"dir,omitempty"`
	Width    int      `json:"width,omitempty"`
	Height   int      `json:"height,omitempty"`
	Encoder  string   `json:"encoder,omitempty"`
}

func (u *recordUI) printJSON(ev recorder.Event) {
	var j eventJSON
	switch ev := ev.(type) {
	case recorder.SegmentClosed:
		secs := ev.Duration.Seconds()
		j = eventJSON{Type: "segment", Index: &ev.Index, Init: ev.Init, Path: ev.Path, Size: ev.Size, Seconds: &secs}
	case recorder.Level:
		s := ev.Stats
		el := s.Elapsed.Seconds()
		j = eventJSON{Type: "level", Mic: &ev.Mic, System: &ev.System, Elapsed: &el, FPS: &s.FPS,
			Frames: &s.Frames, Captured: &s.Captured, Dropped: &s.Dropped, Segments: &s.Segments, State: s.State.String()}
	case recorder.StateChanged:
		j = eventJSON{Type: "state", State: ev.State.String()}
	case recorder.Warning:
		j = eventJSON{Type: "warning", Message: ev.Message}
	case recorder.Error:
		j = eventJSON{Type: "error", Message: ev.Err.Error()}
	case recorder.Stopped:
		r := ev.Result
		secs := r.Duration.Seconds()
		j = eventJSON{Type: "stopped", Seconds: &secs, Frames: &r.Frames, Captured: &r.Captured, Dropped: &r.Dropped,
			Segments: &r.Segments, MP4: r.MP4, Dir: r.Dir, Width: r.Width, Height: r.Height, Encoder: r.Encoder}
		if ev.Err != nil {
			j.Message = ev.Err.Error()
		}
	default:
		return
	}
	b, _ := json.Marshal(j)
	fmt.Fprintf(u.stdout, "%s\n", b)
}
