package queue

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"framecast.dev/desktop/internal/keystore"
	"framecast.dev/shared/api"
	"framecast.dev/shared/seal"
)

const (
	testPattern = "segment_%05d.m4s"
	testInit    = "init.mp4"
)

// fixture is a queue in a temp folder with a real file-backed key store
// and a plaintext folder standing in for the recorder's work folder.
type fixture struct {
	base  string
	plain string
	keys  *keystore.Store
	q     *Queue
}

func openFixture(t testing.TB, base string) *fixture {
	t.Helper()
	keys, err := keystore.OpenWith(filepath.Join(base, "keys"), keystore.File)
	if err != nil {
		t.Fatal(err)
	}
	q, err := Open(filepath.Join(base, "queue"), keys)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	plain := filepath.Join(base, "plain")
	if err := os.MkdirAll(plain, 0o700); err != nil {
		t.Fatal(err)
	}
	return &fixture{base: base, plain: plain, keys: keys, q: q}
}

func (f *fixture) create(t testing.TB, title string) Recording {
	t.Helper()
	r, err := f.q.CreateRecording(context.Background(), NewRecording{Title: title, PlainDir: f.plain, PlainPattern: testPattern, PlainInit: testInit})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// content is segment i's plaintext: its size and bytes follow from i, so a
// test (or a crashed child's parent) knows what every segment must hold.
func content(i api.SegmentIndex) []byte {
	size := (int(i)*71993 + 1000) % 300_000
	switch i {
	case 1:
		size = 0 // an empty segment is legal and an edge worth keeping
	case api.InitSegment:
		size = 700
	}
	b := make([]byte, size)
	rand.NewChaCha8([32]byte{byte(i), byte(i >> 8), 42}).Read(b)
	return b
}

// writePlain writes segment i the way ffmpeg's temp_file flag does: under a
// temp name first, then renamed, so a final name means a complete file.
func writePlain(t testing.TB, dir string, i api.SegmentIndex) string {
	t.Helper()
	final := filepath.Join(dir, fmt.Sprintf(testPattern, i))
	if i == api.InitSegment {
		final = filepath.Join(dir, testInit)
	}
	tmp := final + ".tmp"
	if err := os.WriteFile(tmp, content(i), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, final); err != nil {
		t.Fatal(err)
	}
	return final
}

// verifySegment checks a queued segment's file against its row and its
// plaintext against content(i).
func verifySegment(t testing.TB, q *Queue, s Segment) {
	t.Helper()
	raw, err := os.ReadFile(s.Path)
	if err != nil {
		t.Fatalf("segment %d: %v", s.Index, err)
	}
	if sha256.Sum256(raw) != s.SHA256 || int64(len(raw)) != s.SealedSize {
		t.Fatalf("segment %d: file does not match its row (size %d vs %d, or sha256)", s.Index, len(raw), s.SealedSize)
	}
	dek, err := q.DataKey(context.Background(), s.RecordingID)
	if err != nil {
		t.Fatal(err)
	}
	r, err := seal.NewReader(bytes.NewReader(raw), dek, s.RecordingID, s.Index.SealIndex())
	if err != nil {
		t.Fatalf("segment %d: %v", s.Index, err)
	}
	plain, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("segment %d does not open: %v", s.Index, err)
	}
	if !bytes.Equal(plain, content(s.Index)) || int64(len(plain)) != s.PlainSize {
		t.Fatalf("segment %d opens to other plaintext (%d bytes, row says %d)", s.Index, len(plain), s.PlainSize)
	}
}

func TestDatabaseSettings(t *testing.T) {
	f := openFixture(t, t.TempDir())
	db := f.q.DB()
	// Several connections at once: the settings must hold on each.
	ctx := context.Background()
	for range 3 {
		c, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for pragma, want := range map[string]string{
			"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1", "busy_timeout": "10000",
		} {
			var got string
			if err := c.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
			}
		}
	}
}

