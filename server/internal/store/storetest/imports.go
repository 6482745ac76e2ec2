package storetest

import (
	"context"
	"errors"
	"testing"

	"framecast.dev/server/internal/store"
)

// The contract of store.Imports.

var importTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"Imports", testImports},
}

func testImports(t *testing.T, s store.Store) {
	ctx := context.Background()
	v := mustVideo(t, s, 1)
	if _, err := s.Import(ctx, v.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Import before any: %v", err)
	}
	if err := s.CreateImport(ctx, store.Import{VideoID: "ghost", FileName: "a.mp4", Length: 10, CreatedAt: now}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("CreateImport without a video: %v", err)
	}
	const size = 5 << 30 // larger than 32 bits
	if err := s.CreateImport(ctx, store.Import{VideoID: v.ID, FileName: "Holiday ünïcode.mov", Length: size, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateImport(ctx, store.Import{VideoID: v.ID, FileName: "again.mp4", Length: 1, CreatedAt: now}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("a second CreateImport: %v", err)
	}
	im, err := s.Import(ctx, v.ID)
	if err != nil || im.FileName != "Holiday ünïcode.mov" || im.Length != size || im.Received != 0 || im.Parts != 0 ||
		im.State != store.ImportReceiving || !im.CreatedAt.Equal(now) {
		t.Fatalf("Import = %+v, %v", im, err)
	}
	if im, err = s.AdvanceImport(ctx, v.ID, 0, 3<<30, now); err != nil || im.Received != 3<<30 || im.Parts != 1 {
		t.Fatalf("AdvanceImport = %+v, %v", im, err)
	}
	// A stale offset (another request got there first) is a conflict.
	if _, err := s.AdvanceImport(ctx, v.ID, 0, 1<<30, now); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("AdvanceImport from a stale offset: %v", err)
	}
	// Past the announced length is refused.
	if _, err := s.AdvanceImport(ctx, v.ID, 3<<30, size+1, now); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("AdvanceImport past the length: %v", err)
	}
	if im, err = s.AdvanceImport(ctx, v.ID, 3<<30, size, now); err != nil || im.Received != size || im.Parts != 2 {
		t.Fatalf("AdvanceImport to the end = %+v, %v", im, err)
	}
	if err := s.SetImportState(ctx, v.ID, store.ImportProcessing, 0.25, "", now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AdvanceImport(ctx, v.ID, size, size, now); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("AdvanceImport while processing: %v", err)
	}
	if err := s.SetImportState(ctx, v.ID, store.ImportFailed, 0.25, "This file has no video in it.", now); err != nil {
		t.Fatal(err)
	}
	if im, err = s.Import(ctx, v.ID); err != nil || im.State != store.ImportFailed || im.Progress != 0.25 || im.Message != "This file has no video in it." {
		t.Fatalf("Import after failing = %+v, %v", im, err)
	}
	if _, err := s.AdvanceImport(ctx, "ghost", 0, 1, now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("AdvanceImport of a missing import: %v", err)
	}
	if err := s.SetImportState(ctx, "ghost", store.ImportDone, 1, "", now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("SetImportState of a missing import: %v", err)
	}
	// An unfinished video's segments can be cleared; a ready one's not.
	if _, _, err := s.AddSegment(ctx, store.Segment{VideoID: v.ID, Index: 0, Size: 10, SHA256: "aa", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := s.ClearImportSegments(ctx, v.ID); err != nil {
		t.Fatal(err)
	}
	if segs, err := s.Segments(ctx, v.ID); err != nil || len(segs) != 0 {
		t.Fatalf("segments after clearing: %v, %v", segs, err)
	}
	batch := []store.Segment{{VideoID: v.ID, Index: -1, Size: 7, SHA256: "ii", CreatedAt: now},
		{VideoID: v.ID, Index: 0, Size: 10, SHA256: "bb", CreatedAt: now}, {VideoID: v.ID, Index: 1, Size: 11, SHA256: "cc", CreatedAt: now}}
	if err := s.AddImportSegments(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if err := s.AddImportSegments(ctx, []store.Segment{{VideoID: v.ID, Index: 1, Size: 99, SHA256: "zz", CreatedAt: now}}); err != nil {
		t.Fatalf("adding a recorded index again: %v", err)
	}
	if segs, err := s.Segments(ctx, v.ID); err != nil || len(segs) != 3 || segs[0].Index != -1 || segs[2].SHA256 != "cc" || segs[2].Size != 11 {
		t.Fatalf("segments after AddImportSegments: %+v, %v", segs, err)
	}
	if err := s.AddImportSegments(ctx, []store.Segment{{VideoID: "ghost", Index: 0, Size: 1, SHA256: "aa", CreatedAt: now}}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("AddImportSegments for a missing video: %v", err)
	}
	// Publishing: the video plays as far as the import got; clearing
	// takes that back too.
	if got, _ := s.Video(ctx, v.ID); got.Growing() || got.Playable() {
		t.Fatalf("a video with rows but nothing published grows: %+v", got)
	}
	pub := store.Publication{HasInit: true, Durations: []float64{2, 1.5}, WrappedKey: []byte("key")}
	if err := s.PublishImportSegments(ctx, v.ID, nil, pub); err != nil {
		t.Fatal(err)
	}
	got, err := s.Video(ctx, v.ID)
	if err != nil || !got.Growing() || !got.Playable() || got.State != store.StateUploading || got.SegmentCount != 2 ||
		got.Duration() != 3.5 || string(got.WrappedKey) != "key" || !got.HasInit {
		t.Fatalf("video after publishing = %+v, %v", got, err)
	}
	more := []store.Segment{{VideoID: v.ID, Index: 1, Size: 99, SHA256: "zz", CreatedAt: now}, {VideoID: v.ID, Index: 2, Size: 12, SHA256: "dd", CreatedAt: now}}
	if err := s.PublishImportSegments(ctx, v.ID, more, store.Publication{HasInit: true, Durations: []float64{2, 1.5, 2}, WrappedKey: []byte("key")}); err != nil {
		t.Fatal(err)
	}
	if segs, err := s.Segments(ctx, v.ID); err != nil || len(segs) != 4 || segs[2].SHA256 != "cc" || segs[3].SHA256 != "dd" {
		t.Fatalf("segments after publishing = %+v, %v", segs, err)
	}
	if got, err := s.Video(ctx, v.ID); err != nil || got.SegmentCount != 3 || got.Duration() != 5.5 {
		t.Fatalf("video after publishing more = %+v, %v", got, err)
	}
	if err := s.PublishImportSegments(ctx, "ghost", nil, pub); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("publishing for a missing video: %v", err)
	}
	if err := s.ClearImportSegments(ctx, v.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Video(ctx, v.ID); err != nil || got.Playable() || got.SegmentCount != 0 || len(got.WrappedKey) != 0 || got.HasInit || len(got.Durations) != 0 {
		t.Fatalf("video after clearing what was published = %+v, %v", got, err)
	}
	if err := s.AddImportSegments(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Finalize(ctx, v.ID, store.Finalization{HasInit: true, SegmentCount: 2, Durations: []float64{2, 2}, WrappedKey: []byte("k"), ReadyAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := s.ClearImportSegments(ctx, v.ID); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("clearing a ready video's segments: %v", err)
	}
	if err := s.PublishImportSegments(ctx, v.ID, nil, pub); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("publishing on a ready video: %v", err)
	}
	if got, err := s.Video(ctx, v.ID); err != nil || got.Growing() || !got.Playable() || got.SegmentCount != 2 {
		t.Fatalf("ready video after a refused publish = %+v, %v", got, err)
	}
	if err := s.ClearImportSegments(ctx, "ghost"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("clearing a missing video's segments: %v", err)
	}
	// Deleting the video deletes its import.
	if err := s.DeleteVideo(ctx, v.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import(ctx, v.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Import after the video was deleted: %v", err)
	}
}
