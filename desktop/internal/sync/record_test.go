package sync_test

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"framecast.dev/desktop/internal/cli"
	"framecast.dev/desktop/internal/keystore"
	"framecast.dev/desktop/internal/queue"
	"framecast.dev/shared/testenv"
)

// framecast record, with a server and a device token set, uploads while it
// records and prints the share link right after Stop; the link plays every
// segment the recorder made.
func TestRecordCommandUploadsWhileRecording(t *testing.T) {
	requireFFmpeg(t)
	srv := startServer(t, "")
	display := testenv.Xvfb(t, 640, 360)
	config := t.TempDir()
	t.Setenv("DISPLAY", display.Name)
	t.Setenv("FRAMECAST_CONFIG_DIR", config)
	t.Setenv("FRAMECAST_SERVER_URL", srv.URL)
	t.Setenv("FRAMECAST_DEVICE_TOKEN", testToken)

	var out, errb testenv.LockedBuffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code := cli.Run(ctx, []string{"record", "--duration", "7s", "--mic", "none", "--out", t.TempDir(),
		"--fps", "15", "--title", "Screen demo"}, &out, &errb)
	stopped := time.Now()
	t.Logf("stdout:\n%s\nstderr:\n%s", out.String(), errb.String())
	if code != 0 {
		t.Fatalf("framecast record exited %d", code)
	}
	m := regexp.MustCompile(`Share: (\S+)`).FindStringSubmatch(out.String())
	if m == nil || !strings.HasPrefix(m[1], srv.URL+"/v/") {
		t.Fatal("no share link printed at Stop")
	}

	keys, err := keystore.Open(config)
	if err != nil {
		t.Fatal(err)
	}
	q, err := queue.Open(filepath.Join(config, "queue"), keys)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	recs, err := q.ListRecordings(context.Background())
	if err != nil || len(recs) != 1 || recs[0].Title != "Screen demo" {
		t.Fatalf("queue: %+v, %v", recs, err)
	}
	d := &desk{dir: config, q: q, keys: keys}
	got := checkDelivered(t, srv, d, recs[0].ID)
	if got.SegmentCount < 4 {
		t.Fatalf("%d segments for 7 s", got.SegmentCount)
	}
	// Uploaded while recording: the first media segment was on the server
	// well before the end.
	segs, _ := q.Segments(context.Background(), recs[0].ID)
	if first := segs[1].UploadedAt; stopped.Sub(first) < 3*time.Second {
		t.Fatalf("segment 0 uploaded %v before the command returned; it should go up while recording", stopped.Sub(first))
	}
	if pl := get(t, m[1]+"/playlist.m3u8"); strings.Count(pl, "#EXTINF") != got.SegmentCount-1 {
		t.Fatalf("playlist:\n%s", pl)
	}
}
