package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	stdsync "sync"
	"time"

	"framecast.dev/desktop/internal/queue"
	"framecast.dev/desktop/internal/settings"
	upsync "framecast.dev/desktop/internal/sync"
)

func init() {
	register("sync", "upload what is waiting in the queue", runSync)
	register("device-token", "save the token this device uploads with (read from stdin)", runDeviceToken)
}

const syncSynopsis = `[--watch] [--json] [-v]

Uploads the recordings waiting in the queue (see framecast queue) and prints
each one's share link when it is ready. It first finishes what an
interrupted recording left behind. Without --watch it returns when nothing
is left (retrying while the server cannot be reached; Ctrl-C stops, and
nothing is lost); with --watch it keeps uploading what other recordings add
until Ctrl-C.`

func runSync(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sync", syncSynopsis, stderr)
	watch := fs.Bool("watch", false, "keep running and upload new recordings as they are queued")
	asJSON := fs.Bool("json", false, "print the uploader's events as JSON lines on stdout")
	verbose := fs.Bool("v", false, "log details to stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: %w", fs.Arg(0), errUsage)
	}
	l, err := openLocal()
	if err != nil {
		return err
	}
	defer l.Close()
	url, token, err := l.server()
	if err != nil {
		return err
	}
	release, err := upsync.Claim(queueDir(l.dir))
	if err != nil {
		return err
	}
	defer release()
	rep, err := l.q.Recover(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "warning: some leftovers of an interrupted recording could not be queued: %v\n", err)
	}
	if n := rep.PlainQueued + rep.Adopted + rep.Requeued; n > 0 || len(rep.Closed) > 0 {
		fmt.Fprintf(stderr, "Finished %d interrupted recording(s): %d segment(s) queued again.\n", len(rep.Closed), n)
	}

	p := newSyncPrinter(stdout, stderr, *asJSON)
	cfg := upsync.Config{Queue: l.q, ServerURL: url, Token: token, OnEvent: p.event, Log: cliLogger(stderr, *verbose)}
	if *watch {
		cfg.Poll = 2 * time.Second
	}
	u, err := upsync.New(cfg)
	if err != nil {
		return err
	}
	if *watch {
		fmt.Fprintf(stderr, "Uploading to %s until Ctrl-C.\n", url)
		err = u.Run(ctx)
	} else {
		err = u.Drain(ctx)
	}
	p.clear()
	st := u.Stats()
	if !*asJSON {
		fmt.Fprintf(stderr, "%d segment(s) uploaded (%s), %d recording(s) ready.\n", st.Segments, humanBytes(st.Bytes), st.Finalized)
	}
	switch {
	case err != nil && !errors.Is(err, context.Canceled):
		return err
	case err != nil:
		if left := waiting(l.q); left > 0 {
			fmt.Fprintf(stderr, "Stopped; %d segment(s) still waiting, kept in the queue. `framecast sync` resumes.\n", left)
		}
	}
	if st.Failed > 0 {
		return fmt.Errorf("%d recording(s) could not be uploaded; `framecast queue` says why", st.Failed)
	}
	return nil
}

func waiting(q *queue.Queue) int {
	segs, err := q.Pending(context.Background(), 1_000_000)
	if err != nil {
		return 0
	}
	return len(segs)
}

func cliLogger(stderr io.Writer, verbose bool) *slog.Logger {
	// The events already tell the user what matters; the log is for -v.
	level := slog.LevelError + 4
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
}

// syncPrinter shows the uploader's events: share links on stdout,
// progress and trouble on stderr (a status line on a terminal), or
// everything as JSON lines on stdout.
type syncPrinter struct {
	stdout, stderr io.Writer
	json, tty      bool

	// recording: the recorder's status line owns the terminal, so no
	// progress lines, and it prints the link itself at Stop.
	recording bool

	mu        stdsync.Mutex
	lastShown map[string]time.Time
	lastSent  map[string]int64
	status    bool
	lastRetry time.Time
}

func newSyncPrinter(stdout, stderr io.Writer, asJSON bool) *syncPrinter {
	return &syncPrinter{stdout: stdout, stderr: stderr, json: asJSON, tty: isTerminal(stderr), lastShown: map[string]time.Time{}, lastSent: map[string]int64{}}
}

