package sync_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	stdsync "sync"
	"time"

	upsync "framecast.dev/desktop/internal/sync"
	"framecast.dev/shared/api"
)

// childEnv, when set, makes the test binary a child process of a fault
// test instead of running tests; its value names what the child does:
//
//   - "record": take the queue, recover it, and record (ffmpeg in real
//     time) while uploading, printing "recording ID", "started UNIXNANO",
//     "closed INDEX" and "uploaded INDEX" lines, until killed;
//   - "resume": what the app does when started again: take the queue,
//     recover it, upload everything and print "ready ID URL".
//
// FRAMECAST_SYNC_TEST_DIR is the desk folder, FRAMECAST_SYNC_TEST_SERVER
// the server's URL.
const childEnv = "FRAMECAST_SYNC_TEST_CHILD"

func child(mode string) int {
	out := bufio.NewWriter(os.Stdout)
	var outMu stdsync.Mutex
	say := func(format string, args ...any) {
		outMu.Lock()
		defer outMu.Unlock()
		fmt.Fprintf(out, format+"\n", args...)
		out.Flush()
	}
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 3
	}
	dir, url := os.Getenv("FRAMECAST_SYNC_TEST_DIR"), os.Getenv("FRAMECAST_SYNC_TEST_SERVER")
	d, err := openDeskDir(dir)
	if err != nil {
		return fail(err)
	}
	release, err := upsync.Claim(filepath.Join(dir, "queue"))
	if err != nil {
		return fail(err)
	}
	defer release()
	ctx := context.Background()
	if rep, err := d.q.Recover(ctx); err != nil {
		return fail(err)
	} else {
		fmt.Fprintf(os.Stderr, "child: recovered %+v\n", rep)
	}
	u, err := upsync.New(upsync.Config{Queue: d.q, ServerURL: url, Token: testToken,
		RetryMin: 50 * time.Millisecond, RetryBase: 200 * time.Millisecond, RetryMax: 2 * time.Second,
		OnEvent: func(ev upsync.Event) {
			switch ev.Kind {
			case upsync.EventSegmentUploaded:
				say("uploaded %s", ev.Index)
			case upsync.EventReady:
				say("ready %s %s", ev.Recording, ev.ShareURL)
			case upsync.EventFailed:
				say("failed %s %s", ev.Recording, ev.Message)
			}
		}})
	if err != nil {
		return fail(err)
	}
	switch mode {
	case "record":
		seconds, _ := strconv.ParseFloat(os.Getenv("FRAMECAST_SYNC_TEST_SECONDS"), 64)
		r, plain, err := makeRecording(d, "Killed")
		if err != nil {
			return fail(err)
		}
		say("recording %s", r.ID)
		go u.Run(ctx)
		rec, err := record(d.q, r.ID, plain, seconds, u.Notify, func(i api.SegmentIndex) { say("closed %s", i) })
		if err != nil {
			return fail(err)
		}
		say("started %d", rec.started.UnixNano())
		if err := <-rec.done; err != nil {
			return fail(err)
		}
		return fail(fmt.Errorf("the recording ended before the test killed it"))
	case "resume":
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if err := u.Drain(ctx); err != nil {
			return fail(err)
		}
		return 0
	}
	return fail(fmt.Errorf("unknown child mode %q", mode))
}
