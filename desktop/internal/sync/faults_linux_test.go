package sync_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"framecast.dev/desktop/internal/queue"
	upsync "framecast.dev/desktop/internal/sync"
	"framecast.dev/shared/api"
)

// tmpfs mounts a RAM disk of size (e.g. "2m") on a new folder and
// unmounts it when the test ends. It needs root, as `make test` has.
func tmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "small-disk")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount a %s tmpfs (the disk-full tests run as root): %v: %s", size, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

func remount(t *testing.T, dir, size string) {
	t.Helper()
	if out, err := exec.Command("mount", "-o", "remount,size="+size, dir).CombinedOutput(); err != nil {
		t.Fatalf("remount %s: %v: %s", dir, err, out)
	}
}

// The disk holding the queue fills up while recording: queueing the next
// segment fails with a sentence that says so, nothing half-written stays
// behind, the segments closed before are kept and keep uploading. The
// recording is left unfinished, so once there is room the next start
// (Recover, as `framecast sync` runs it) queues the segment that did not
// fit, and the whole recording plays.
func TestDiskFullOnTheDesktopKeepsWhatWasClosed(t *testing.T) {
	srv := startServer(t, "")
	small := tmpfs(t, "2m")
	d := openDesk(t, small)
	up := runUploader(t, d, srv.URL)
	ctx := context.Background()
	plainDir := t.TempDir()
	r, err := d.q.CreateRecording(ctx, queue.NewRecording{Title: "Full disk", PlainDir: plainDir,
		PlainPattern: "seg%05d.m4s", PlainFirst: 1})
	if err != nil {
		t.Fatal(err)
	}
	var failed error
	var failedPath string
	queued := 0
	for i := api.SegmentIndex(0); i < 20; i++ {
		path := filepath.Join(plainDir, fmt.Sprintf("seg%05d.m4s", i+1))
		if err := os.WriteFile(path, plaintext(r.ID, i, 300_000), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := upsync.QueueSegment(ctx, d.q, up.Uploader, r.ID, i, path, 2*time.Second); err != nil {
			failed, failedPath = err, path
			break
		}
		queued++
	}
	if failed == nil {
		t.Fatal("20 segments of 300 kB fit on a 2 MB disk")
	}
	t.Logf("after %d segments: %v", queued, failed)
	for _, want := range []string{"disk", "full", "free some space", "kept"} {
		if !strings.Contains(failed.Error(), want) {
			t.Fatalf("error %q does not say %q", failed, want)
		}
	}
	if queued < 3 {
		t.Fatalf("only %d segments fit before the disk was full", queued)
	}
	if _, err := os.Stat(failedPath); err != nil {
		t.Fatalf("the plaintext of the segment that did not fit is gone: %v", err)
	}
	filepath.WalkDir(small, func(path string, e os.DirEntry, err error) error {
		if strings.Contains(filepath.Base(path), ".tmp-") {
			t.Errorf("half-written file left behind: %s", path)
		}
		return nil
	})
	// What was closed still goes up while the disk is full (the queue
	// cannot note it, so it is asked about again later).
	c := api.NewClient(srv.URL, testToken)
	deadline := time.Now().Add(10 * time.Second)
	var got queue.Recording
	for {
		got, _ = d.q.Recording(ctx, r.ID)
		v, err := c.Video(ctx, got.ServerID)
		if err == nil && len(v.Segments) == queued {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server got %d of the %d queued segments while the desktop's disk was full (%v)", len(v.Segments), queued, err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Room again, and the app starts anew.
	up.stop()
	remount(t, small, "64m")
	rep, err := d.q.Recover(ctx)
	if err != nil || len(rep.Closed) != 1 || rep.Adopted+rep.PlainQueued != 1 {
		t.Fatalf("Recover after freeing space = %+v, %v", rep, err)
	}
	up2 := runUploader(t, d, srv.URL)
	waitReady(t, up2.Uploader, r.ID, 20*time.Second)
	got = checkDelivered(t, srv, d, r.ID)
	if got.SegmentCount != queued+1 {
		t.Fatalf("%d segments delivered, %d were closed", got.SegmentCount, queued+1)
	}
}

// The server's disk fills up mid-recording: the uploader reports the
// server failing and backs off, keeps every segment, and delivers them
// all once there is room again.
func TestDiskFullOnTheServerKeepsEverything(t *testing.T) {
	small := tmpfs(t, "3m")
	srv := startServer(t, small)
	d := openDesk(t, t.TempDir())
	up := runUploader(t, d, srv.URL)
	r := d.create(t, "Server full")
	d.add(t, r.ID, api.InitSegment, 1000)
	for i := range api.SegmentIndex(12) {
		d.add(t, r.ID, i, 400_000)
		up.Notify()
	}
	d.finish(t, r.ID)
	// Wait until the uploader is stuck on the full disk.
	deadline := time.Now().Add(20 * time.Second)
	for !up.Stats().Offline || up.ev.count(upsync.EventOffline) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the uploader never noticed the full server disk: %+v", up.Stats())
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(time.Second)
	if st := up.Stats(); st.Finalized != 0 || st.Segments >= 13 {
		t.Fatalf("stats with the server's disk full: %+v", st)
	}
	off := up.ev.of(upsync.EventOffline)
	t.Logf("%d segments up before the disk filled; the user saw: %s", up.Stats().Segments, off[0].Message)
	if !strings.Contains(off[0].Message, "server") || !strings.Contains(off[0].Message, "kept") {
		t.Fatalf("offline message %q", off[0].Message)
	}
	remount(t, small, "64m")
	up.Notify()
	waitReady(t, up.Uploader, r.ID, 30*time.Second)
	checkDelivered(t, srv, d, r.ID)
}
