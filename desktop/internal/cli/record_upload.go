package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"time"

	"framecast.dev/desktop/internal/encode"
	"framecast.dev/desktop/internal/queue"
	"framecast.dev/desktop/internal/recorder"
	"framecast.dev/desktop/internal/settings"
	upsync "framecast.dev/desktop/internal/sync"
	"framecast.dev/shared/api"
)

// stopWait bounds how long `framecast record` waits after Stop for the
// link; whatever is left then stays queued for `framecast sync`.
const stopWait = 2 * time.Minute

// recordUpload sends a recording to the server while it is being made:
// each segment the recorder closes is sealed into the queue and the
// uploader sends it at once; at Stop the recording is finished and the
// share link printed as soon as it plays.
type recordUpload struct {
	l       *local
	release func()
	u       *upsync.Uploader // nil when another process uploads this queue
	cancel  context.CancelFunc
	done    chan error
	rec     queue.Recording
	stdout  io.Writer
	stderr  io.Writer
	json    bool
	failed  []recorder.SegmentClosed // not queued (disk full); retried at Stop
	lastErr error
	dir     string        // the recorder's folder
	media   int           // media segments received
	length  time.Duration // their summed duration
	ended   bool          // the last segment is queued and the recording finished
}

// startRecordUpload prepares uploading a recording into dir. mode is
// "auto" (upload when a device token is set), "yes" or "no"; it returns
// nil, nil when there is nothing to do.
func startRecordUpload(mode, title, dir string, stdout, stderr io.Writer, asJSON, verbose bool) (*recordUpload, error) {
	switch mode {
	case "no":
		return nil, nil
	case "auto", "yes":
	default:
		return nil, fmt.Errorf("--upload %q: use auto, yes or no: %w", mode, errUsage)
	}
	// The server settings first: without a token nothing is opened.
	cfgDir, err := settings.Dir()
	if err != nil {
		return nil, err
	}
	url, token, err := serverOf(settings.NewStore(cfgDir))
	if err != nil {
		if mode == "auto" {
			if !asJSON {
				fmt.Fprintf(stderr, "Not uploading: %v.\n", err)
			}
			return nil, nil
		}
		return nil, err
	}
	l, err := openLocal()
	if err != nil {
		return nil, err
	}
	if title == "" {
		title = "Recording " + time.Now().Format("2006-01-02 15:04")
	}
	ru := &recordUpload{l: l, stdout: stdout, stderr: stderr, json: asJSON, done: make(chan error, 1), dir: dir}
	ru.release, err = upsync.Claim(queueDir(l.dir))
	claimedElsewhere := errors.Is(err, upsync.ErrClaimed)
	switch {
	case claimedElsewhere:
		// The app (or `framecast sync --watch`) uploads this queue: queue
		// the segments and leave the sending to it.
		fmt.Fprintln(stderr, "Another Framecast is uploading; it will upload this recording too.")
		ru.release = func() {}
	case err != nil:
		l.Close()
		return nil, err
	}
	ru.rec, err = l.q.CreateRecording(context.Background(), queue.NewRecording{Title: title, PlainDir: dir,
		PlainPattern: recorderSegmentPattern, PlainInit: encode.InitName, PlainFirst: 1})
	if err != nil {
		ru.close()
		return nil, fmt.Errorf("prepare the upload: %w", err)
	}
	if claimedElsewhere {
		return ru, nil
	}
	p := newSyncPrinter(stdout, stderr, asJSON)
	p.recording = true
	level := slog.LevelError + 4
	if verbose {
		level = slog.LevelDebug
	}
	ru.u, err = upsync.New(upsync.Config{Queue: l.q, ServerURL: url, Token: token, OnEvent: p.event,
		Log: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))})
	if err != nil {
		ru.close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	ru.cancel = cancel
	go func() { ru.done <- ru.u.Run(ctx) }()
	fmt.Fprintf(stderr, "Uploading to %s while recording.\n", url)
	return ru, nil
}

// recorderSegmentPattern is how the recorder names media segments in its
// folder, numbered from 1.
const recorderSegmentPattern = "seg%05d.m4s"

