package queue

import (
	"context"
	"errors"
	"testing"

	"framecast.dev/shared/api"
)

// A failed recording goes back in line with Retry and its segments are
// pending again; anything else is refused. The tracking level, kind and
// folder given at creation come back as they were.
func TestRetryAndRecordingDetails(t *testing.T) {
	ctx := context.Background()
	f := openFixture(t, t.TempDir())
	r, err := f.q.CreateRecording(ctx, NewRecording{Title: "imported", PlainDir: f.plain, PlainPattern: testPattern,
		PlainInit: testInit, Tracking: api.TrackingAnonymous, Kind: KindImport})
	if err != nil {
		t.Fatal(err)
	}
	if r.Tracking != api.TrackingAnonymous || r.Kind != KindImport || r.PlainDir != f.plain {
		t.Fatalf("created %+v", r)
	}
	if plain := f.create(t, "plain"); plain.Kind != KindRecording || plain.Tracking != "" {
		t.Fatalf("defaults: %+v", plain)
	}
	if _, err := f.q.AddSegment(ctx, r.ID, 0, writePlain(t, f.plain, 0), 0); err != nil {
		t.Fatal(err)
	}
	if err := f.q.Retry(ctx, r.ID); !errors.Is(err, ErrState) {
		t.Fatalf("Retry of a recording still recording: %v", err)
	}
	if err := f.q.Finish(ctx, r.ID, 0); err != nil {
		t.Fatal(err)
	}
	if err := f.q.MarkFailed(ctx, r.ID, "server refused"); err != nil {
		t.Fatal(err)
	}
	if p, _ := f.q.Pending(ctx, 10); len(p) != 0 {
		t.Fatalf("a failed recording's segments are pending: %+v", p)
	}
	if err := f.q.Retry(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	got, err := f.q.Recording(ctx, r.ID)
	if err != nil || got.State != StateFinished || got.Failure != "" {
		t.Fatalf("after Retry: %+v, %v", got, err)
	}
	if p, _ := f.q.Pending(ctx, 10); len(p) != 1 {
		t.Fatalf("after Retry %d segments pending, want 1", len(p))
	}
	if err := f.q.Retry(ctx, r.ID); !errors.Is(err, ErrState) {
		t.Fatalf("second Retry: %v", err)
	}
}
