package account

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"framecast.dev/server/internal/blob"
	"framecast.dev/server/internal/secrets"
	"framecast.dev/server/internal/store"
)

// Workspaces: a company's shared space with owner, admin and member
// roles. Members see the workspace's shared library; admins also manage
// members, invitations, the logo and the default call-to-action buttons;
// the owner also hands over ownership and deletes the workspace. To anyone
// who is not a member a workspace does not exist (KindNotFound).

// Limits of workspace settings.
const (
	MaxWorkspaceNameLen = 100
	MaxCTAButtons       = 3
	MaxCTALabelLen      = 40
	MaxCTAURLLen        = 2048
	invitationTTL       = 7 * 24 * time.Hour
)

var roleRank = map[string]int{store.RoleMember: 1, store.RoleAdmin: 2, store.RoleOwner: 3}

// notMember is the answer for workspaces the caller cannot see.
func notMember() *Error {
	return fail(KindNotFound, "There is no such workspace, or you are not a member.")
}

// member returns the caller's membership, at least of role min.
func (s *Service) member(ctx context.Context, u store.User, wsID, min string) (store.Member, error) {
	if !ValidID(wsID) {
		return store.Member{}, notMember()
	}
	m, err := s.store.Member(ctx, wsID, u.ID)
	if errors.Is(err, store.ErrNotFound) {
		return store.Member{}, notMember()
	}
	if err != nil {
		return store.Member{}, err
	}
	if roleRank[m.Role] < roleRank[min] {
		return store.Member{}, fail(KindForbidden, "Only the workspace's %ss can do that; you are a %s.", min, m.Role)
	}
	return m, nil
}

// CreateWorkspace makes a workspace with u as its owner.
func (s *Service) CreateWorkspace(ctx context.Context, u store.User, name string) (store.Workspace, error) {
	name, err := cleanText("name", "workspace name", name, MaxWorkspaceNameLen, true)
	if err != nil {
		return store.Workspace{}, err
	}
	w := store.Workspace{ID: secrets.NewID(), Name: name, CreatedAt: s.now().UTC()}
	if err := s.store.CreateWorkspace(ctx, w, u.ID); err != nil {
		return store.Workspace{}, err
	}
	s.log.Info("workspace created", "workspace_id", w.ID, "user_id", u.ID)
	return w, nil
}

// Memberships lists the workspaces u belongs to.
func (s *Service) Memberships(ctx context.Context, u store.User) ([]store.Member, error) {
	return s.store.Memberships(ctx, u.ID)
}

// WorkspaceDetails is what a member sees of a workspace.
type WorkspaceDetails struct {
	Workspace   store.Workspace
	Me          store.Member
	Members     []store.Member
	Invitations []store.Invitation // open ones; only for admins and the owner
}

// Workspace returns a workspace u is a member of.
func (s *Service) Workspace(ctx context.Context, u store.User, wsID string) (WorkspaceDetails, error) {
	me, err := s.member(ctx, u, wsID, store.RoleMember)
	if err != nil {
		return WorkspaceDetails{}, err
	}
	d := WorkspaceDetails{Me: me}
	if d.Workspace, err = s.store.Workspace(ctx, wsID); err != nil {
		return WorkspaceDetails{}, storeErr(err, notMember().Message)
	}
	if d.Members, err = s.store.Members(ctx, wsID); err != nil {
		return WorkspaceDetails{}, err
	}
	if roleRank[me.Role] >= roleRank[store.RoleAdmin] {
		if d.Invitations, err = s.store.Invitations(ctx, wsID); err != nil {
			return WorkspaceDetails{}, err
		}
	}
	return d, nil
}

// WorkspaceSettings is what admins edit.
type WorkspaceSettings struct {
	Name    string
	Buttons []store.CTAButton // empty rows are dropped
}

