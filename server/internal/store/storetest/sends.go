package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"framecast.dev/server/internal/store"
)

// The contract of store.Sends.

var sendTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"SendsRecipients", testSendsRecipients},
	{"SendsSuppressions", testSendsSuppressions},
}

func testSendsRecipients(t *testing.T, s store.Store) {
	ctx := context.Background()
	_, v := ownedVideo(t, s, 1)
	if err := s.SetVideoTracking(ctx, v.ID, store.TrackFull); err != nil {
		t.Fatal(err)
	}
	ann := store.TrackRecipient{ID: "r1", VideoID: v.ID, Email: "ann@example.com", TokenHash: "h1", SentAt: now}
	bob := store.TrackRecipient{ID: "r2", VideoID: v.ID, Email: "bob@example.com", TokenHash: "h2", SentAt: now}
	if err := s.AddRecipients(ctx, []store.TrackRecipient{ann, bob}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddRecipients(ctx, []store.TrackRecipient{{ID: "r3", VideoID: "ghost", Email: "x@example.com", TokenHash: "h3", SentAt: now}}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a recipient of a missing video: %v", err)
	}
	got, err := s.RecipientByToken(ctx, v.ID, "h1")
	if err != nil || got != ann {
		t.Fatalf("RecipientByToken = %+v, %v", got, err)
	}
	if _, err := s.RecipientByToken(ctx, "other", "h1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a token of another video: %v", err)
	}
	events := playEvents(v.ID, "view1", "hashA", false, now)
	events[0].Recipient = ann.ID
	if _, err := s.RecordTrackEvents(ctx, events); err != nil {
		t.Fatal(err)
	}
	stats, err := s.RecipientStats(ctx, v.ID)
	if err != nil || len(stats) != 2 {
		t.Fatalf("RecipientStats = %+v, %v", stats, err)
	}
	a, b := stats[0], stats[1]
	if a.Email != ann.Email || a.Views != 1 || a.WatchedSeconds != 4 || a.Furthest != 3 || !a.Finished || !slices.Equal(a.Clicks, []int{1}) {
		t.Fatalf("ann: %+v", a)
	}
	if b.Email != bob.Email || b.Views != 0 || b.Furthest != -1 || b.Finished || len(b.Clicks) != 0 {
		t.Fatalf("bob: %+v", b)
	}
	// Anonymous keeps nothing per recipient.
	if err := s.SetVideoTracking(ctx, v.ID, store.TrackAnonymous); err != nil {
		t.Fatal(err)
	}
	if stats, err := s.RecipientStats(ctx, v.ID); err != nil || len(stats) != 0 {
		t.Fatalf("after lowering to Anonymous: %+v, %v", stats, err)
	}
}

func testSendsSuppressions(t *testing.T, s store.Store) {
	ctx := context.Background()
	for range 2 { // twice: idempotent
		if err := s.SuppressMail(ctx, "hashA", now); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.MailSuppressed(ctx, []string{"hashA", "hashB"})
	if err != nil || !got["hashA"] || got["hashB"] || len(got) != 1 {
		t.Fatalf("MailSuppressed = %v, %v", got, err)
	}
}