func TestAddSegment(t *testing.T) {
	f := openFixture(t, t.TempDir())
	ctx := context.Background()
	r := f.create(t, "demo")
	for i := range api.SegmentIndex(4) {
		path := writePlain(t, f.plain, i)
		s, err := f.q.AddSegment(ctx, r.ID, i, path, testDuration(i))
		if err != nil {
			t.Fatal(err)
		}
		verifySegment(t, f.q, s)
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("plaintext of segment %d still there after queueing (%v)", i, err)
		}
	}
	segs, err := f.q.Segments(ctx, r.ID)
	if err != nil || len(segs) != 4 {
		t.Fatalf("Segments = %d, %v", len(segs), err)
	}
	for i, s := range segs {
		if s.Index != api.SegmentIndex(i) || s.State != SegmentQueued {
			t.Fatalf("segment %d: index %d state %s", i, s.Index, s.State)
		}
		verifySegment(t, f.q, s)
	}
	got, err := f.q.Recording(ctx, r.ID)
	if err != nil || got.SegmentCount != 4 || got.State != StateRecording || got.Title != "demo" {
		t.Fatalf("Recording = %+v, %v", got, err)
	}
	assertNoTemps(t, f)
}

func assertNoTemps(t testing.TB, f *fixture) {
	t.Helper()
	temps, _ := filepath.Glob(filepath.Join(f.q.dir, segmentsDir, "*", "*"+tmpMarker+"*"))
	if len(temps) > 0 {
		t.Fatalf("temp files left: %v", temps)
	}
}

func TestAddSegmentRefuses(t *testing.T) {
	f := openFixture(t, t.TempDir())
	ctx := context.Background()
	r := f.create(t, "")
	if _, err := f.q.AddSegment(ctx, r.ID, 0, writePlain(t, f.plain, 0), testDuration(0)); err != nil {
		t.Fatal(err)
	}
	dup := writePlain(t, f.plain, 0)
	if _, err := f.q.AddSegment(ctx, r.ID, 0, dup, testDuration(0)); !errors.Is(err, ErrSegmentExists) {
		t.Errorf("same index twice: %v, want ErrSegmentExists", err)
	}
	if _, err := os.Stat(dup); err != nil {
		t.Errorf("a refused segment's plaintext was deleted: %v", err)
	}
	if _, err := f.q.AddSegment(ctx, r.ID, 1, filepath.Join(f.plain, "nope"), testDuration(1)); err == nil {
		t.Error("missing plaintext was queued")
	}
	if _, err := f.q.AddSegment(ctx, r.ID, -2, dup, testDuration(-2)); err == nil {
		t.Error("negative index was queued")
	}
	if _, err := f.q.AddSegment(ctx, seal.NewRecordingID(), 0, dup, testDuration(0)); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown recording: %v, want ErrNotFound", err)
	}
	if err := f.q.Finish(ctx, r.ID, 3*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := f.q.AddSegment(ctx, r.ID, 1, writePlain(t, f.plain, 1), testDuration(1)); !errors.Is(err, ErrState) {
		t.Errorf("adding to a finished recording: %v, want ErrState", err)
	}
	if err := f.q.Finish(ctx, r.ID, time.Second); !errors.Is(err, ErrState) {
		t.Errorf("finishing twice: %v, want ErrState", err)
	}
	segs, _ := f.q.Segments(ctx, r.ID)
	if len(segs) != 1 {
		t.Fatalf("%d rows after refused adds, want 1", len(segs))
	}
	assertNoTemps(t, f)

	for _, bad := range []NewRecording{
		{PlainDir: f.plain},
		{PlainPattern: testPattern},
		{PlainDir: f.plain, PlainPattern: "segment.m4s"},
		{PlainDir: f.plain, PlainPattern: "%d_%d.m4s"},
		{PlainDir: f.plain, PlainPattern: "a/%05d.m4s"},
	} {
		if _, err := f.q.CreateRecording(ctx, bad); err == nil {
			t.Errorf("CreateRecording(%+v) succeeded", bad)
		}
	}
}