// UpdateWorkspace changes the name and the default call-to-action buttons.
func (s *Service) UpdateWorkspace(ctx context.Context, u store.User, wsID string, in WorkspaceSettings) (store.Workspace, error) {
	if _, err := s.member(ctx, u, wsID, store.RoleAdmin); err != nil {
		return store.Workspace{}, err
	}
	name, err := cleanText("name", "workspace name", in.Name, MaxWorkspaceNameLen, true)
	if err != nil {
		return store.Workspace{}, err
	}
	buttons, err := cleanButtons(in.Buttons)
	if err != nil {
		return store.Workspace{}, err
	}
	w, err := s.store.Workspace(ctx, wsID)
	if err != nil {
		return store.Workspace{}, storeErr(err, notMember().Message)
	}
	w.Name, w.CTAButtons = name, buttons
	if err := s.store.UpdateWorkspace(ctx, w); err != nil {
		return store.Workspace{}, err
	}
	return w, nil
}

// cleanButtons checks call-to-action buttons: a label and an absolute
// http(s) URL each, at most MaxCTAButtons.
func cleanButtons(in []store.CTAButton) ([]store.CTAButton, error) {
	var out []store.CTAButton
	for i, b := range in {
		field := fmt.Sprintf("button%d", i+1)
		label, err := cleanText(field+"_label", "button label", b.Label, MaxCTALabelLen, false)
		if err != nil {
			return nil, err
		}
		raw := strings.TrimSpace(b.URL)
		if label == "" && raw == "" {
			continue
		}
		if label == "" {
			return nil, invalid(field+"_label", "Button %d has a link but no label.", i+1)
		}
		u, err := url.Parse(raw)
		if err != nil || len(raw) > MaxCTAURLLen || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
			strings.ContainsAny(raw, " \t\r\n<>\"") {
			return nil, invalid(field+"_url", "Button %d needs a web address starting with https://.", i+1)
		}
		out = append(out, store.CTAButton{Label: label, URL: u.String()})
	}
	if len(out) > MaxCTAButtons {
		return nil, invalid("buttons", "At most %d buttons.", MaxCTAButtons)
	}
	return out, nil
}

// SetLogo replaces the workspace's logo.
func (s *Service) SetLogo(ctx context.Context, u store.User, wsID string, r io.Reader) error {
	if _, err := s.member(ctx, u, wsID, store.RoleAdmin); err != nil {
		return err
	}
	b, ct, err := readImage("logo", r)
	if err != nil {
		return err
	}
	w, err := s.store.Workspace(ctx, wsID)
	if err != nil {
		return storeErr(err, notMember().Message)
	}
	key := "workspaces/" + wsID + "/logo-" + secrets.NewID()
	if err := s.blobs.Put(ctx, key, bytes.NewReader(b)); err != nil {
		return fmt.Errorf("store logo: %w", err)
	}
	old := w.LogoKey
	w.LogoKey, w.LogoType = key, ct
	if err := s.store.UpdateWorkspace(ctx, w); err != nil {
		s.blobs.Delete(ctx, key)
		return err
	}
	s.deleteBlob(ctx, old)
	return nil
}

// DeleteLogo removes the workspace's logo.
func (s *Service) DeleteLogo(ctx context.Context, u store.User, wsID string) error {
	if _, err := s.member(ctx, u, wsID, store.RoleAdmin); err != nil {
		return err
	}
	w, err := s.store.Workspace(ctx, wsID)
	if err != nil {
		return storeErr(err, notMember().Message)
	}
	old := w.LogoKey
	w.LogoKey, w.LogoType = "", ""
	if err := s.store.UpdateWorkspace(ctx, w); err != nil {
		return err
	}
	s.deleteBlob(ctx, old)
	return nil
}

// Logo opens a workspace's logo for a member. (Share pages show it to
// viewers through WorkspaceLogo.)
func (s *Service) Logo(ctx context.Context, u store.User, wsID string) (io.ReadCloser, string, error) {
	if _, err := s.member(ctx, u, wsID, store.RoleMember); err != nil {
		return nil, "", err
	}
	return s.WorkspaceLogo(ctx, wsID)
}

