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
	{"Exports", testExports},
	{"Audit", testAudit},
	{"RowsAboutVideos", testRowsAboutVideos},
	{"Consent", testConsent},
	{"SupportMessages", testSupportMessages},
	{"Retention", testRetentionQueries},
	{"PrivacySettings", testPrivacySettings},
}

func testPrivacySettings(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := mustUser(t, s, 1)
	ps, err := s.PrivacySettings(ctx, u.ID)
	if err != nil || ps.Restricted() || !ps.OptionalMail || ps.UserID != u.ID {
		t.Fatalf("defaults = %+v, %v", ps, err)
	}
	want := store.PrivacySettings{UserID: u.ID, RestrictedAt: now, OptionalMail: false}
	if err := s.SetPrivacySettings(ctx, want); err != nil {
		t.Fatal(err)
	}
	if got, err := s.PrivacySettings(ctx, u.ID); err != nil || got != want || !got.Restricted() {
		t.Fatalf("PrivacySettings = %+v, %v; want %+v", got, err, want)
	}
	want = store.PrivacySettings{UserID: u.ID, OptionalMail: true}
	if err := s.SetPrivacySettings(ctx, want); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.PrivacySettings(ctx, u.ID); got != want {
		t.Fatalf("after update = %+v", got)
	}
	if err := s.SetPrivacySettings(ctx, store.PrivacySettings{UserID: "ghost"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
}

func testSupportMessages(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := mustUser(t, s, 1)
	m := store.SupportMessage{ID: "m1", UserID: u.ID, Name: u.Name, Email: u.Email, Subject: "Help", Body: "It broke", CreatedAt: now}
	if err := s.AddSupportMessage(ctx, m); err != nil {
		t.Fatal(err)
	}
	if err := s.AddSupportMessage(ctx, store.SupportMessage{ID: "m2", Name: "Anon", Email: "a@example.com", Subject: "S", Body: "B", CreatedAt: now.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	got, err := s.SupportMessages(ctx, 10)
	if err != nil || len(got) != 2 || got[1] != m || got[0].UserID != "" {
		t.Fatalf("SupportMessages = %+v, %v", got, err)
	}
	if n, err := s.CountSupportMessages(ctx, u.ID, now); err != nil || n != 1 {
		t.Fatalf("CountSupportMessages since the message = %d, %v; want 1", n, err)
	}
	if n, err := s.CountSupportMessages(ctx, u.ID, now.Add(time.Microsecond)); err != nil || n != 0 {
		t.Fatalf("CountSupportMessages after the message = %d, %v; want 0", n, err)
	}
	deleted := now.Add(time.Hour)
	if err := s.OrphanSupportMessages(ctx, u.ID, deleted); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	got, _ = s.SupportMessages(ctx, 10)
	if len(got) != 2 || got[1].UserID != "" || !got[1].AccountDeletedAt.Equal(deleted) || got[1].Email != u.Email {
		t.Fatalf("after the account went: %+v", got)
	}
	if n, err := s.PurgeSupportMessages(ctx, deleted); err != nil || n != 0 {
		t.Fatalf("purge too early: %d, %v", n, err)
	}
	if n, err := s.PurgeSupportMessages(ctx, deleted.Add(time.Microsecond)); err != nil || n != 1 {
		t.Fatalf("purge: %d, %v", n, err)
	}
	if got, _ := s.SupportMessages(ctx, 10); len(got) != 1 || got[0].ID != "m2" {
		t.Fatalf("after purge (a message of an account that exists, or none, stays): %+v", got)
	}
}

func testRetentionQueries(t *testing.T, s store.Store) {
	ctx := context.Background()
	u, w := mustUser(t, s, 1), user(2)
	w.EmailVerifiedAt, w.CreatedAt = time.Time{}, now.Add(-31*24*time.Hour)
	if err := s.CreateUser(ctx, w); err != nil {
		t.Fatal(err)
	}
	if got, err := s.UnverifiedUsers(ctx, now.Add(-30*24*time.Hour), 10); err != nil || len(got) != 1 || got[0].ID != w.ID {
		t.Fatalf("UnverifiedUsers = %+v, %v (user1 is new: %v)", got, err, u.EmailVerifiedAt)
	}
	for i, at := range []time.Time{now.Add(-3 * 365 * 24 * time.Hour), now} {
		if err := s.RecordSignIn(ctx, store.SignIn{ID: "si" + string(rune('a'+i)), UserID: u.ID, At: at, Method: "password"}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.PurgeUsage(ctx, now.Add(-2*365*24*time.Hour)); err != nil || n != 1 {
		t.Fatalf("PurgeUsage = %d, %v", n, err)
	}
	if left, _ := s.SignIns(ctx, u.ID, 10); len(left) != 1 || left[0].ID != "sib" {
		t.Fatalf("sign-ins left: %+v", left)
	}
	v := mustVideo(t, s, 1)
	if err := s.StartUpload(ctx, store.Upload{VideoID: v.ID, Index: 0, SHA256: "a", Length: 9, UpdatedAt: now.Add(-8 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := s.StartUpload(ctx, store.Upload{VideoID: v.ID, Index: 1, SHA256: "b", Length: 9, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.StaleUploads(ctx, now.Add(-7*24*time.Hour)); err != nil || len(got) != 1 || got[0].Index != 0 {
		t.Fatalf("StaleUploads = %+v, %v", got, err)
	}
	if err := s.CreateImport(ctx, store.Import{VideoID: v.ID, FileName: "a.mp4", Length: 10, CreatedAt: now.Add(-8 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.StaleImports(ctx, now.Add(-7*24*time.Hour)); err != nil || len(got) != 1 || got[0] != v.ID {
		t.Fatalf("StaleImports = %+v, %v", got, err)
	}
	if got, _ := s.StaleImports(ctx, now.Add(-9*24*time.Hour)); len(got) != 0 {
		t.Fatalf("StaleImports too early = %+v", got)
	}
	if n, err := s.PendingJobs(ctx, "retention"); err != nil || n != 0 {
		t.Fatalf("PendingJobs = %d, %v", n, err)
	}
	mustEnqueue(t, s, store.Job{ID: "j1", Kind: "retention", Args: []byte("{}"), MaxAttempts: 1, RunAt: now, CreatedAt: now})
	if n, err := s.PendingJobs(ctx, "retention"); err != nil || n != 1 {
		t.Fatalf("PendingJobs = %d, %v", n, err)
	}
}

func testConsent(t *testing.T, s store.Store) {
	ctx := context.Background()
	u, v := mustUser(t, s, 1), mustUser(t, s, 2)
	p1 := store.PolicyVersion{Version: "1", Major: true, Summary: "first", Body: "body 1", PublishedAt: now, EffectiveAt: now}
	p2 := store.PolicyVersion{Version: "2", Summary: "second", Body: "body 2", PublishedAt: now.Add(time.Hour), EffectiveAt: now.Add(28 * 24 * time.Hour)}
	for _, p := range []store.PolicyVersion{p2, p1} {
		if err := s.CreatePolicyVersion(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreatePolicyVersion(ctx, p1); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("publishing a version twice: %v", err)
	}
	ps, err := s.PolicyVersions(ctx)
	if err != nil || len(ps) != 2 || ps[0] != p1 || ps[1] != p2 {
		t.Fatalf("PolicyVersions = %+v, %v", ps, err)
	}
	for _, c := range []store.Consent{{UserID: u.ID, Version: "1", At: now}, {UserID: u.ID, Version: "2", At: now.Add(time.Minute)}, {UserID: u.ID, Version: "1", At: now.Add(time.Hour)}} {
		if err := s.AddConsent(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	cs, err := s.Consents(ctx, u.ID)
	if err != nil || len(cs) != 2 || cs[0].Version != "2" || cs[1].Version != "1" || !cs[1].At.Equal(now) {
		t.Fatalf("Consents = %+v, %v (the first consent's time must stay)", cs, err)
	}
	if err := s.AddConsent(ctx, store.Consent{UserID: u.ID, Version: "9", At: now}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("consent to an unknown version: %v", err)
	}
	todo, err := s.UsersToNotify(ctx, "2", 10)
	if err != nil || len(todo) != 2 {
		t.Fatalf("UsersToNotify = %+v, %v", todo, err)
	}
	if err := s.MarkNotified(ctx, u.ID, "2", now); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkNotified(ctx, u.ID, "2", now); err != nil {
		t.Fatalf("marking twice: %v", err)
	}
	if todo, _ := s.UsersToNotify(ctx, "2", 10); len(todo) != 1 || todo[0].ID != v.ID {
		t.Fatalf("UsersToNotify after one = %+v", todo)
	}
	if todo, _ := s.UsersToNotify(ctx, "2", 0); len(todo) != 0 {
		t.Fatalf("limit 0: %+v", todo)
	}
	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if cs, _ := s.Consents(ctx, u.ID); len(cs) != 0 {
		t.Fatalf("consents outlived their user: %+v", cs)
	}
}

func testExports(t *testing.T, s store.Store) {
	ctx := context.Background()
	u, other := mustUser(t, s, 1), mustUser(t, s, 2)
	if err := s.CreateWorkspace(ctx, store.Workspace{ID: "ws1", Name: "W", CreatedAt: now}, u.ID); err != nil {
		t.Fatal(err)
	}
	e := store.Export{ID: "e1", UserID: u.ID, WorkspaceID: "ws1", State: store.ExportPending, CreatedAt: now}
	if err := s.CreateExport(ctx, e); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateExport(ctx, store.Export{ID: "e2", UserID: other.ID, State: store.ExportPending, CreatedAt: now.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateExport(ctx, store.Export{ID: "e3", UserID: "ghost", State: store.ExportPending, CreatedAt: now}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("export of a missing user: %v", err)
	}
	got, err := s.Export(ctx, "e1")
	if err != nil || got.WorkspaceID != "ws1" || got.TokenHash != "" || !got.ReadyAt.IsZero() || !got.CreatedAt.Equal(now) {
		t.Fatalf("Export = %+v, %v", got, err)
	}
	e.State, e.TokenHash, e.BlobKey, e.SealID, e.WrappedKey, e.Size = store.ExportReady, "th1", "exports/u/e1", "abcd", []byte{1, 2, 0, 3}, 12345
	e.ReadyAt, e.ExpiresAt = now.Add(time.Minute), now.Add(time.Hour)
	if err := s.UpdateExport(ctx, e); err != nil {
		t.Fatal(err)
	}
	got, err = s.ExportByToken(ctx, "th1")
	if err != nil || got.State != store.ExportReady || got.BlobKey != e.BlobKey || string(got.WrappedKey) != string(e.WrappedKey) ||
		got.Size != 12345 || !got.ExpiresAt.Equal(e.ExpiresAt) || !got.ReadyAt.Equal(e.ReadyAt) || got.SealID != "abcd" {
		t.Fatalf("ExportByToken = %+v, %v", got, err)
	}
	if _, err := s.ExportByToken(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown token: %v", err)
	}
	if list, err := s.Exports(ctx, u.ID); err != nil || len(list) != 1 || list[0].ID != "e1" {
		t.Fatalf("Exports = %+v, %v", list, err)
	}
	if list, _ := s.ExpiredExports(ctx, now.Add(59*time.Minute)); len(list) != 0 {
		t.Fatalf("expired too early: %+v", list)
	}
	if list, _ := s.ExpiredExports(ctx, now.Add(time.Hour)); len(list) != 1 || list[0].ID != "e1" {
		t.Fatalf("ExpiredExports = %+v", list)
	}
	// The workspace's deletion leaves the user's export (to expire).
	if err := s.DeleteWorkspace(ctx, "ws1"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Export(ctx, "e1"); err != nil || got.WorkspaceID != "" {
		t.Fatalf("after the workspace went: %+v, %v", got, err)
	}
	if err := s.DeleteExport(ctx, "e1"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteExport(ctx, "e1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	// Exports go with their user.
	if err := s.DeleteUser(ctx, other.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Export(ctx, "e2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("export outlived its user: %v", err)
	}
}

func testAudit(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := mustUser(t, s, 1)
	for i, a := range []string{"first", "second", "third"} {
		if err := s.AddAudit(ctx, store.AuditEntry{ID: a, UserID: u.ID, At: now.Add(time.Duration(i) * time.Second), Action: a, Detail: "d " + a}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Audit(ctx, u.ID, 2)
	if err != nil || len(got) != 2 || got[0].Action != "third" || got[1].Detail != "d second" || !got[1].At.Equal(now.Add(time.Second)) {
		t.Fatalf("Audit = %+v, %v", got, err)
	}
	if err := s.AddAudit(ctx, store.AuditEntry{ID: "x", UserID: "ghost", At: now, Action: "a"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("audit of a missing user: %v", err)
	}
	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Audit(ctx, u.ID, 10); len(got) != 0 {
		t.Fatalf("audit outlived its user: %+v", got)
	}
}

func testRowsAboutVideos(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := mustVideo(t, s, 1), mustVideo(t, s, 2)
	for _, v := range []store.Video{a, b} {
		if _, _, err := s.AddSegment(ctx, store.Segment{VideoID: v.ID, Index: 0, Size: 10, SHA256: "h-" + v.ID, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.RowsAboutVideos(ctx, []string{a.ID}, []string{"jobs"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got["jobs"]; ok {
		t.Error("a skipped table is in the answer")
	}
	segs := got["segments"]
	if len(segs) != 1 || segs[0]["sha256"] != "h-"+a.ID || segs[0]["video_id"] != a.ID {
		t.Fatalf("segments rows = %+v", segs)
	}
	if rows, ok := got["video_assets"]; !ok || len(rows) != 0 {
		t.Fatalf("video_assets = %+v, %v (want present and empty)", rows, ok)
	}
	if none, err := s.RowsAboutVideos(ctx, nil, nil); err != nil || len(none) != 0 {
		t.Fatalf("no videos: %+v, %v", none, err)
	}
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
