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

// The contract of store.Accounts.

var accountTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"Users", testUsers},
	{"Sessions", testSessions},
	{"SignIns", testSignIns},
	{"UserTokensAreSingleUse", testUserTokens},
	{"RateLimits", testRateLimits},
	{"IdentitiesAndLoginFlows", testIdentities},
	{"DeviceFlow", testDeviceFlow},
	{"Workspaces", testWorkspaces},
	{"Invitations", testInvitations},
	{"Libraries", testLibraries},
	{"DeleteUserCascades", testDeleteUserCascades},
}

func user(n int) store.User {
	return store.User{
		ID: fmt.Sprintf("user%d", n), Email: fmt.Sprintf("User%d@Example.com", n), EmailNorm: fmt.Sprintf("user%d@example.com", n),
		Name: fmt.Sprintf("Üser %d", n), PasswordHash: "$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA", CreatedAt: now, UpdatedAt: now,
	}
}

func mustUser(t *testing.T, s store.Store, n int) store.User {
	t.Helper()
	u := user(n)
	if err := s.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

func testUsers(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := mustUser(t, s, 1)
	got, err := s.User(ctx, u.ID)
	if err != nil || got != u {
		t.Fatalf("User = %+v, %v; want %+v", got, err, u)
	}
	if got, err := s.UserByEmail(ctx, "user1@example.com"); err != nil || got.ID != u.ID {
		t.Fatalf("UserByEmail = %+v, %v", got, err)
	}
	dup := user(2)
	dup.EmailNorm = u.EmailNorm
	if err := s.CreateUser(ctx, dup); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate e-mail: %v, want ErrConflict", err)
	}
	u2 := mustUser(t, s, 2)
	u.Name, u.Phone, u.Company = "Renamed '; DROP TABLE users; --", "+41 44 000", "Acme"
	u.EmailVerifiedAt, u.UpdatedAt = now.Add(time.Minute), now.Add(time.Minute)
	u.PhotoKey, u.PhotoType = "users/user1/photo-1", "image/png"
	if err := s.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.User(ctx, u.ID); got != u || !got.Verified() {
		t.Fatalf("after update: %+v, want %+v", got, u)
	}
	u.EmailNorm = u2.EmailNorm
	if err := s.UpdateUser(ctx, u); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("update to a taken e-mail: %v", err)
	}
	if _, err := s.User(ctx, "ghost"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing user: %v", err)
	}
	if _, err := s.UserByEmail(ctx, "ghost@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing e-mail: %v", err)
	}
	if err := s.UpdateUser(ctx, store.User{ID: "ghost", EmailNorm: "g"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update missing user: %v", err)
	}
}