// WorkspaceLogo opens a workspace's logo without checking who asks: for
// pages that show it publicly (share pages of the workspace's videos).
func (s *Service) WorkspaceLogo(ctx context.Context, wsID string) (io.ReadCloser, string, error) {
	w, err := s.store.Workspace(ctx, wsID)
	if err != nil {
		return nil, "", storeErr(err, "There is no such workspace.")
	}
	if w.LogoKey == "" {
		return nil, "", fail(KindNotFound, "The workspace has no logo.")
	}
	rc, err := s.blobs.Get(ctx, w.LogoKey)
	if errors.Is(err, blob.ErrNotExist) {
		return nil, "", fail(KindNotFound, "The workspace has no logo.")
	}
	if err != nil {
		return nil, "", fmt.Errorf("open logo: %w", err)
	}
	return rc, w.LogoType, nil
}

// Invite mails an invitation to join the workspace as member or admin
// (admins and the owner invite).
func (s *Service) Invite(ctx context.Context, u store.User, wsID, email, role string) (store.Invitation, error) {
	if _, err := s.member(ctx, u, wsID, store.RoleAdmin); err != nil {
		return store.Invitation{}, err
	}
	if role != store.RoleMember && role != store.RoleAdmin {
		return store.Invitation{}, invalid("role", "Invite as member or admin.")
	}
	norm, err := normalizeEmail(email)
	if err != nil {
		return store.Invitation{}, err
	}
	email, _ = cleanText("email", "e-mail address", email, MaxEmailLen, true)
	if err := s.allow(ctx, limitInviteUser, u.ID); err != nil {
		return store.Invitation{}, err
	}
	w, err := s.store.Workspace(ctx, wsID)
	if err != nil {
		return store.Invitation{}, storeErr(err, notMember().Message)
	}
	secret := secrets.NewToken()
	now := s.now().UTC()
	inv := store.Invitation{ID: secrets.NewID(), WorkspaceID: wsID, Email: email, EmailNorm: norm, Role: role, TokenHash: secrets.Hash(secret),
		InvitedBy: u.ID, CreatedAt: now, ExpiresAt: now.Add(invitationTTL)}
	if err := s.store.CreateInvitation(ctx, inv); err != nil {
		return store.Invitation{}, err
	}
	if err := s.send(ctx, forUser(invitationMail(email, u.Name, w.Name, s.link("/invite/"+secret)), u.ID)); err != nil {
		return store.Invitation{}, err
	}
	s.log.Info("invitation sent", "workspace_id", wsID, "invitation_id", inv.ID, "user_id", u.ID)
	return inv, nil
}

// RevokeInvitation withdraws an open invitation.
func (s *Service) RevokeInvitation(ctx context.Context, u store.User, wsID, invID string) error {
	if _, err := s.member(ctx, u, wsID, store.RoleAdmin); err != nil {
		return err
	}
	if !ValidID(invID) {
		return fail(KindNotFound, "There is no such open invitation.")
	}
	return storeErr(s.store.DeleteInvitation(ctx, wsID, invID), "There is no such open invitation.")
}

// PendingInvitation is what the invitation page shows.
type PendingInvitation struct {
	Invitation    store.Invitation
	WorkspaceName string
}

// Invitation looks up an invitation link.
func (s *Service) Invitation(ctx context.Context, secret string) (PendingInvitation, error) {
	bad := fail(KindNotFound, "This invitation is not valid any more. Ask for a new one.")
	if !validSecret(secret) {
		return PendingInvitation{}, bad
	}
	inv, err := s.store.InvitationByToken(ctx, secrets.Hash(secret))
	if errors.Is(err, store.ErrNotFound) || err == nil && (!inv.AcceptedAt.IsZero() || !s.now().Before(inv.ExpiresAt)) {
		return PendingInvitation{}, bad
	}
	if err != nil {
		return PendingInvitation{}, err
	}
	w, err := s.store.Workspace(ctx, inv.WorkspaceID)
	if err != nil {
		return PendingInvitation{}, storeErr(err, bad.Message)
	}
	return PendingInvitation{Invitation: inv, WorkspaceName: w.Name}, nil
}