// syncEventJSON is an upsync.Event as a JSON line.
type syncEventJSON struct {
	Type string `json:"type"`
	upsync.Event
}

func (p *syncPrinter) event(ev upsync.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json {
		b, _ := json.Marshal(syncEventJSON{Type: "upload_" + string(ev.Kind), Event: ev})
		fmt.Fprintf(p.stdout, "%s\n", b)
		return
	}
	title := ev.Title
	if title == "" && len(ev.Recording) >= 12 {
		title = ev.Recording[:12]
	}
	switch ev.Kind {
	case upsync.EventProgress:
		if p.recording {
			return
		}
		now := time.Now()
		every := 5 * time.Second
		if p.tty {
			every = 200 * time.Millisecond
		}
		if ev.Sent == p.lastSent[ev.Recording] || now.Sub(p.lastShown[ev.Recording]) < every && ev.Sent < ev.Total {
			return
		}
		p.lastShown[ev.Recording], p.lastSent[ev.Recording] = now, ev.Sent
		line := fmt.Sprintf("↑ “%s”: %s of %s", title, humanBytes(ev.Sent), humanBytes(ev.Total))
		if p.tty {
			fmt.Fprintf(p.stderr, "\r\033[K%s", line)
			p.status = true
		} else {
			fmt.Fprintln(p.stderr, line)
		}
	case upsync.EventReady:
		if p.recording {
			return
		}
		p.clearLocked()
		fmt.Fprintf(p.stdout, "“%s” is ready: %s\n", title, ev.ShareURL)
	case upsync.EventRetry:
		// One line per second at most: a flaky network retries a lot.
		if time.Since(p.lastRetry) < time.Second {
			return
		}
		p.lastRetry = time.Now()
		p.clearLocked()
		fmt.Fprintf(p.stderr, "%s\n", ev.Message)
	case upsync.EventOffline, upsync.EventOnline, upsync.EventWarning:
		p.clearLocked()
		fmt.Fprintf(p.stderr, "%s\n", ev.Message)
	case upsync.EventFailed:
		p.clearLocked()
		fmt.Fprintf(p.stderr, "“%s” cannot be uploaded: %s\n", title, ev.Message)
	}
}

func (p *syncPrinter) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
}

func (p *syncPrinter) clearLocked() {
	if p.status {
		fmt.Fprint(p.stderr, "\r\033[K")
		p.status = false
	}
}

const deviceTokenSynopsis = `[--clear] < token-file

Saves the device token this computer uploads with, read from the first line
of standard input (so it never shows in the process list or shell history),
in the settings file (mode 0600). FRAMECAST_DEVICE_TOKEN overrides it.`

func runDeviceToken(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("device-token", deviceTokenSynopsis, stderr)
	forget := fs.Bool("clear", false, "forget the saved token")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("the token is read from standard input, not the command line (where other users can see it): %w", errUsage)
	}
	dir, err := settings.Dir()
	if err != nil {
		return err
	}
	store := settings.NewStore(dir)
	if *forget {
		if err := store.SaveDeviceToken(""); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "Forgot the device token.")
		return nil
	}
	if isTerminal(os.Stdin) {
		fmt.Fprintln(stderr, "Paste the device token and press Enter:")
	}
	line, err := readLine(os.Stdin)
	if err != nil {
		return fmt.Errorf("read the token from standard input: %w", err)
	}
	if strings.TrimSpace(line) == "" {
		return fmt.Errorf("no token on standard input; pipe it in (framecast device-token < token.txt) or paste it: %w", errUsage)
	}
	if err := store.SaveDeviceToken(line); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Saved the device token in %s.\n", dir)
	return nil
}

func readLine(r io.Reader) (string, error) {
	var b strings.Builder
	buf := make([]byte, 1)
	for b.Len() < 4096 {
		n, err := r.Read(buf)
		if n == 1 {
			if buf[0] == '\n' {
				break
			}
			b.WriteByte(buf[0])
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", err
		}
	}
	return strings.TrimSpace(b.String()), nil
}
