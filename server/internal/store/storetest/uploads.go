package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"framecast.dev/server/internal/store"
)

var uploadTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"Uploads", testUploads},
	{"LeaseExclusiveAndLapses", testLeases},
	{"LeaseRace", testLeaseRace},
}

func testUploads(t *testing.T, s store.Store) {
	ctx := context.Background()
	v := video(1)
	if _, _, err := s.CreateVideo(ctx, v); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Upload(ctx, v.ID, 0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Upload before start: %v", err)
	}
	if err := s.StartUpload(ctx, store.Upload{VideoID: "ghost", Index: 0, SHA256: "a", Length: 9, UpdatedAt: now}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("StartUpload for a missing video: %v", err)
	}
	up := store.Upload{VideoID: v.ID, Index: store.InitIndex, SHA256: "aa", Length: 1000, UpdatedAt: now}
	if err := s.StartUpload(ctx, up); err != nil {
		t.Fatal(err)
	}
	if err := s.AdvanceUpload(ctx, v.ID, store.InitIndex, 0, 300, now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	// A stale writer that still thinks the upload is at 0 loses.
	if err := s.AdvanceUpload(ctx, v.ID, store.InitIndex, 0, 100, now); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale AdvanceUpload: %v, want ErrConflict", err)
	}
	got, err := s.Upload(ctx, v.ID, store.InitIndex)
	if err != nil || got.Received != 300 || got.SHA256 != "aa" || got.Length != 1000 || !got.UpdatedAt.Equal(now.Add(time.Second)) {
		t.Fatalf("Upload = %+v, %v", got, err)
	}
	// Starting over replaces the upload and its progress.
	if err := s.StartUpload(ctx, store.Upload{VideoID: v.ID, Index: store.InitIndex, SHA256: "bb", Length: 2000, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Upload(ctx, v.ID, store.InitIndex); err != nil || got.Received != 0 || got.SHA256 != "bb" || got.Length != 2000 {
		t.Fatalf("restarted Upload = %+v, %v", got, err)
	}
	if err := s.DeleteUpload(ctx, v.ID, store.InitIndex); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUpload(ctx, v.ID, store.InitIndex); err != nil {
		t.Fatalf("second DeleteUpload: %v", err)
	}
	if err := s.AdvanceUpload(ctx, v.ID, store.InitIndex, 0, 1, now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("AdvanceUpload of a deleted upload: %v, want ErrNotFound", err)
	}
}

func testLeases(t *testing.T, s store.Store) {
	ctx := context.Background()
	ok, err := s.AcquireLease(ctx, "upload/v/0", "a", now, now.Add(3*time.Second))
	if err != nil || !ok {
		t.Fatalf("first AcquireLease = %v, %v", ok, err)
	}
	if ok, err := s.AcquireLease(ctx, "upload/v/0", "b", now.Add(time.Second), now.Add(4*time.Second)); err != nil || ok {
		t.Fatalf("AcquireLease of a held lease = %v, %v", ok, err)
	}
	if ok, err := s.AcquireLease(ctx, "upload/v/1", "b", now, now.Add(time.Second)); err != nil || !ok {
		t.Fatalf("another name = %v, %v", ok, err)
	}
	if wanted, err := s.RenewLease(ctx, "upload/v/0", "a", now.Add(5*time.Second)); err != nil || wanted {
		t.Fatalf("RenewLease = %v, %v", wanted, err)
	}
	if err := s.WantLease(ctx, "upload/v/0"); err != nil {
		t.Fatal(err)
	}
	if wanted, err := s.RenewLease(ctx, "upload/v/0", "a", now.Add(5*time.Second)); err != nil || !wanted {
		t.Fatalf("RenewLease after WantLease = %v, %v; want release wanted", wanted, err)
	}
	// Renewed until +5s: still held at +4s, lapsed at +5s.
	if ok, _ := s.AcquireLease(ctx, "upload/v/0", "b", now.Add(4*time.Second), now.Add(9*time.Second)); ok {
		t.Fatal("took a renewed lease early")
	}
	if ok, err := s.AcquireLease(ctx, "upload/v/0", "b", now.Add(5*time.Second), now.Add(9*time.Second)); err != nil || !ok {
		t.Fatalf("AcquireLease of a lapsed lease = %v, %v", ok, err)
	}
	// The new holder starts with nobody asking; the old one has lost it.
	if wanted, err := s.RenewLease(ctx, "upload/v/0", "b", now.Add(9*time.Second)); err != nil || wanted {
		t.Fatalf("new holder's RenewLease = %v, %v", wanted, err)
	}
	if _, err := s.RenewLease(ctx, "upload/v/0", "a", now.Add(9*time.Second)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("old holder's RenewLease: %v, want ErrNotFound", err)
	}
	// Releasing someone else's lease does nothing; one's own frees it.
	if err := s.ReleaseLease(ctx, "upload/v/0", "a"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.AcquireLease(ctx, "upload/v/0", "c", now.Add(6*time.Second), now.Add(9*time.Second)); ok {
		t.Fatal("a stranger's release freed the lease")
	}
	if err := s.ReleaseLease(ctx, "upload/v/0", "b"); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.AcquireLease(ctx, "upload/v/0", "c", now.Add(6*time.Second), now.Add(9*time.Second)); err != nil || !ok {
		t.Fatalf("AcquireLease after release = %v, %v", ok, err)
	}
}

func testLeaseRace(t *testing.T, s store.Store) {
	ctx := context.Background()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.AcquireLease(ctx, "race", string(rune('a'+i)), now, now.Add(time.Minute))
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			if ok {
				wins++
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d holders of one lease, want 1", wins)
	}
}