// AcceptInvitation makes u a member, if the invitation was sent to u's
// (confirmed) address.
func (s *Service) AcceptInvitation(ctx context.Context, u store.User, secret string) (store.Invitation, error) {
	p, err := s.Invitation(ctx, secret)
	if err != nil {
		return store.Invitation{}, err
	}
	if p.Invitation.EmailNorm != u.EmailNorm || !u.Verified() {
		return store.Invitation{}, fail(KindForbidden, "This invitation was sent to %s; you are signed in as %s. Sign in with that address to accept it.",
			p.Invitation.Email, u.Email)
	}
	inv, err := s.store.AcceptInvitation(ctx, secrets.Hash(secret), u.ID, s.now())
	if err != nil {
		return store.Invitation{}, storeErr(err, "This invitation is not valid any more. Ask for a new one.")
	}
	s.log.Info("invitation accepted", "workspace_id", inv.WorkspaceID, "user_id", u.ID)
	return inv, nil
}

// SetRole changes a member's role. The owner may change anyone's and hand
// over ownership (becoming an admin); admins may switch others between
// member and admin.
func (s *Service) SetRole(ctx context.Context, u store.User, wsID, userID, role string) error {
	me, err := s.member(ctx, u, wsID, store.RoleAdmin)
	if err != nil {
		return err
	}
	if _, ok := roleRank[role]; !ok {
		return invalid("role", "A role is owner, admin or member.")
	}
	if !ValidID(userID) {
		return fail(KindNotFound, "That person is not a member.")
	}
	them, err := s.store.Member(ctx, wsID, userID)
	if err != nil {
		return storeErr(err, "That person is not a member.")
	}
	switch {
	case them.UserID == u.ID:
		return fail(KindConflict, "You cannot change your own role. To hand over the workspace, make another member owner.")
	case them.Role == store.RoleOwner:
		return fail(KindForbidden, "Only the owner can hand over ownership.")
	case role == store.RoleOwner && me.Role != store.RoleOwner:
		return fail(KindForbidden, "Only the owner can make someone owner.")
	}
	if err := s.store.SetMemberRole(ctx, wsID, userID, role); err != nil {
		return storeErr(err, "That person is not a member.")
	}
	if role == store.RoleOwner {
		if err := s.store.SetMemberRole(ctx, wsID, u.ID, store.RoleAdmin); err != nil {
			return err
		}
	}
	s.log.Info("role changed", "workspace_id", wsID, "user_id", userID, "role", role, "by", u.ID)
	return nil
}

// RemoveMember takes someone out of the workspace; their videos in its
// library go back to their personal library. Members may remove
// themselves (leave), admins may remove members, the owner anyone but
// themselves (the owner hands over ownership before leaving).
func (s *Service) RemoveMember(ctx context.Context, u store.User, wsID, userID string) error {
	me, err := s.member(ctx, u, wsID, store.RoleMember)
	if err != nil {
		return err
	}
	if !ValidID(userID) {
		return fail(KindNotFound, "That person is not a member.")
	}
	them, err := s.store.Member(ctx, wsID, userID)
	if err != nil {
		return storeErr(err, "That person is not a member.")
	}
	switch {
	case them.Role == store.RoleOwner:
		return fail(KindConflict, "The owner cannot leave or be removed. Make another member owner first, or delete the workspace.")
	case them.UserID == u.ID:
	case me.Role == store.RoleOwner:
	case me.Role == store.RoleAdmin && them.Role == store.RoleMember:
	default:
		return fail(KindForbidden, "You cannot remove that member.")
	}
	if err := s.store.RemoveMember(ctx, wsID, userID); err != nil {
		return storeErr(err, "That person is not a member.")
	}
	s.log.Info("member removed", "workspace_id", wsID, "user_id", userID, "by", u.ID)
	return nil
}