func TestPendingAndUploadBookkeeping(t *testing.T) {
	f := openFixture(t, t.TempDir())
	ctx := context.Background()
	a := f.create(t, "a")
	time.Sleep(2 * time.Millisecond) // created_at orders recordings
	b := f.create(t, "b")
	for _, add := range []struct {
		r Recording
		i api.SegmentIndex
	}{{a, 2}, {b, 0}, {a, 0}, {a, 1}} {
		if _, err := f.q.AddSegment(ctx, add.r.ID, add.i, writePlain(t, f.plain, add.i), testDuration(add.i)); err != nil {
			t.Fatal(err)
		}
	}
	order := func(limit int) string {
		t.Helper()
		segs, err := f.q.Pending(ctx, limit)
		if err != nil {
			t.Fatal(err)
		}
		var parts []string
		for _, s := range segs {
			name := "a"
			if s.RecordingID == b.ID {
				name = "b"
			}
			parts = append(parts, fmt.Sprintf("%s%d", name, s.Index))
		}
		return strings.Join(parts, " ")
	}
	if got := order(10); got != "a0 a1 a2 b0" {
		t.Fatalf("Pending order %q", got)
	}
	if got := order(2); got != "a0 a1" {
		t.Fatalf("Pending(2) = %q", got)
	}

	if err := f.q.MarkUploading(ctx, a.ID, 0); err != nil {
		t.Fatal(err)
	}
	if got := order(10); got != "a0 a1 a2 b0" {
		t.Fatalf("a segment in flight left Pending: %q", got)
	}
	f.q.RecordAttempt(ctx, a.ID, 0, errors.New("connection reset"))
	f.q.RecordAttempt(ctx, a.ID, 0, nil)
	f.q.RecordAttempt(ctx, a.ID, 1, errors.New("server said 503"))
	if err := f.q.MarkUploaded(ctx, a.ID, 0); err != nil {
		t.Fatal(err)
	}
	if err := f.q.MarkUploaded(ctx, a.ID, 0); err != nil {
		t.Fatalf("second MarkUploaded: %v", err)
	}
	if err := f.q.MarkUploading(ctx, a.ID, 0); err != nil {
		t.Fatalf("MarkUploading after delivery should be a no-op: %v", err)
	}
	if err := f.q.MarkUploaded(ctx, a.ID, 9); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown segment: %v", err)
	}
	if got := order(10); got != "a1 a2 b0" {
		t.Fatalf("after delivery Pending = %q", got)
	}
	segs, _ := f.q.Segments(ctx, a.ID)
	if segs[0].State != SegmentUploaded || segs[0].UploadedAt.IsZero() || segs[0].Attempts != 2 || segs[0].LastError != "" {
		t.Fatalf("segment a0 = %+v", segs[0])
	}
	if segs[1].Attempts != 1 || segs[1].LastError != "server said 503" {
		t.Fatalf("segment a1 = %+v", segs[1])
	}

	if err := f.q.SetServerID(ctx, b.ID, "v_123", "slugslugslug"); err != nil {
		t.Fatal(err)
	}
	if p, _ := f.q.Pending(ctx, 10); p[len(p)-1].ServerID != "v_123" {
		t.Fatalf("Pending does not carry the server id: %+v", p[len(p)-1])
	}
	if err := f.q.MarkFailed(ctx, b.ID, "server refused"); err != nil {
		t.Fatal(err)
	}
	if got := order(10); got != "a1 a2" {
		t.Fatalf("a failed recording is still pending: %q", got)
	}

	if err := f.q.Finish(ctx, a.ID, 6*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := f.q.MarkRecordingUploaded(ctx, a.ID); !errors.Is(err, ErrState) {
		t.Fatalf("uploaded with segments waiting: %v, want ErrState", err)
	}
	for _, i := range []api.SegmentIndex{1, 2} {
		if err := f.q.MarkUploaded(ctx, a.ID, i); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.q.MarkRecordingUploaded(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	recs, err := f.q.ListRecordings(ctx)
	if err != nil || len(recs) != 2 {
		t.Fatalf("ListRecordings = %v, %v", recs, err)
	}
	ra, rb := recs[0], recs[1]
	if ra.ID != a.ID || ra.State != StateUploaded || ra.SegmentCount != 3 || ra.Uploaded != 3 || ra.Duration != 6*time.Second {
		t.Fatalf("recording a = %+v", ra)
	}
	if rb.State != StateFailed || rb.Failure != "server refused" || rb.ServerID != "v_123" || rb.Slug != "slugslugslug" {
		t.Fatalf("recording b = %+v", rb)
	}
}

func TestReopenKeepsQueueAndKeys(t *testing.T) {
	base := t.TempDir()
	f := openFixture(t, base)
	ctx := context.Background()
	r := f.create(t, "")
	if _, err := f.q.AddSegment(ctx, r.ID, 0, writePlain(t, f.plain, 0), testDuration(0)); err != nil {
		t.Fatal(err)
	}
	dek, _ := f.q.DataKey(ctx, r.ID)
	f.q.Close()

	g := openFixture(t, base)
	got, err := g.q.DataKey(ctx, r.ID)
	if err != nil || got != dek {
		t.Fatalf("data key after reopening: %v", err)
	}
	p, err := g.q.Pending(ctx, 10)
	if err != nil || len(p) != 1 {
		t.Fatalf("Pending after reopening = %d, %v", len(p), err)
	}
	verifySegment(t, g.q, p[0])

	// Another device's key cannot open this queue's data keys.
	other, _ := keystore.OpenWith(t.TempDir(), keystore.File)
	q2, err := Open(filepath.Join(base, "queue"), other)
	if err != nil {
		t.Fatal(err)
	}
	defer q2.Close()
	if _, err := q2.DataKey(ctx, r.ID); !errors.Is(err, seal.ErrTampered) {
		t.Fatalf("foreign device key: %v, want seal.ErrTampered", err)
	}
}

func TestRecoverCleansUp(t *testing.T) {
	f := openFixture(t, t.TempDir())
	ctx := context.Background()
	r := f.create(t, "")
	for i := range api.SegmentIndex(2) {
		if _, err := f.q.AddSegment(ctx, r.ID, i, writePlain(t, f.plain, i), testDuration(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.q.MarkUploading(ctx, r.ID, 1); err != nil {
		t.Fatal(err)
	}
	dir := f.q.recordingDir(r.ID)
	// A sealed file without a row that is garbage: discarded, and its
	// plaintext (still there) queued instead.
	os.WriteFile(filepath.Join(dir, sealedName(2)), []byte("FCSG not really"), 0o600)
	writePlain(t, f.plain, 2)
	// A plaintext never queued, a leftover of a queued one, a temp file,
	// the recorder's own temp file, and a folder nobody knows.
	writePlain(t, f.plain, 3)
	writePlain(t, f.plain, api.InitSegment)
	writePlain(t, f.plain, 0)
	os.WriteFile(filepath.Join(dir, sealedName(3)+tmpMarker+"123"), []byte("half"), 0o600)
	os.WriteFile(filepath.Join(f.plain, "segment_00004.m4s.tmp"), []byte("half"), 0o600)
	os.MkdirAll(filepath.Join(f.q.dir, segmentsDir, "not-a-recording"), 0o700)

	rep, err := f.q.Recover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := RecoverReport{Requeued: 1, TempRemoved: 1, Discarded: 1, Orphans: 1, PlainQueued: 3, PlainRemoved: 1, Closed: []seal.RecordingID{r.ID}}
	if fmt.Sprint(rep) != fmt.Sprint(want) {
		t.Fatalf("report %+v\nwant   %+v", rep, want)
	}
	segs, _ := f.q.Segments(ctx, r.ID)
	if len(segs) != 5 || segs[0].Index != api.InitSegment {
		t.Fatalf("%d segments after recover, want 5 with init first", len(segs))
	}
	for _, s := range segs {
		verifySegment(t, f.q, s)
		if s.State != SegmentQueued {
			t.Fatalf("segment %d is %s after recover", s.Index, s.State)
		}
	}
	got, _ := f.q.Recording(ctx, r.ID)
	if got.State != StateFinished || got.SegmentCount != 5 {
		t.Fatalf("recording after recover: %+v", got)
	}
	if _, err := os.Stat(filepath.Join(f.plain, "segment_00004.m4s.tmp")); err != nil {
		t.Fatal("Recover touched a file that is not a closed segment")
	}
	again, err := f.q.Recover(ctx)
	if err != nil || fmt.Sprint(again) != fmt.Sprint(RecoverReport{}) {
		t.Fatalf("second Recover did something: %+v, %v", again, err)
	}
}

func TestParsePlainName(t *testing.T) {
	for _, c := range []struct {
		pattern, name string
		index         int
		ok            bool
	}{
		{"segment_%05d.m4s", "segment_00042.m4s", 42, true},
		{"segment_%05d.m4s", "segment_123456.m4s", 123456, true},
		{"segment_%05d.m4s", "segment_0042.m4s", 0, false},
		{"segment_%05d.m4s", "segment_00042.m4s.tmp", 0, false},
		{"segment_%05d.m4s", "segment_-0042.m4s", 0, false},
		{"seg%d.ts", "seg7.ts", 7, true},
		{"seg%d.ts", "seg07.ts", 0, false},
		{"seg%d.ts", "seg.ts", 0, false},
		{"seg%d.ts", "seg99999999999999999999.ts", 0, false},
	} {
		i, ok := parsePlainName(c.pattern, c.name)
		if i != c.index || ok != c.ok {
			t.Errorf("parsePlainName(%q, %q) = %d, %v", c.pattern, c.name, i, ok)
		}
	}
}

func TestPrintingTheQueueShowsNoKey(t *testing.T) {
	f := openFixture(t, t.TempDir())
	r := f.create(t, "")
	dek, err := f.q.DataKey(context.Background(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	out := fmt.Sprintf("%v %+v %#v", f.q, f.q, f.q)
	if strings.Contains(out, fmt.Sprint(dek[:])) || strings.Contains(out, fmt.Sprintf("%x", dek[:])) {
		t.Fatalf("printing a Queue shows a data key: %s", out)
	}
}

// The recorder adds while the uploader drains, as during a live recording.
func TestRecorderAndUploaderTogether(t *testing.T) {
	f := openFixture(t, t.TempDir())
	ctx := context.Background()
	r := f.create(t, "")
	const n = 30
	done := make(chan error, 1)
	go func() {
		for i := range n {
			path := filepath.Join(f.plain, fmt.Sprintf(testPattern, i))
			if err := os.WriteFile(path, content(api.SegmentIndex(i%5)), 0o600); err != nil {
				done <- err
				return
			}
			if _, err := f.q.AddSegment(ctx, r.ID, api.SegmentIndex(i), path, testDuration(api.SegmentIndex(i))); err != nil {
				done <- err
				return
			}
		}
		done <- f.q.Finish(ctx, r.ID, n*2*time.Second)
	}()
	delivered := map[api.SegmentIndex]bool{}
	for finished := false; !finished || len(delivered) < n; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			finished = true
		default:
		}
		segs, err := f.q.Pending(ctx, 8)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range segs {
			if err := f.q.MarkUploading(ctx, s.RecordingID, s.Index); err != nil {
				t.Fatal(err)
			}
			if err := f.q.RecordAttempt(ctx, s.RecordingID, s.Index, nil); err != nil {
				t.Fatal(err)
			}
			if err := f.q.MarkUploaded(ctx, s.RecordingID, s.Index); err != nil {
				t.Fatal(err)
			}
			delivered[s.Index] = true
		}
	}
	if err := f.q.MarkRecordingUploaded(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
}

// The init segment is sealed with api.InitSealIndex, as the server opens
// it, and goes first in Pending so a player can start as early as possible.
func TestInitSegment(t *testing.T) {
	f := openFixture(t, t.TempDir())
	ctx := context.Background()
	r := f.create(t, "")
	for _, i := range []api.SegmentIndex{0, 1, api.InitSegment, 2} {
		if _, err := f.q.AddSegment(ctx, r.ID, i, writePlain(t, f.plain, i), testDuration(i)); err != nil {
			t.Fatal(err)
		}
	}
	p, err := f.q.Pending(ctx, 10)
	if err != nil || len(p) != 4 {
		t.Fatalf("Pending = %d, %v", len(p), err)
	}
	var order []string
	for _, s := range p {
		order = append(order, s.Index.String())
		verifySegment(t, f.q, s)
	}
	if got := strings.Join(order, " "); got != "init 0 1 2" {
		t.Fatalf("Pending order %q, want init first", got)
	}
	if filepath.Base(p[0].Path) != "init.sealed" {
		t.Fatalf("init segment file %s", p[0].Path)
	}
	h, err := seal.ReadHeader(bytes.NewReader(mustRead(t, p[0].Path)))
	if err != nil || h.Segment != api.InitSealIndex {
		t.Fatalf("init segment sealed as index %d (%v), want api.InitSealIndex", h.Segment, err)
	}
	if _, err := f.q.AddSegment(ctx, r.ID, api.MaxSegmentIndex+1, writePlain(t, f.plain, 3), testDuration(api.MaxSegmentIndex+1)); err == nil {
		t.Fatal("an index past api.MaxSegmentIndex was queued")
	}
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testDuration is the playing time tests give segment i (0 for init).
func testDuration(i api.SegmentIndex) time.Duration {
	if i == api.InitSegment || i < 0 {
		return 0
	}
	return 2*time.Second + time.Duration(i)*time.Millisecond
}
