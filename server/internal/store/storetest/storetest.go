// Package storetest is the contract every store.Store implementation must
// pass. Each implementation's tests call Run with a constructor that hands
// out a fresh, empty, migrated database per test.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"framecast.dev/server/internal/store"
)

// Run runs the contract suite. open must return an empty store and arrange
// for it to be closed when the test ends. The tests run in parallel, each
// on its own store: creating a PostgreSQL database mostly waits on the
// disk, so this hides that wait.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Ping", testPing},
		{"CreateAndGet", testCreateAndGet},
		{"CreateIsIdempotentOnRecordingID", testCreateIdempotent},
		{"NotFound", testNotFound},
		{"Segments", testSegments},
		{"SegmentNeedsVideo", testSegmentNeedsVideo},
		{"ConcurrentAddSegment", testConcurrentAddSegment},
		{"Finalize", testFinalize},
	}
	tests = append(tests, accountTests...)
	tests = append(tests, jobTests...)
	tests = append(tests, jobPrivacyTests...)
	tests = append(tests, sharingTests...)
	tests = append(tests, trackingTests...)
	tests = append(tests, sendTests...)
	tests = append(tests, trimTests...)
	tests = append(tests, uploadTests...)
	tests = append(tests, privacyTests...)
	tests = append(tests, importTests...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

var now = time.Date(2025, 11, 23, 9, 0, 0, 123456000, time.UTC)

func video(n int) store.Video {
	return store.Video{
		ID:          fmt.Sprintf("vid%d", n),
		Slug:        fmt.Sprintf("slug%d", n),
		RecordingID: fmt.Sprintf("rec%d", n),
		Title:       fmt.Sprintf("Video %d", n),
		State:       store.StateUploading,
		CreatedAt:   now,
	}
}

func testPing(t *testing.T, s store.Store) {
	if err := s.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func testCreateAndGet(t *testing.T, s store.Store) {
	ctx := context.Background()
	want := video(1)
	got, created, err := s.CreateVideo(ctx, want)
	if err != nil || !created {
		t.Fatalf("CreateVideo = %v, created=%v", err, created)
	}
	if got.ID != want.ID || got.Slug != want.Slug || got.RecordingID != want.RecordingID ||
		got.Title != want.Title || got.State != store.StateUploading || !got.CreatedAt.Equal(now) {
		t.Fatalf("CreateVideo returned %+v, want %+v", got, want)
	}
	byID, err := s.Video(ctx, want.ID)
	if err != nil || byID.Slug != want.Slug {
		t.Fatalf("Video(%s) = %+v, %v", want.ID, byID, err)
	}
	bySlug, err := s.VideoBySlug(ctx, want.Slug)
	if err != nil || bySlug.ID != want.ID {
		t.Fatalf("VideoBySlug = %+v, %v", bySlug, err)
	}
}

func testCreateIdempotent(t *testing.T, s store.Store) {
	ctx := context.Background()
	first := video(1)
	if _, _, err := s.CreateVideo(ctx, first); err != nil {
		t.Fatal(err)
	}
	retry := video(2)
	retry.RecordingID = first.RecordingID
	got, created, err := s.CreateVideo(ctx, retry)
	if err != nil {
		t.Fatal(err)
	}
	if created || got.ID != first.ID || got.Slug != first.Slug {
		t.Fatalf("retried create: created=%v got %s/%s, want the first video %s/%s", created, got.ID, got.Slug, first.ID, first.Slug)
	}
}

func testNotFound(t *testing.T, s store.Store) {
	ctx := context.Background()
	if _, err := s.Video(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Video: %v, want ErrNotFound", err)
	}
	if _, err := s.VideoBySlug(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("VideoBySlug: %v, want ErrNotFound", err)
	}
	if _, err := s.Segment(ctx, "nope", 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Segment: %v, want ErrNotFound", err)
	}
	if _, err := s.Finalize(ctx, "nope", store.Finalization{ReadyAt: now}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Finalize: %v, want ErrNotFound", err)
	}
	segs, err := s.Segments(ctx, "nope")
	if err != nil || len(segs) != 0 {
		t.Errorf("Segments = %v, %v; want none", segs, err)
	}
}

func testSegments(t *testing.T, s store.Store) {
	ctx := context.Background()
	v := video(1)
	if _, _, err := s.CreateVideo(ctx, v); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{2, 0, store.InitIndex, 1} {
		seg := store.Segment{VideoID: v.ID, Index: i, Size: int64(100 + i), SHA256: fmt.Sprintf("%064d", i+1), CreatedAt: now}
		got, added, err := s.AddSegment(ctx, seg)
		if err != nil || !added || got != seg {
			t.Fatalf("AddSegment(%d) = %+v, %v, %v", i, got, added, err)
		}
	}
	dup := store.Segment{VideoID: v.ID, Index: 1, Size: 999, SHA256: "other", CreatedAt: now.Add(time.Hour)}
	got, added, err := s.AddSegment(ctx, dup)
	if err != nil || added || got.Size != 101 || got.SHA256 != fmt.Sprintf("%064d", 2) {
		t.Fatalf("AddSegment(dup) = %+v, %v, %v; want the first row kept", got, added, err)
	}
	segs, err := s.Segments(ctx, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	var idx []int
	for _, s := range segs {
		idx = append(idx, s.Index)
	}
	if !slices.Equal(idx, []int{store.InitIndex, 0, 1, 2}) {
		t.Fatalf("Segments order = %v", idx)
	}
}

func testSegmentNeedsVideo(t *testing.T, s store.Store) {
	_, _, err := s.AddSegment(context.Background(), store.Segment{VideoID: "ghost", Index: 0, SHA256: "x", CreatedAt: now})
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("AddSegment for a missing video: %v, want ErrNotFound", err)
	}
}

func testConcurrentAddSegment(t *testing.T, s store.Store) {
	ctx := context.Background()
	v := video(1)
	if _, _, err := s.CreateVideo(ctx, v); err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		added int
	)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, ok, err := s.AddSegment(ctx, store.Segment{VideoID: v.ID, Index: 0, Size: int64(i), SHA256: "h", CreatedAt: now})
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			if ok {
				added++
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if added != 1 {
		t.Fatalf("%d concurrent adds of one index succeeded, want exactly 1", added)
	}
}

func testFinalize(t *testing.T, s store.Store) {
	ctx := context.Background()
	v := video(1)
	if _, _, err := s.CreateVideo(ctx, v); err != nil {
		t.Fatal(err)
	}
	f := store.Finalization{HasInit: true, SegmentCount: 3, Durations: []float64{2, 2, 1.533333},
		WrappedKey: []byte{1, 2, 3}, ReadyAt: now.Add(time.Minute)}
	got, err := s.Finalize(ctx, v.ID, f)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != store.StateReady || !got.HasInit || got.SegmentCount != 3 ||
		!slices.Equal(got.Durations, f.Durations) || !slices.Equal(got.WrappedKey, f.WrappedKey) ||
		!got.ReadyAt.Equal(f.ReadyAt) {
		t.Fatalf("Finalize = %+v", got)
	}
	if d := got.Duration(); d < 5.5333 || d > 5.5334 {
		t.Fatalf("Duration = %v", d)
	}
	again := f
	again.WrappedKey = []byte{9}
	again.ReadyAt = now.Add(time.Hour)
	if got2, err := s.Finalize(ctx, v.ID, again); err != nil || !got2.ReadyAt.Equal(f.ReadyAt) {
		t.Fatalf("repeated Finalize = %+v, %v; want the first finalization kept", got2, err)
	}
	other := f
	other.SegmentCount = 4
	other.Durations = append(other.Durations, 2)
	if _, err := s.Finalize(ctx, v.ID, other); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("conflicting Finalize: %v, want ErrConflict", err)
	}
}