// DeleteWorkspace deletes a workspace (owner only). Its videos go back to
// their owners' personal libraries.
func (s *Service) DeleteWorkspace(ctx context.Context, u store.User, wsID string) error {
	if _, err := s.member(ctx, u, wsID, store.RoleOwner); err != nil {
		return err
	}
	if err := s.deleteWorkspace(ctx, wsID); err != nil {
		return err
	}
	s.log.Info("workspace deleted", "workspace_id", wsID, "user_id", u.ID)
	return nil
}

func (s *Service) deleteWorkspace(ctx context.Context, wsID string) error {
	w, err := s.store.Workspace(ctx, wsID)
	if err != nil {
		return storeErr(err, notMember().Message)
	}
	if err := s.store.DeleteWorkspace(ctx, wsID); err != nil {
		return err
	}
	s.deleteBlob(ctx, w.LogoKey)
	return nil
}

// Library is one list of videos a user sees.
type Library struct {
	WorkspaceID string // "" for the personal library
	Name        string
	Role        string // the user's role in the workspace
	Videos      []store.Video
}

// Libraries returns the user's personal library, then each workspace's
// shared library.
func (s *Service) Libraries(ctx context.Context, u store.User) ([]Library, error) {
	personal, err := s.store.LibraryVideos(ctx, u.ID, "")
	if err != nil {
		return nil, err
	}
	libs := []Library{{Name: "My videos", Videos: personal}}
	ms, err := s.store.Memberships(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		vs, err := s.store.LibraryVideos(ctx, "", m.WorkspaceID)
		if err != nil {
			return nil, err
		}
		libs = append(libs, Library{WorkspaceID: m.WorkspaceID, Name: m.WorkspaceName, Role: m.Role, Videos: vs})
	}
	return libs, nil
}

// MoveVideo moves a video to a workspace's library (workspaceID) or back
// to its owner's personal library (""). The video's owner may move it
// between their personal library and any workspace they belong to; an
// admin or owner of the workspace a video is in may send it back to its
// owner's personal library.
func (s *Service) MoveVideo(ctx context.Context, u store.User, videoID, workspaceID string) error {
	notFound := fail(KindNotFound, "There is no such video in your libraries.")
	if !ValidID(videoID) {
		return notFound
	}
	v, err := s.store.Video(ctx, videoID)
	if err != nil {
		return storeErr(err, notFound.Message)
	}
	if v.OwnerID != u.ID {
		if v.WorkspaceID == "" {
			return notFound
		}
		m, err := s.member(ctx, u, v.WorkspaceID, store.RoleMember)
		if err != nil {
			return notFound
		}
		if roleRank[m.Role] < roleRank[store.RoleAdmin] || workspaceID != "" {
			return fail(KindForbidden, "Only the video's owner can move it; workspace admins can only send it back to its owner.")
		}
	} else if workspaceID != "" {
		if _, err := s.member(ctx, u, workspaceID, store.RoleMember); err != nil {
			return err
		}
	}
	if v.WorkspaceID == workspaceID {
		return nil
	}
	if err := s.store.MoveVideo(ctx, videoID, workspaceID); err != nil {
		return storeErr(err, notFound.Message)
	}
	s.log.Info("video moved", "video_id", videoID, "workspace_id", workspaceID, "by", u.ID)
	return nil
}

// RequireRole fails unless u is a member of the workspace with at least
// role min (KindNotFound for non-members, KindForbidden for too low a
// role), for other parts acting on a workspace.
func (s *Service) RequireRole(ctx context.Context, u store.User, wsID, min string) (store.Member, error) {
	return s.member(ctx, u, wsID, min)
}
