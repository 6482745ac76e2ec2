package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"framecast.dev/server/internal/store"
)

// The contract of store.PrivacyCentre.

var privacyTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"SetVideoOwner", testSetVideoOwner},
	{"DeleteInvitationsTo", testDeleteInvitationsTo},
	{"DeleteRateLimits", testDeleteRateLimits},
}

func testSetVideoOwner(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := mustUser(t, s, 1), mustUser(t, s, 2)
	v := video(1)
	v.OwnerID = a.ID
	if _, _, err := s.CreateVideo(ctx, v); err != nil {
		t.Fatal(err)
	}
	if err := s.SetVideoOwner(ctx, v.ID, b.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Video(ctx, v.ID); got.OwnerID != b.ID {
		t.Fatalf("owner %q, want %q", got.OwnerID, b.ID)
	}
	// The old owner's deletion no longer takes the video with it.
	if err := s.DeleteUser(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Video(ctx, v.ID); err != nil {
		t.Fatalf("the handed-over video went with its old owner: %v", err)
	}
	if err := s.SetVideoOwner(ctx, v.ID, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("to a missing user: %v", err)
	}
	if err := s.SetVideoOwner(ctx, "ghost", b.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a missing video: %v", err)
	}
}

func testDeleteInvitationsTo(t *testing.T, s store.Store) {
	ctx := context.Background()
	owner := mustUser(t, s, 1)
	if err := s.CreateWorkspace(ctx, store.Workspace{ID: "ws1", Name: "W", CreatedAt: now}, owner.ID); err != nil {
		t.Fatal(err)
	}
	for i, to := range []string{"gone@example.com", "gone@example.com", "stays@example.com"} {
		inv := store.Invitation{ID: "inv" + string(rune('a'+i)), WorkspaceID: "ws1", Email: to, EmailNorm: to, Role: store.RoleMember,
			TokenHash: "t" + string(rune('a'+i)), InvitedBy: owner.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := s.CreateInvitation(ctx, inv); err != nil {
			t.Fatal(err)
		}
	}
	// An accepted one goes too: it still names the address.
	if _, err := s.AcceptInvitation(ctx, "ta", owner.ID, now); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteInvitationsTo(ctx, "gone@example.com"); err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"ta", "tb"} {
		if _, err := s.InvitationByToken(ctx, h); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("invitation %s survived: %v", h, err)
		}
	}
	if _, err := s.InvitationByToken(ctx, "tc"); err != nil {
		t.Errorf("another address's invitation went too: %v", err)
	}
}

func testDeleteRateLimits(t *testing.T, s store.Store) {
	ctx := context.Background()
	for _, k := range []string{"a", "b"} {
		if _, err := s.HitRateLimit(ctx, k, now, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteRateLimits(ctx, []string{"a", "missing"}); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.HitRateLimit(ctx, "a", now, now.Add(time.Hour)); n != 1 {
		t.Errorf("a counted %d after deletion, want 1", n)
	}
	if n, _ := s.HitRateLimit(ctx, "b", now, now.Add(time.Hour)); n != 2 {
		t.Errorf("b counted %d, want 2 (untouched)", n)
	}
}