// segment queues a segment the recorder closed.
func (ru *recordUpload) segment(ev recorder.SegmentClosed) {
	if ru == nil {
		return
	}
	if !ev.Init {
		ru.media++
		ru.length += ev.Duration
	}
	if err := ru.queue(ev); err != nil {
		ru.failed = append(ru.failed, ev)
		if ru.lastErr == nil || err.Error() != ru.lastErr.Error() {
			fmt.Fprintf(ru.stderr, "\r\033[Kwarning: %v\n", err)
		}
		ru.lastErr = err
		return
	}
	// The recorder announces the end (Stopped) only after it has made the
	// MP4, which takes a while for a long recording. The link must not
	// wait for that: once ffmpeg's playlist is complete and this was its
	// last segment, the recording is finished and finalized at once.
	if len(ru.failed) == 0 {
		if p, err := encode.ReadPlaylist(ru.dir); err == nil && p.Ended && len(p.Segments) == ru.media {
			if err := ru.l.q.Finish(context.Background(), ru.rec.ID, ru.length); err == nil {
				ru.ended = true
				if ru.u != nil {
					ru.u.Notify()
				}
			}
		}
	}
}

func (ru *recordUpload) queue(ev recorder.SegmentClosed) error {
	index, d := api.SegmentIndex(ev.Index-1), ev.Duration
	if ev.Init {
		index, d = api.InitSegment, 0
	}
	return upsync.QueueSegment(context.Background(), ru.l.q, ru.u, ru.rec.ID, index, ev.Path, d)
}

// abort gives up on a recording that never started.
func (ru *recordUpload) abort(cause error) {
	if ru == nil {
		return
	}
	_ = ru.l.q.MarkFailed(context.Background(), ru.rec.ID, "The recording did not start: "+cause.Error())
	ru.close()
}

// finish runs after the recorder stopped: it queues what could not be
// queued before, finishes the recording and waits for its link. recErr is
// the recorder's own outcome; what it recorded is uploaded either way.
func (ru *recordUpload) finish(res recorder.Result, recErr error) error {
	if ru == nil {
		return recErr
	}
	defer ru.close()
	var still []recorder.SegmentClosed
	for _, ev := range ru.failed {
		if err := ru.queue(ev); err != nil {
			still = append(still, ev)
			ru.lastErr = err
		}
	}
	ctx := context.Background()
	if len(still) > 0 {
		// Left unfinished on purpose: the next `framecast sync` (or app
		// start) recovers the recording and queues these from the folder.
		return errors.Join(recErr, fmt.Errorf("%d segment(s) could not be queued for upload (%v); they stay in %s: free some space and run `framecast sync` to upload the whole recording", len(still), ru.lastErr, res.Dir))
	}
	if !ru.ended {
		if err := ru.l.q.Finish(ctx, ru.rec.ID, res.Duration); err != nil {
			return errors.Join(recErr, fmt.Errorf("finish the upload: %w", err))
		}
	}
	if ru.u == nil {
		fmt.Fprintln(ru.stderr, "Queued for upload; the Framecast that is uploading will share it.")
		return recErr
	}
	ru.u.Notify()
	wctx, cancel := context.WithTimeout(ctx, stopWait)
	defer cancel()
	// Ctrl-C already stopped the recording; another one stops waiting.
	wctx, stop := signal.NotifyContext(wctx, os.Interrupt)
	defer stop()
	url, err := ru.u.WaitReady(wctx, ru.rec.ID)
	var fe *upsync.FailedError
	switch {
	case err == nil:
		if !ru.json {
			fmt.Fprintf(ru.stdout, "Share: %s\n", url)
		}
	case errors.As(err, &fe):
		return errors.Join(recErr, fmt.Errorf("the recording could not be uploaded: %s", fe.Reason))
	default:
		fmt.Fprintln(ru.stderr, "Not uploaded yet; the recording is kept in the queue and `framecast sync` (or the app) finishes the upload.")
	}
	return recErr
}

func (ru *recordUpload) close() {
	if ru.cancel != nil {
		ru.cancel()
		<-ru.done
	}
	if ru.release != nil {
		ru.release()
	}
	ru.l.Close()
}
