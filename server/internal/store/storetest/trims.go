package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"framecast.dev/server/internal/store"
)

// The contract of store.Trims.

var trimTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"Trims", testTrims},
}

func testTrims(t *testing.T, s store.Store) {
	ctx := context.Background()
	v := mustVideo(t, s, 1)
	if _, err := s.Trim(ctx, v.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Trim before any: %v", err)
	}
	first := store.Trim{VideoID: v.ID, Start: 1.25, End: 7.5, CreatedAt: now, Parts: []store.TrimPart{
		{Init: store.TrimFile{Key: "k/i0", SealIndex: 4294967195, Size: 900},
			Segments: []store.TrimFile{{Key: "k/s0", SealIndex: 4294967194, Size: 5000, Duration: 0.75}}},
		{Init: store.TrimFile{Key: "k/i1", SealIndex: 4294967193, Size: 910},
			Segments: []store.TrimFile{{Key: "k/s1", SealIndex: 4294967192, Size: 6000, Duration: 2}, {Key: "k/s2", SealIndex: 4294967191, Size: 3000, Duration: 1.5}}},
	}}
	old, err := s.PutTrim(ctx, first)
	if err != nil || old.VideoID != "" {
		t.Fatalf("PutTrim = %+v, %v", old, err)
	}
	got, err := s.Trim(ctx, v.ID)
	if err != nil || !reflect.DeepEqual(got, first) || got.Duration() != 4.25 || len(got.Files()) != 5 {
		t.Fatalf("Trim = %+v, %v; want %+v", got, err, first)
	}
	second := first
	second.Start, second.Parts = 2, first.Parts[1:]
	if old, err = s.PutTrim(ctx, second); err != nil || !reflect.DeepEqual(old, first) {
		t.Fatalf("replacing PutTrim returned %+v, %v", old, err)
	}
	if _, err := s.PutTrim(ctx, store.Trim{VideoID: "ghost", CreatedAt: now}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("PutTrim for a missing video: %v", err)
	}
	if got, err := s.DeleteTrim(ctx, v.ID); err != nil || got.Start != 2 {
		t.Fatalf("DeleteTrim = %+v, %v", got, err)
	}
	if _, err := s.DeleteTrim(ctx, v.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleting twice: %v", err)
	}
}
