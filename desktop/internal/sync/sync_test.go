package sync_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"framecast.dev/desktop/internal/encode"
	"framecast.dev/desktop/internal/queue"
	upsync "framecast.dev/desktop/internal/sync"
	"framecast.dev/shared/api"
	"framecast.dev/shared/seal"
	"framecast.dev/shared/testenv"
)

// The whole flow with a real ffmpeg recording in real time: segments go
// up while recording, and the link plays right after the last one closes.
func TestUploadsWhileRecordingAndPlaysAtStop(t *testing.T) {
	requireFFmpeg(t)
	srv := startServer(t, "")
	d := openDesk(t, t.TempDir())
	up := runUploader(t, d, srv.URL)
	r, dir := newRecording(t, d, "Demo")
	rec, err := record(d.q, r.ID, dir, 7, up.Notify, nil)
	if err != nil {
		t.Fatal(err)
	}
	// While recording: the video is created and segments arrive before
	// the end.
	deadline := time.Now().Add(6 * time.Second)
	for up.ev.count(upsync.EventSegmentUploaded) < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := up.ev.count(upsync.EventSegmentUploaded); n < 2 {
		t.Fatalf("%d segments uploaded 6 s into a 7 s recording; they must go up while recording", n)
	}
	rec.wait(t)
	stop := time.Now()
	url := waitReady(t, up.Uploader, r.ID, 10*time.Second)
	t.Logf("stop → ready in %v", time.Since(stop))
	if !strings.HasPrefix(url, srv.URL+"/v/") {
		t.Fatalf("share URL %q", url)
	}
	got := checkDelivered(t, srv, d, r.ID)
	if got.SegmentCount != rec.segments()+1 {
		t.Fatalf("queue has %d segments, recorder closed %d + init", got.SegmentCount, rec.segments())
	}
	// What viewers get is what ffmpeg wrote: the last segment opens to
	// the plaintext sealed in the queue.
	segs, _ := d.q.Segments(context.Background(), r.ID)
	last := segs[len(segs)-1]
	dek, _ := d.q.DataKey(context.Background(), r.ID)
	sealed, _ := os.ReadFile(last.Path)
	sr, err := seal.NewReader(bytes.NewReader(sealed), dek, r.ID, last.Index.SealIndex())
	if err != nil {
		t.Fatal(err)
	}
	want, err := io.ReadAll(sr)
	if err != nil {
		t.Fatal(err)
	}
	if served := get(t, url+"/seg/"+last.Index.String()+".m4s"); served != string(want) {
		t.Fatalf("the server plays %d bytes for the last segment, the recorder wrote %d", len(served), len(want))
	}
	// Events: created once, every segment, ready with the link, and
	// progress that ends at the total.
	if up.ev.count(upsync.EventCreated) != 1 || up.ev.count(upsync.EventSegmentUploaded) != len(segs) {
		t.Fatalf("events: %d created, %d segment_uploaded for %d segments", up.ev.count(upsync.EventCreated),
			up.ev.count(upsync.EventSegmentUploaded), len(segs))
	}
	ready := up.ev.of(upsync.EventReady)
	if len(ready) != 1 || ready[0].ShareURL != url || ready[0].Recording != r.ID.String() || ready[0].Sent != ready[0].Total || ready[0].Total == 0 {
		t.Fatalf("ready events %+v", ready)
	}
	prog := up.ev.of(upsync.EventProgress)
	if len(prog) == 0 || prog[len(prog)-1].Sent != prog[len(prog)-1].Total {
		t.Fatalf("progress events end at %+v", prog[len(prog)-1:])
	}
	for i := 1; i < len(prog); i++ {
		if prog[i].Total < prog[i-1].Total {
			t.Fatalf("progress total went down: %+v then %+v", prog[i-1], prog[i])
		}
	}
	if s := up.Stats(); s.Segments != len(segs) || s.Finalized != 1 || s.Failed != 0 || s.Retries != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// Offline at the start: the recording keeps its local id, segments wait,
// the uploader backs off instead of spinning, and when the server comes
// up the recording is created, mapped and delivered.
func TestOfflineRecordingIsMappedWhenTheServerAnswers(t *testing.T) {
	srvDir := t.TempDir()
	addr := testenv.FreeAddr(t)
	d := openDesk(t, t.TempDir())
	r := d.create(t, "Made offline")
	up := runUploader(t, d, "http://"+addr)
	d.add(t, r.ID, api.InitSegment, 700)
	for i := range api.SegmentIndex(3) {
		d.add(t, r.ID, i, 100_000)
		up.Notify()
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	// Notify brings a probe forward but never more than one a second;
	// the backoff spaces the rest.
	if n := up.ev.count(upsync.EventOffline) + up.ev.count(upsync.EventRetry); n == 0 || n > 8 {
		t.Fatalf("%d failed probes in 2.6 s offline; want a few, not a busy loop", n)
	}
	if got, _ := d.q.Recording(context.Background(), r.ID); got.ServerID != "" {
		t.Fatal("a server id appeared with no server")
	}
	if !up.Stats().Offline {
		t.Fatal("Stats does not say offline")
	}
	d.finish(t, r.ID)
	srv := startServerAt(t, addr, srvDir)
	up.Notify()
	waitReady(t, up.Uploader, r.ID, 15*time.Second)
	got := checkDelivered(t, srv, d, r.ID)
	if got.ServerID == "" || up.ev.count(upsync.EventOnline) != 1 {
		t.Fatalf("server id %q, %d online events", got.ServerID, up.ev.count(upsync.EventOnline))
	}
}

// Segments sent twice, out of order, and by two uploaders at once (two
// app instances on one queue): the server keeps one copy of each, and
// both uploaders agree the recording is done.
func TestDuplicateAndOutOfOrderPuts(t *testing.T) {
	srv := startServer(t, "")
	ctx := context.Background()
	base := t.TempDir()
	d := openDesk(t, base)
	r := d.create(t, "Twice")
	c := api.NewClient(srv.URL, testToken)
	v, _, err := c.CreateVideo(ctx, api.CreateVideoRequest{Title: r.Title, RecordingID: r.ID.String()})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.q.SetServerID(ctx, r.ID, v.ID, ""); err != nil {
		t.Fatal(err)
	}
	var segs []queue.Segment
	segs = append(segs, d.add(t, r.ID, api.InitSegment, 900))
	for i := range api.SegmentIndex(12) {
		segs = append(segs, d.add(t, r.ID, i, 150_000+int(i)*1000))
	}
	// By hand, backwards, each twice: 201 then 200 stored.
	for i := len(segs) - 1; i >= len(segs)-4; i-- {
		s := segs[i]
		raw, _ := os.ReadFile(s.Path)
		for n := range 2 {
			got, err := c.PutSegment(ctx, v.ID, s.Index, hex.EncodeToString(s.SHA256[:]), s.SealedSize, bytes.NewReader(raw))
			if err != nil || !got.Stored {
				t.Fatalf("PUT %s (#%d): %+v, %v", s.Index, n+1, got, err)
			}
		}
	}
	// A second queue handle on the same folder stands in for a second
	// app: both upload everything at once.
	other, err := queue.Open(base+"/queue", d.keys)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	d.finish(t, r.ID)
	a := runUploader(t, d, srv.URL)
	b := runUploader(t, &desk{dir: base, q: other, keys: d.keys}, srv.URL)
	a.Notify()
	b.Notify()
	waitReady(t, a.Uploader, r.ID, 20*time.Second)
	waitReady(t, b.Uploader, r.ID, 20*time.Second)
	checkDelivered(t, srv, d, r.ID)
	for _, u := range []*running{a, b} {
		if n := u.ev.count(upsync.EventFailed); n != 0 {
			t.Fatalf("an uploader gave up: %+v", u.ev.of(upsync.EventFailed))
		}
	}
}

// A sealed segment changed on disk after it was queued is refused by the
// server (its hash no longer matches) and the recording fails with a
// sentence saying so, instead of retrying forever. Segments tampered on
// the wire with a matching hash are refused when the header is wrong, and
// never served when a ciphertext byte is wrong.
func TestTamperedSegmentsAreRefusedAndNeverServed(t *testing.T) {
	srv := startServer(t, "")
	ctx := context.Background()
	d := openDesk(t, t.TempDir())

	t.Run("changed on disk", func(t *testing.T) {
		r := d.create(t, "Tampered")
		d.add(t, r.ID, 0, 50_000)
		s := d.add(t, r.ID, 1, 50_000)
		flipByte(t, s.Path, 30_000)
		d.finish(t, r.ID)
		up := runUploader(t, d, srv.URL)
		_, err := up.WaitReady(ctxTimeout(t, 15*time.Second), r.ID)
		var fe *upsync.FailedError
		if !errors.As(err, &fe) || !strings.Contains(fe.Reason, "changed on disk") {
			t.Fatalf("WaitReady = %v; want a failure saying the file changed on disk", err)
		}
		got, _ := d.q.Recording(ctx, r.ID)
		if got.State != queue.StateFailed || got.Failure != fe.Reason {
			t.Fatalf("recording %+v", got)
		}
		// Segment 0 may or may not have gone up before the recording was
		// given up on; the tampered one never.
		if blobs := srv.blobs(t, got.ServerID); blobs[1] != "" {
			t.Fatalf("server blobs %v: the tampered segment is stored", blobs)
		}
		if _, err := os.Stat(s.Path); err != nil {
			t.Fatal("the sealed file of a failed recording was removed")
		}
	})

	t.Run("on the wire", func(t *testing.T) {
		c := api.NewClient(srv.URL, testToken)
		id := seal.NewRecordingID()
		key := seal.NewKey()
		v, _, err := c.CreateVideo(ctx, api.CreateVideoRequest{RecordingID: id.String()})
		if err != nil {
			t.Fatal(err)
		}
		plain := plaintext(id, 0, 10_000)
		good := sealBytes(t, key, id, 0, plain)
		put := func(i api.SegmentIndex, b []byte) (api.Segment, error) {
			sum := sha256.Sum256(b)
			return c.PutSegment(ctx, v.ID, i, hex.EncodeToString(sum[:]), int64(len(b)), bytes.NewReader(b))
		}
		// Header: sealed for another recording.
		other := sealBytes(t, key, seal.NewRecordingID(), 1, plain)
		if _, err := put(1, other); !api.IsCode(err, api.CodeBadSeal) {
			t.Fatalf("segment of another recording: %v, want bad_seal", err)
		}
		// Ciphertext: one flipped bit with a matching hash. The server
		// cannot tell without the key, but must never play it.
		bad := sealBytes(t, key, id, 1, plain)
		bad[seal.HeaderSize+100] ^= 1
		if _, err := put(0, good); err != nil {
			t.Fatal(err)
		}
		if _, err := put(1, bad); err != nil {
			t.Fatalf("PUT of the tampered segment: %v", err)
		}
		fv, err := c.Finalize(ctx, v.ID, api.FinalizeRequest{SegmentCount: 2, SegmentDurations: []float64{2, 2}, DataKey: key[:]})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get(fv.ShareURL + "/seg/1.m4s")
		if err != nil {
			t.Fatal(err)
		}
		body, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 200 && rerr == nil {
			t.Fatalf("the tampered segment was served (%d bytes)", len(body))
		}
		if bytes.Contains(body, plain[:64]) {
			t.Fatal("plaintext of a tampered segment reached a viewer")
		}
		if got := get(t, fv.ShareURL+"/seg/0.m4s"); got != string(plain) {
			t.Fatal("the untouched segment does not play")
		}
	})
}

func sealBytes(t testing.TB, key seal.Key, id seal.RecordingID, index uint32, plain []byte) []byte {
	t.Helper()
	sealed, err := seal.Seal(plain, key, id, index)
	if err != nil {
		t.Fatal(err)
	}
	return sealed
}

func flipByte(t testing.TB, path string, at int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	f.ReadAt(b, at)
	b[0] ^= 0x55
	if _, err := f.WriteAt(b, at); err != nil {
		t.Fatal(err)
	}
}

func ctxTimeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// After a crash, Recover queues the segments ffmpeg closed without their
// durations; the uploader reads them from the segments (decrypting them)
// and finalizes with the same values ffmpeg's playlist has.
func TestRecoveredSegmentsGetTheirDurations(t *testing.T) {
	ffmpeg := testenv.Require(t, "ffmpeg")
	srv := startServer(t, "")
	d := openDesk(t, t.TempDir())
	r, dir := newRecording(t, d, "Recovered")
	var args []string
	for _, a := range ffmpegArgs(5.5) {
		if a != "-re" { // as fast as it goes
			args = append(args, a)
		}
	}
	cmd := exec.Command(ffmpeg, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	pl, err := encode.ReadPlaylist(dir)
	if err != nil || len(pl.Segments) != 3 {
		t.Fatalf("playlist %+v, %v", pl, err)
	}
	os.Remove(dir + "/" + encode.PlaylistName) // Recover must not need it
	rep, err := d.q.Recover(context.Background())
	if err != nil || rep.PlainQueued != 4 || len(rep.Closed) != 1 {
		t.Fatalf("Recover = %+v, %v", rep, err)
	}
	up := runUploader(t, d, srv.URL)
	waitReady(t, up.Uploader, r.ID, 15*time.Second)
	got := checkDelivered(t, srv, d, r.ID)
	v, err := api.NewClient(srv.URL, testToken).Video(context.Background(), got.ServerID)
	if err != nil {
		t.Fatal(err)
	}
	var want float64
	for _, s := range pl.Segments {
		want += s.Duration.Seconds()
	}
	if math.Abs(v.Duration-want) > 0.01 {
		t.Fatalf("server says %.3f s, ffmpeg's playlist %.3f s", v.Duration, want)
	}
	segs, _ := d.q.Segments(context.Background(), r.ID)
	for _, s := range segs[1:] {
		if s.Duration <= 0 {
			t.Fatalf("segment %s has no duration saved", s.Index)
		}
	}
}

// An empty recording (stopped before its first segment) fails with a
// sentence, it does not wait forever.
func TestEmptyRecordingFails(t *testing.T) {
	srv := startServer(t, "")
	d := openDesk(t, t.TempDir())
	r := d.create(t, "Too short")
	d.add(t, r.ID, api.InitSegment, 500)
	d.finish(t, r.ID)
	up := runUploader(t, d, srv.URL)
	_, err := up.WaitReady(ctxTimeout(t, 10*time.Second), r.ID)
	var fe *upsync.FailedError
	if !errors.As(err, &fe) || !strings.Contains(fe.Reason, "no recorded segment") {
		t.Fatalf("WaitReady = %v", err)
	}
}

// Drain returns once everything it can do is done, also with a recording
// still going on (someone else's), and a refused token is reported as
// such without failing anything.
func TestDrainAndRefusedToken(t *testing.T) {
	srv := startServer(t, "")
	d := openDesk(t, t.TempDir())
	done := d.create(t, "Done")
	live := d.create(t, "Live")
	for _, r := range []queue.Recording{done, live} {
		d.add(t, r.ID, api.InitSegment, 500)
		d.add(t, r.ID, 0, 70_000)
	}
	d.finish(t, done.ID)

	var ev events
	quiet := slog.New(slog.DiscardHandler)
	bad, err := upsync.New(upsync.Config{Queue: d.q, ServerURL: srv.URL, Token: "wrong-token-wrong-token", OnEvent: ev.add, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := bad.Drain(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Drain with a wrong token = %v", err)
	}
	off := ev.of(upsync.EventOffline)
	if len(off) != 1 || !strings.Contains(off[0].Message, "device-token") || ev.count(upsync.EventFailed) != 0 {
		t.Fatalf("events with a wrong token: %+v", ev.all)
	}

	good, err := upsync.New(upsync.Config{Queue: d.q, ServerURL: srv.URL, Token: testToken, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if err := good.Drain(ctxTimeout(t, 20*time.Second)); err != nil {
		t.Fatal(err)
	}
	checkDelivered(t, srv, d, done.ID)
	got, _ := d.q.Recording(context.Background(), live.ID)
	if got.State != queue.StateRecording || got.Uploaded != 2 {
		t.Fatalf("live recording after Drain: %+v", got)
	}
	if _, err := upsync.New(upsync.Config{Queue: d.q, ServerURL: srv.URL}); err == nil || !strings.Contains(err.Error(), "device-token") {
		t.Fatalf("New without a token = %v", err)
	}
}

// Claim lets one uploader work on a queue at a time.
func TestClaim(t *testing.T) {
	dir := t.TempDir()
	release, err := upsync.Claim(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := upsync.Claim(dir); !errors.Is(err, upsync.ErrClaimed) {
		t.Fatalf("second Claim = %v, want ErrClaimed", err)
	}
	release()
	again, err := upsync.Claim(dir)
	if err != nil {
		t.Fatalf("Claim after release = %v", err)
	}
	again()
}
