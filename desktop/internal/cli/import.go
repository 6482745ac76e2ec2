package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"framecast.dev/desktop/internal/settings"
	"framecast.dev/desktop/internal/studio"
)

func init() {
	register("import", "put a video file in the upload queue and share it", runImport)
}

const importSynopsis = `[--wait DURATION] [--tracking full|anonymous|off] [-v] FILE

Imports an existing video (MP4, MOV, WebM, MKV, ...) the way a recording is
kept: it is cut into ~2 s segments here (copied when it is H.264, else
converted), each sealed into the upload queue, and uploaded whenever the
server is reachable. It prints the share link once the video plays, or
says it is queued (then the app, or framecast sync, uploads it). A file
that is not a video is refused.`

func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("import", importSynopsis, stderr)
	wait := fs.Duration("wait", 2*time.Minute, "how long to wait for the share link before leaving the upload to the queue")
	tracking := fs.String("tracking", "", "viewer tracking for this video: full, anonymous or off (default: the app's setting)")
	verbose := fs.Bool("v", false, "log details to stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("give exactly one video file: %w", errUsage)
	}
	dir, err := settings.Dir()
	if err != nil {
		return err
	}
	if *tracking == "" {
		st, _ := settings.NewStore(dir).Load()
		*tracking = st.Tracking
	}
	if err := (settings.Settings{ServerURL: settings.DefaultServerURL, Tracking: *tracking}).Validate(); err != nil {
		return fmt.Errorf("--tracking: %v: %w", err, errUsage)
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	last := ""
	st, err := studio.Open(studio.Config{Dir: dir, Log: log, OnEvent: func(ev studio.Event) {
		if ev.Kind != studio.KindImport || ev.Import.Phase == last {
			return
		}
		last = ev.Import.Phase
		switch ev.Import.Phase {
		case studio.ImportSegmenting:
			fmt.Fprintln(stderr, "Preparing segments…")
		case studio.ImportQueueing:
			fmt.Fprintln(stderr, "Sealing them into the upload queue…")
		}
	}})
	if err != nil {
		return err
	}
	defer st.Close()
	r, err := st.Import(ctx, fs.Arg(0), *tracking)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "Queued “%s” (%s, %d segments).\n", r.Title, r.Duration.Round(time.Second), r.SegmentCount)
	if st.UploadsElsewhere() {
		fmt.Fprintln(stderr, "The Framecast app (or framecast sync) running now uploads it; its library shows the link.")
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, *wait)
	defer cancel()
	link, err := st.WaitUploaded(wctx, r.ID.String())
	switch {
	case err == nil:
		fmt.Fprintln(stdout, link)
		return nil
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "Not uploaded yet; it stays queued and uploads with the app or `framecast sync`.")
		return nil
	default:
		fmt.Fprintf(stderr, "Not uploaded now (%v); it stays queued and uploads with the app or `framecast sync`.\n", err)
		return nil
	}
}
