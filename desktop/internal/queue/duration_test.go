package queue

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"framecast.dev/shared/api"
)

func TestSegmentDurations(t *testing.T) {
	f := openFixture(t, t.TempDir())
	ctx := context.Background()
	r := f.create(t, "")
	if _, err := f.q.AddSegment(ctx, r.ID, api.InitSegment, writePlain(t, f.plain, api.InitSegment), time.Second); err == nil {
		t.Fatal("AddSegment gave the init segment a duration")
	}
	if _, err := f.q.AddSegment(ctx, r.ID, 0, writePlain(t, f.plain, 0), -time.Second); err == nil {
		t.Fatal("AddSegment took a negative duration")
	}
	s, err := f.q.AddSegment(ctx, r.ID, 0, writePlain(t, f.plain, 0), 2002666*time.Microsecond)
	if err != nil || s.Duration != 2002666*time.Microsecond {
		t.Fatalf("AddSegment = %v, %v", s.Duration, err)
	}
	if _, err := f.q.AddSegment(ctx, r.ID, 1, writePlain(t, f.plain, 1), 0); err != nil {
		t.Fatal(err)
	}
	segs, _ := f.q.Segments(ctx, r.ID)
	if segs[0].Duration != 2002666*time.Microsecond || segs[1].Duration != 0 {
		t.Fatalf("durations read back: %v, %v", segs[0].Duration, segs[1].Duration)
	}
	if err := f.q.SetSegmentDuration(ctx, r.ID, 1, 1500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := f.q.SetSegmentDuration(ctx, r.ID, 7, time.Second); err == nil {
		t.Fatal("SetSegmentDuration of a segment not queued succeeded")
	}
	if err := f.q.SetSegmentDuration(ctx, r.ID, api.InitSegment, time.Second); err == nil {
		t.Fatal("SetSegmentDuration gave the init segment a duration")
	}
	segs, _ = f.q.Pending(ctx, 10)
	if len(segs) != 2 || segs[1].Duration != 1500*time.Millisecond {
		t.Fatalf("Pending after SetSegmentDuration: %+v", segs)
	}
}

// The recorder's ffmpeg numbers files from 1; Recover must queue
// seg00001.m4s as segment 0.
func TestRecoverHonoursPlainFirst(t *testing.T) {
	f := openFixture(t, t.TempDir())
	ctx := context.Background()
	r, err := f.q.CreateRecording(ctx, NewRecording{PlainDir: f.plain, PlainPattern: "seg%05d.m4s", PlainInit: testInit, PlainFirst: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i := range api.SegmentIndex(2) {
		name := filepath.Join(f.plain, "seg0000"+string(rune('1'+i))+".m4s")
		if err := os.WriteFile(name, content(i), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// seg00000.m4s is below the first number: not a segment of this recording.
	os.WriteFile(filepath.Join(f.plain, "seg00000.m4s"), []byte("stray"), 0o600)
	rep, err := f.q.Recover(ctx)
	if err != nil || rep.PlainQueued != 2 {
		t.Fatalf("Recover = %+v, %v", rep, err)
	}
	segs, _ := f.q.Segments(ctx, r.ID)
	if len(segs) != 2 || segs[0].Index != 0 || segs[1].Index != 1 {
		t.Fatalf("segments after recover: %+v", segs)
	}
	for _, s := range segs {
		verifySegment(t, f.q, s)
		if s.Duration != 0 {
			t.Fatalf("recovered segment %d has duration %v; the queue cannot know it", s.Index, s.Duration)
		}
	}
	if _, err := f.q.CreateRecording(ctx, NewRecording{PlainDir: f.plain, PlainPattern: "seg%05d.m4s", PlainFirst: -1}); err == nil {
		t.Fatal("CreateRecording took a negative first file number")
	}
}

func TestActiveAndRequeue(t *testing.T) {
	f := openFixture(t, t.TempDir())
	ctx := context.Background()
	done := f.create(t, "done")
	live := f.create(t, "live")
	for _, r := range []Recording{done, live} {
		if _, err := f.q.AddSegment(ctx, r.ID, 0, writePlain(t, f.plain, 0), time.Second); err != nil {
			t.Fatal(err)
		}
		if err := f.q.MarkUploaded(ctx, r.ID, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.q.Finish(ctx, done.ID, time.Second); err != nil {
		t.Fatal(err)
	}
	if err := f.q.MarkRecordingUploaded(ctx, done.ID); err != nil {
		t.Fatal(err)
	}
	active, err := f.q.Active(ctx)
	if err != nil || len(active) != 1 || active[0].ID != live.ID || active[0].Uploaded != 1 {
		t.Fatalf("Active = %+v, %v", active, err)
	}
	if err := f.q.Requeue(ctx, live.ID, 0); err != nil {
		t.Fatal(err)
	}
	if p, _ := f.q.Pending(ctx, 10); len(p) != 1 || p[0].RecordingID != live.ID || p[0].State != SegmentQueued {
		t.Fatalf("Pending after Requeue = %+v", p)
	}
	if err := f.q.Requeue(ctx, done.ID, 0); !errors.Is(err, ErrState) {
		t.Fatalf("Requeue in an uploaded recording = %v, want ErrState", err)
	}
	if err := f.q.Requeue(ctx, live.ID, 9); !errors.Is(err, ErrState) {
		t.Fatalf("Requeue of a missing segment = %v", err)
	}
}