func testSessions(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := mustUser(t, s, 1)
	for i, h := range []string{"h1", "h2", "h3"} {
		se := store.Session{TokenHash: h, UserID: u.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Duration(i+1) * time.Hour), IP: "192.0.2.0", UserAgent: "test"}
		if err := s.CreateSession(ctx, se); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Session(ctx, "h1", now)
	if err != nil || got.UserID != u.ID || !got.ExpiresAt.Equal(now.Add(time.Hour)) || got.IP != "192.0.2.0" {
		t.Fatalf("Session = %+v, %v", got, err)
	}
	if _, err := s.Session(ctx, "h1", now.Add(time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired session: %v", err)
	}
	if err := s.TouchSession(ctx, "h1", now.Add(time.Minute), now.Add(5*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Session(ctx, "h1", now.Add(2*time.Hour)); err != nil || !got.LastSeenAt.Equal(now.Add(time.Minute)) {
		t.Fatalf("touched session: %+v, %v", got, err)
	}
	if err := s.DeleteUserSessions(ctx, u.ID, "h2"); err != nil {
		t.Fatal(err)
	}
	for h, want := range map[string]bool{"h1": false, "h2": true, "h3": false} {
		if _, err := s.Session(ctx, h, now); (err == nil) != want {
			t.Errorf("after DeleteUserSessions keeping h2: %s: %v", h, err)
		}
	}
	if err := s.DeleteSession(ctx, "h2"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, "h2", now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted session: %v", err)
	}
}

func testSignIns(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := mustUser(t, s, 1)
	for i, m := range []string{"password", "google", "device"} {
		if err := s.RecordSignIn(ctx, store.SignIn{ID: fmt.Sprintf("si%d", i), UserID: u.ID, At: now.Add(time.Duration(i) * time.Minute),
			Method: m, IP: "192.0.2.0", UserAgent: "ua"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RecordSignIn(ctx, store.SignIn{ID: "x", UserID: "ghost", At: now}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("sign-in of a missing user: %v", err)
	}
	got, err := s.SignIns(ctx, u.ID, 2)
	if err != nil || len(got) != 2 || got[0].Method != "device" || got[1].Method != "google" || !got[0].At.Equal(now.Add(2*time.Minute)) || got[0].IP != "192.0.2.0" {
		t.Fatalf("SignIns = %+v, %v", got, err)
	}
	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.SignIns(ctx, u.ID, 10); len(got) != 0 {
		t.Fatalf("sign-ins survived the user: %+v", got)
	}
}

func testUserTokens(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := mustUser(t, s, 1)
	tok := store.UserToken{TokenHash: "t1", UserID: u.ID, Purpose: store.TokenReset, Email: u.Email, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateUserToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConsumeUserToken(ctx, "t1", store.TokenVerify, now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("wrong purpose: %v", err)
	}
	if _, err := s.ConsumeUserToken(ctx, "t1", store.TokenReset, now.Add(time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired: %v", err)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := s.ConsumeUserToken(ctx, "t1", store.TokenReset, now)
			if err == nil {
				if got.UserID != u.ID || got.Email != u.Email {
					t.Errorf("consumed %+v", got)
				}
				mu.Lock()
				wins++
				mu.Unlock()
			} else if !errors.Is(err, store.ErrNotFound) {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("token consumed %d times, want once", wins)
	}
	if err := s.CreateUserToken(ctx, store.UserToken{TokenHash: "t2", UserID: "ghost", Purpose: store.TokenVerify, CreatedAt: now, ExpiresAt: now}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("token for a missing user: %v", err)
	}
	tok.TokenHash = "t3"
	if err := s.CreateUserToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUserTokens(ctx, u.ID, store.TokenReset); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConsumeUserToken(ctx, "t3", store.TokenReset, now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted token: %v", err)
	}
}

func testRateLimits(t *testing.T, s store.Store) {
	ctx := context.Background()
	var wg sync.WaitGroup
	counts := make([]int, 10)
	for i := range counts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := s.HitRateLimit(ctx, "signin:x", now, now.Add(time.Hour))
			if err != nil {
				t.Error(err)
			}
			counts[i] = n
		}()
	}
	wg.Wait()
	slices.Sort(counts)
	if !slices.Equal(counts, []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}) {
		t.Fatalf("concurrent hits counted %v", counts)
	}
	if n, err := s.HitRateLimit(ctx, "signin:x", now.Add(time.Hour), now.Add(2*time.Hour)); err != nil || n != 1 {
		t.Fatalf("next window: %d, %v", n, err)
	}
	if err := s.PurgeExpired(ctx, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n, err := s.HitRateLimit(ctx, "signin:x", now, now.Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("after purge the old window starts over: %d, %v", n, err)
	}
}

func testIdentities(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := mustUser(t, s, 1)
	id := store.Identity{Provider: "google", Subject: "sub-1", UserID: u.ID, Email: u.Email, CreatedAt: now}
	if err := s.CreateIdentity(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateIdentity(ctx, id); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate identity: %v", err)
	}
	if got, err := s.Identity(ctx, "google", "sub-1"); err != nil || got != id {
		t.Fatalf("Identity = %+v, %v", got, err)
	}
	if _, err := s.Identity(ctx, "microsoft", "sub-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("other provider: %v", err)
	}
	if ids, err := s.Identities(ctx, u.ID); err != nil || len(ids) != 1 {
		t.Fatalf("Identities = %v, %v", ids, err)
	}

	f := store.LoginFlow{StateHash: "st", Provider: "google", BrowserHash: "b", Verifier: "v", Nonce: "n", Next: "/library",
		CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute)}
	if err := s.CreateLoginFlow(ctx, f); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ConsumeLoginFlow(ctx, "st", now); err != nil || got != f {
		t.Fatalf("ConsumeLoginFlow = %+v, %v", got, err)
	}
	if _, err := s.ConsumeLoginFlow(ctx, "st", now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second use of a login flow: %v", err)
	}
	f.StateHash = "old"
	if err := s.CreateLoginFlow(ctx, f); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConsumeLoginFlow(ctx, "old", now.Add(time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired login flow: %v", err)
	}
}

func testDeviceFlow(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := mustUser(t, s, 1)
	other := mustUser(t, s, 2)
	d := store.DeviceCode{CodeHash: "dc", UserCode: "BCDFGHJK", ClientName: "Framecast on laptop", Interval: 5 * time.Second,
		CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute)}
	if err := s.CreateDeviceCode(ctx, d); err != nil {
		t.Fatal(err)
	}
	clash := d
	clash.CodeHash = "dc2"
	if err := s.CreateDeviceCode(ctx, clash); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("user code clash: %v", err)
	}
	got, err := s.DeviceCodeByUserCode(ctx, "BCDFGHJK", now)
	if err != nil || got.CodeHash != "dc" || got.Status != store.DeviceCodePending || got.Interval != 5*time.Second {
		t.Fatalf("DeviceCodeByUserCode = %+v, %v", got, err)
	}
	if _, err := s.DeviceCodeByUserCode(ctx, "BCDFGHJK", now.Add(time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired code: %v", err)
	}
	// Not approved yet: nothing to redeem.
	dev := store.Device{ID: "dev1", UserID: u.ID, Name: d.ClientName, TokenHash: "tok1", CreatedAt: now}
	if err := s.RedeemDeviceCode(ctx, "dc", dev); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("redeem pending: %v", err)
	}
	if err := s.PollDeviceCode(ctx, "dc", now.Add(time.Second), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.DeviceCode(ctx, "dc"); !got.LastPolledAt.Equal(now.Add(time.Second)) || got.Interval != 10*time.Second {
		t.Fatalf("after poll: %+v", got)
	}
	if err := s.DecideDeviceCode(ctx, "BCDFGHJK", u.ID, true, now); err != nil {
		t.Fatal(err)
	}
	if err := s.DecideDeviceCode(ctx, "BCDFGHJK", u.ID, false, now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second decision: %v", err)
	}
	// Redeeming for someone else than the approver fails.
	if err := s.RedeemDeviceCode(ctx, "dc", store.Device{ID: "x", UserID: other.ID, TokenHash: "x", CreatedAt: now}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("redeem for another user: %v", err)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	for i := range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dv := dev
			dv.ID, dv.TokenHash = fmt.Sprintf("dev%d", i), fmt.Sprintf("tok%d", i)
			err := s.RedeemDeviceCode(ctx, "dc", dv)
			if err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			} else if !errors.Is(err, store.ErrNotFound) {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("device code redeemed %d times", wins)
	}
	devs, err := s.Devices(ctx, u.ID)
	if err != nil || len(devs) != 1 || devs[0].Name != d.ClientName {
		t.Fatalf("Devices = %+v, %v", devs, err)
	}
	byTok, err := s.DeviceByToken(ctx, devs[0].TokenHash)
	if err != nil || byTok.ID != devs[0].ID || !byTok.LastUsedAt.IsZero() {
		t.Fatalf("DeviceByToken = %+v, %v", byTok, err)
	}
	if err := s.TouchDevice(ctx, byTok.ID, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.DeviceByToken(ctx, byTok.TokenHash); !got.LastUsedAt.Equal(now.Add(time.Hour)) {
		t.Fatalf("touched device: %+v", got)
	}
	if err := s.DeleteDevice(ctx, other.ID, byTok.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another user revoked the device: %v", err)
	}
	if err := s.DeleteDevice(ctx, u.ID, byTok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeviceByToken(ctx, byTok.TokenHash); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoked token still works: %v", err)
	}
	if err := s.PurgeExpired(ctx, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeviceCode(ctx, "dc"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired device code not purged: %v", err)
	}
}

func testWorkspaces(t *testing.T, s store.Store) {
	ctx := context.Background()
	owner, admin, member := mustUser(t, s, 1), mustUser(t, s, 2), mustUser(t, s, 3)
	w := store.Workspace{ID: "ws1", Name: "Acme ☃", CreatedAt: now}
	if err := s.CreateWorkspace(ctx, w, owner.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateWorkspace(ctx, store.Workspace{ID: "ws2", Name: "x", CreatedAt: now}, "ghost"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("workspace for a missing owner: %v", err)
	}
	if _, err := s.Workspace(ctx, "ws2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("half-created workspace left behind: %v", err)
	}
	got, err := s.Workspace(ctx, "ws1")
	if err != nil || got.Name != w.Name || got.CTAButtons != nil {
		t.Fatalf("Workspace = %+v, %v", got, err)
	}
	got.CTAButtons = []store.CTAButton{{Label: "Book a call", URL: "https://example.com/book"}}
	got.LogoKey, got.LogoType = "workspaces/ws1/logo-1", "image/png"
	if err := s.UpdateWorkspace(ctx, got); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.Workspace(ctx, "ws1"); !slices.Equal(again.CTAButtons, got.CTAButtons) || again.LogoKey != got.LogoKey {
		t.Fatalf("after update: %+v", again)
	}
	for _, m := range []struct{ u, role string }{{admin.ID, store.RoleAdmin}, {member.ID, store.RoleMember}} {
		inv := store.Invitation{ID: "inv-" + m.u, WorkspaceID: "ws1", Email: "x", EmailNorm: "x", Role: m.role,
			TokenHash: "it-" + m.u, InvitedBy: owner.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := s.CreateInvitation(ctx, inv); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AcceptInvitation(ctx, inv.TokenHash, m.u, now); err != nil {
			t.Fatal(err)
		}
	}
	ms, err := s.Members(ctx, "ws1")
	if err != nil || len(ms) != 3 || ms[0].Role != store.RoleOwner || ms[1].Role != store.RoleAdmin || ms[2].Role != store.RoleMember ||
		ms[2].UserEmail != member.Email || ms[0].WorkspaceName != w.Name {
		t.Fatalf("Members = %+v, %v", ms, err)
	}
	if m, err := s.Member(ctx, "ws1", admin.ID); err != nil || m.Role != store.RoleAdmin {
		t.Fatalf("Member = %+v, %v", m, err)
	}
	if mine, err := s.Memberships(ctx, member.ID); err != nil || len(mine) != 1 || mine[0].WorkspaceID != "ws1" {
		t.Fatalf("Memberships = %+v, %v", mine, err)
	}
	if err := s.SetMemberRole(ctx, "ws1", member.ID, store.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	if err := s.SetMemberRole(ctx, "ws1", "ghost", store.RoleAdmin); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("role of a non-member: %v", err)
	}
	if err := s.RemoveMember(ctx, "ws1", member.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Member(ctx, "ws1", member.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("removed member: %v", err)
	}
	if err := s.DeleteWorkspace(ctx, "ws1"); err != nil {
		t.Fatal(err)
	}
	if mine, err := s.Memberships(ctx, owner.ID); err != nil || len(mine) != 0 {
		t.Fatalf("memberships of a deleted workspace: %+v, %v", mine, err)
	}
}

func testInvitations(t *testing.T, s store.Store) {
	ctx := context.Background()
	owner, invitee := mustUser(t, s, 1), mustUser(t, s, 2)
	if err := s.CreateWorkspace(ctx, store.Workspace{ID: "ws1", Name: "Acme", CreatedAt: now}, owner.ID); err != nil {
		t.Fatal(err)
	}
	inv := store.Invitation{ID: "inv1", WorkspaceID: "ws1", Email: invitee.Email, EmailNorm: invitee.EmailNorm, Role: store.RoleAdmin,
		TokenHash: "it1", InvitedBy: owner.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateInvitation(ctx, inv); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateInvitation(ctx, store.Invitation{ID: "inv2", WorkspaceID: "ghost", Role: store.RoleMember, TokenHash: "it2", CreatedAt: now, ExpiresAt: now}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("invitation to a missing workspace: %v", err)
	}
	open, err := s.Invitations(ctx, "ws1")
	if err != nil || len(open) != 1 || open[0].Email != invitee.Email {
		t.Fatalf("Invitations = %+v, %v", open, err)
	}
	if got, err := s.InvitationByToken(ctx, "it1"); err != nil || got.ID != "inv1" {
		t.Fatalf("InvitationByToken = %+v, %v", got, err)
	}
	if _, err := s.AcceptInvitation(ctx, "it1", invitee.ID, now.Add(time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired invitation accepted: %v", err)
	}
	got, err := s.AcceptInvitation(ctx, "it1", invitee.ID, now)
	if err != nil || got.WorkspaceID != "ws1" || got.AcceptedBy != invitee.ID {
		t.Fatalf("AcceptInvitation = %+v, %v", got, err)
	}
	if _, err := s.AcceptInvitation(ctx, "it1", invitee.ID, now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("invitation accepted twice: %v", err)
	}
	if m, err := s.Member(ctx, "ws1", invitee.ID); err != nil || m.Role != store.RoleAdmin {
		t.Fatalf("member after accepting: %+v, %v", m, err)
	}
	// An owner accepting a member invitation stays owner.
	inv3 := store.Invitation{ID: "inv3", WorkspaceID: "ws1", Email: owner.Email, EmailNorm: owner.EmailNorm, Role: store.RoleMember,
		TokenHash: "it3", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateInvitation(ctx, inv3); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AcceptInvitation(ctx, "it3", owner.ID, now); err != nil {
		t.Fatal(err)
	}
	if m, _ := s.Member(ctx, "ws1", owner.ID); m.Role != store.RoleOwner {
		t.Fatalf("owner demoted by an invitation: %+v", m)
	}
	inv4 := inv3
	inv4.ID, inv4.TokenHash = "inv4", "it4"
	if err := s.CreateInvitation(ctx, inv4); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteInvitation(ctx, "other", "inv4"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("invitation deleted through another workspace: %v", err)
	}
	if err := s.DeleteInvitation(ctx, "ws1", "inv4"); err != nil {
		t.Fatal(err)
	}
	if open, _ := s.Invitations(ctx, "ws1"); len(open) != 0 {
		t.Fatalf("open invitations left: %+v", open)
	}
}

func testLibraries(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := mustUser(t, s, 1), mustUser(t, s, 2)
	if err := s.CreateWorkspace(ctx, store.Workspace{ID: "ws1", Name: "Acme", CreatedAt: now}, a.ID); err != nil {
		t.Fatal(err)
	}
	for i, owner := range []string{a.ID, a.ID, b.ID} {
		v := video(i + 1)
		v.OwnerID = owner
		v.CreatedAt = now.Add(time.Duration(i) * time.Minute)
		got, _, err := s.CreateVideo(ctx, v)
		if err != nil || got.OwnerID != owner || got.WorkspaceID != "" {
			t.Fatalf("CreateVideo = %+v, %v", got, err)
		}
	}
	orphan := video(9)
	orphan.OwnerID = "ghost"
	if _, _, err := s.CreateVideo(ctx, orphan); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("video of a missing owner: %v", err)
	}
	ids := func(vs []store.Video, err error) []string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, v := range vs {
			out = append(out, v.ID)
		}
		return out
	}
	if got := ids(s.LibraryVideos(ctx, a.ID, "")); !slices.Equal(got, []string{"vid2", "vid1"}) {
		t.Fatalf("personal library of a: %v", got)
	}
	if err := s.MoveVideo(ctx, "vid1", "ws1"); err != nil {
		t.Fatal(err)
	}
	if err := s.MoveVideo(ctx, "vid1", "ghost"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("move to a missing workspace: %v", err)
	}
	if got := ids(s.LibraryVideos(ctx, a.ID, "")); !slices.Equal(got, []string{"vid2"}) {
		t.Fatalf("personal library after move: %v", got)
	}
	if got := ids(s.LibraryVideos(ctx, "", "ws1")); !slices.Equal(got, []string{"vid1"}) {
		t.Fatalf("workspace library: %v", got)
	}
	if v, _ := s.Video(ctx, "vid1"); v.WorkspaceID != "ws1" {
		t.Fatalf("moved video: %+v", v)
	}
	if got := ids(s.VideosOwnedBy(ctx, a.ID)); !slices.Equal(got, []string{"vid2", "vid1"}) {
		t.Fatalf("VideosOwnedBy: %v", got)
	}
	// A member leaving takes their videos back to their personal library.
	if err := s.RemoveMember(ctx, "ws1", a.ID); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Video(ctx, "vid1"); v.WorkspaceID != "" {
		t.Fatalf("video stayed in the workspace after its owner left: %+v", v)
	}
	if err := s.MoveVideo(ctx, "vid3", "ws1"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteWorkspace(ctx, "ws1"); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Video(ctx, "vid3"); err != nil || v.WorkspaceID != "" {
		t.Fatalf("video of a deleted workspace: %+v, %v", v, err)
	}
	if err := s.DeleteVideo(ctx, "vid3"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Video(ctx, "vid3"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted video: %v", err)
	}
}

func testDeleteUserCascades(t *testing.T, s store.Store) {
	ctx := context.Background()
	u, keep := mustUser(t, s, 1), mustUser(t, s, 2)
	if err := s.CreateWorkspace(ctx, store.Workspace{ID: "ws1", Name: "Acme", CreatedAt: now}, keep.ID); err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.CreateSession(ctx, store.Session{TokenHash: "s", UserID: u.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}))
	must(s.CreateUserToken(ctx, store.UserToken{TokenHash: "t", UserID: u.ID, Purpose: store.TokenVerify, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}))
	must(s.CreateIdentity(ctx, store.Identity{Provider: "google", Subject: "s", UserID: u.ID, CreatedAt: now}))
	must(s.CreateDeviceCode(ctx, store.DeviceCode{CodeHash: "dc", UserCode: "BBBBBBBB", Interval: time.Second, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}))
	must(s.DecideDeviceCode(ctx, "BBBBBBBB", u.ID, true, now))
	must(s.RedeemDeviceCode(ctx, "dc", store.Device{ID: "d", UserID: u.ID, TokenHash: "dt", CreatedAt: now}))
	must(s.CreateInvitation(ctx, store.Invitation{ID: "i", WorkspaceID: "ws1", Role: store.RoleMember, TokenHash: "it", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}))
	_, err := s.AcceptInvitation(ctx, "it", u.ID, now)
	must(err)
	v := video(1)
	v.OwnerID = u.ID
	_, _, err = s.CreateVideo(ctx, v)
	must(err)
	_, _, err = s.AddSegment(ctx, store.Segment{VideoID: v.ID, Index: 0, SHA256: "h", CreatedAt: now})
	must(err)

	must(s.DeleteUser(ctx, u.ID))
	if err := s.DeleteUser(ctx, u.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if _, err := s.Session(ctx, "s", now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("session survived: %v", err)
	}
	if _, err := s.ConsumeUserToken(ctx, "t", store.TokenVerify, now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("token survived: %v", err)
	}
	if _, err := s.Identity(ctx, "google", "s"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("identity survived: %v", err)
	}
	if _, err := s.DeviceByToken(ctx, "dt"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("device survived: %v", err)
	}
	if _, err := s.Member(ctx, "ws1", u.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("membership survived: %v", err)
	}
	if _, err := s.Video(ctx, v.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("video row survived: %v", err)
	}
	if segs, err := s.Segments(ctx, v.ID); err != nil || len(segs) != 0 {
		t.Errorf("segments survived: %v %v", segs, err)
	}
	if _, err := s.Member(ctx, "ws1", keep.ID); err != nil {
		t.Errorf("the other user's membership went too: %v", err)
	}
}
