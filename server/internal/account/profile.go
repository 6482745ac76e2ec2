package account

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"framecast.dev/server/internal/blob"
	"framecast.dev/server/internal/secrets"
	"framecast.dev/server/internal/store"
)

// ProfileInput is what the profile form edits.
type ProfileInput struct {
	Name, Email, Phone, Company string
}

// ProfileResult says what UpdateProfile did.
type ProfileResult struct {
	User store.User
	// EmailPending is the new address waiting for confirmation, if the
	// e-mail was changed.
	EmailPending string
}

// UpdateProfile changes name, phone and company at once. A new e-mail
// address takes effect only once confirmed from a link sent to it; the old
// address is told.
func (s *Service) UpdateProfile(ctx context.Context, u store.User, in ProfileInput) (ProfileResult, error) {
	var err error
	next := u
	if next.Name, err = cleanName(in.Name); err != nil {
		return ProfileResult{}, err
	}
	if next.Phone, err = cleanPhone(in.Phone); err != nil {
		return ProfileResult{}, err
	}
	if next.Company, err = cleanCompany(in.Company); err != nil {
		return ProfileResult{}, err
	}
	newNorm, err := normalizeEmail(in.Email)
	if err != nil {
		return ProfileResult{}, err
	}
	newEmail, _ := cleanText("email", "e-mail address", in.Email, MaxEmailLen, true)
	res := ProfileResult{}
	if newNorm != u.EmailNorm {
		// First, so a refusal (rate limit) leaves the profile as it was.
		// Whether another account has the address is not told here (that
		// would reveal accounts); confirming will fail instead.
		if err := s.sendVerification(ctx, next, newEmail, true); err != nil {
			return ProfileResult{}, err
		}
		if err := s.send(ctx, forUser(emailChangeNoticeMail(u.Email, next.Name), u.ID)); err != nil {
			return ProfileResult{}, err
		}
		res.EmailPending = newEmail
	} else {
		next.Email = newEmail // at most the spelling (case) changed: no confirmation needed
	}
	next.UpdatedAt = s.now().UTC()
	if err := s.store.UpdateUser(ctx, next); err != nil {
		return ProfileResult{}, err
	}
	res.User = next
	return res, nil
}

// ChangePassword sets a new password after checking the current one (not
// asked when the account has none, e.g. made with Google), and signs out
// every other session.
func (s *Service) ChangePassword(ctx context.Context, u store.User, current, password, keepSession string) error {
	if err := checkPassword("new_password", password); err != nil {
		return err
	}
	if u.PasswordHash != "" {
		ok, err := passwordMatches(ctx, current, u.PasswordHash)
		if err != nil {
			return err
		}
		if !ok {
			return invalid("current_password", "The current password is wrong.")
		}
	}
	hash, err := hashPassword(ctx, password)
	if err != nil {
		return err
	}
	u.PasswordHash, u.UpdatedAt = hash, s.now().UTC()
	if err := s.store.UpdateUser(ctx, u); err != nil {
		return err
	}
	keep := ""
	if validSecret(keepSession) {
		keep = secrets.Hash(keepSession)
	}
	if err := s.store.DeleteUserSessions(ctx, u.ID, keep); err != nil {
		return err
	}
	s.log.Info("password changed", "user_id", u.ID)
	s.notice(ctx, forUser(passwordChangedMail(u.Email, u.Name, s.link("/reset")), u.ID))
	return nil
}

// Images accepted as profile photos and workspace logos, by sniffed type.
var imageTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true}

// MaxImageBytes bounds photos and logos.
const MaxImageBytes = 2 << 20

// readImage reads at most MaxImageBytes and checks, by content, that it
// is an accepted image; the declared type is not trusted.
func readImage(field string, r io.Reader) ([]byte, string, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxImageBytes+1))
	if err != nil {
		return nil, "", fmt.Errorf("read image: %w", err)
	}
	if len(b) > MaxImageBytes {
		return nil, "", &Error{Kind: KindTooLarge, Field: field, Message: fmt.Sprintf("The image is larger than %d MB.", MaxImageBytes>>20)}
	}
	if len(b) == 0 {
		return nil, "", invalid(field, "Choose an image file.")
	}
	ct := http.DetectContentType(b)
	if !imageTypes[ct] {
		return nil, "", invalid(field, "The file is not a PNG, JPEG, GIF or WebP image.")
	}
	return b, ct, nil
}

// SetPhoto replaces the user's profile photo.
func (s *Service) SetPhoto(ctx context.Context, u store.User, r io.Reader) (store.User, error) {
	b, ct, err := readImage("photo", r)
	if err != nil {
		return store.User{}, err
	}
	key := "users/" + u.ID + "/photo-" + secrets.NewID()
	if err := s.blobs.Put(ctx, key, bytes.NewReader(b)); err != nil {
		return store.User{}, fmt.Errorf("store photo: %w", err)
	}
	old := u.PhotoKey
	u.PhotoKey, u.PhotoType, u.UpdatedAt = key, ct, s.now().UTC()
	if err := s.store.UpdateUser(ctx, u); err != nil {
		s.blobs.Delete(ctx, key)
		return store.User{}, err
	}
	s.deleteBlob(ctx, old)
	return u, nil
}

// DeletePhoto removes the user's profile photo.
func (s *Service) DeletePhoto(ctx context.Context, u store.User) (store.User, error) {
	old := u.PhotoKey
	u.PhotoKey, u.PhotoType, u.UpdatedAt = "", "", s.now().UTC()
	if err := s.store.UpdateUser(ctx, u); err != nil {
		return store.User{}, err
	}
	s.deleteBlob(ctx, old)
	return u, nil
}

// Photo opens the user's own photo. Nobody else's: photos are shown only
// to their owner.
func (s *Service) Photo(ctx context.Context, u store.User) (io.ReadCloser, string, error) {
	if u.PhotoKey == "" {
		return nil, "", fail(KindNotFound, "You have no profile photo.")
	}
	rc, err := s.blobs.Get(ctx, u.PhotoKey)
	if errors.Is(err, blob.ErrNotExist) {
		return nil, "", fail(KindNotFound, "You have no profile photo.")
	}
	if err != nil {
		return nil, "", fmt.Errorf("open photo: %w", err)
	}
	return rc, u.PhotoType, nil
}

func (s *Service) deleteBlob(ctx context.Context, key string) {
	if key == "" {
		return
	}
	if err := s.blobs.Delete(ctx, key); err != nil {
		s.log.Warn("deleting a replaced image failed", "key", key, "err", err)
	}
}

// What happens to a deleting user's videos in shared workspace
// libraries: the workspace keeps them (its owner becomes their owner) or
// they are deleted with the rest.
const (
	SharedToWorkspace = "workspace"
	SharedDelete      = "delete"
)

// SharedVideos lists the user's videos in workspace libraries of which
// they are not the owner: the ones DeleteAccount asks about.
func (s *Service) SharedVideos(ctx context.Context, u store.User) ([]store.Video, error) {
	vs, err := s.store.VideosOwnedBy(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	var out []store.Video
	for _, v := range vs {
		if v.WorkspaceID == "" {
			continue
		}
		if m, err := s.store.Member(ctx, v.WorkspaceID, u.ID); err == nil && m.Role == store.RoleOwner {
			continue // their own workspace goes with them (or blocks the deletion)
		}
		out = append(out, v)
	}
	return out, nil
}

// OnDelete registers fn to run when an account is deleted, before its
// row goes: other parts (exports, the privacy centre) remove what they
// keep of the user, blobs included. An error stops the deletion, which
// can then be retried.
func (s *Service) OnDelete(fn func(ctx context.Context, u store.User) error) {
	s.erasers = append(s.erasers, fn)
}

// DeleteAccount removes the user and everything of theirs: videos (with
// their blobs, derived files and analytics), photo, sessions, device
// tokens, sign-in history, identities, memberships, invitations sent to
// their address, rate-limit counters keyed by them, and workspaces where
// they were the only member. It refuses while the user owns a workspace
// that has other members: ownership must be handed over first. shared
// says what happens to their videos in other workspaces' libraries
// (SharedToWorkspace or SharedDelete); it is required when there are
// any. confirm is the current password, or the e-mail address for
// accounts without one.
func (s *Service) DeleteAccount(ctx context.Context, u store.User, confirm, shared string) error {
	if u.PasswordHash != "" {
		ok, err := passwordMatches(ctx, confirm, u.PasswordHash)
		if err != nil {
			return err
		}
		if !ok {
			return invalid("confirm", "The password is wrong.")
		}
	} else if n, err := normalizeEmail(confirm); err != nil || n != u.EmailNorm {
		return invalid("confirm", "Type your e-mail address to confirm.")
	}
	return s.deleteAccount(ctx, u, shared)
}

// DeleteAccountConfirmed is DeleteAccount for a caller that has already
// made sure (the user withdrew their consent, an unconfirmed account
// expired).
func (s *Service) DeleteAccountConfirmed(ctx context.Context, u store.User, shared string) error {
	return s.deleteAccount(ctx, u, shared)
}

func (s *Service) deleteAccount(ctx context.Context, u store.User, shared string) error {
	ms, err := s.store.Memberships(ctx, u.ID)
	if err != nil {
		return err
	}
	var sole []string
	for _, m := range ms {
		if m.Role != store.RoleOwner {
			continue
		}
		members, err := s.store.Members(ctx, m.WorkspaceID)
		if err != nil {
			return err
		}
		if len(members) > 1 {
			return fail(KindConflict, "You own the workspace %q, which has other members. Make one of them owner first, then delete your account.", m.WorkspaceName)
		}
		sole = append(sole, m.WorkspaceID)
	}
	sharedVideos, err := s.SharedVideos(ctx, u)
	if err != nil {
		return err
	}
	handOver := map[string]string{} // video id -> new owner
	if len(sharedVideos) > 0 {
		switch shared {
		case SharedToWorkspace:
			for _, v := range sharedVideos {
				owner, err := s.workspaceOwner(ctx, v.WorkspaceID)
				if err != nil {
					return err
				}
				handOver[v.ID] = owner
			}
		case SharedDelete:
		default:
			return invalid("shared", "Choose what happens to your %d videos in shared workspace libraries: leave them to the workspace, or delete them.", len(sharedVideos))
		}
	}
	for _, fn := range s.erasers {
		if err := fn(ctx, u); err != nil {
			return fmt.Errorf("delete account %s: %w", u.ID, err)
		}
	}
	videos, err := s.store.VideosOwnedBy(ctx, u.ID)
	if err != nil {
		return err
	}
	deleted := 0
	for _, v := range videos {
		if to, ok := handOver[v.ID]; ok {
			if err := s.store.SetVideoOwner(ctx, v.ID, to); err != nil {
				return fmt.Errorf("delete account %s: hand over video %s: %w", u.ID, v.ID, err)
			}
			continue
		}
		if err := s.videos.DeleteVideo(ctx, v.ID); err != nil {
			return fmt.Errorf("delete account %s: %w", u.ID, err)
		}
		deleted++
	}
	for _, id := range sole {
		if err := s.deleteWorkspace(ctx, id); err != nil {
			return fmt.Errorf("delete account %s: %w", u.ID, err)
		}
	}
	if err := s.store.DeleteInvitationsTo(ctx, u.EmailNorm); err != nil {
		return fmt.Errorf("delete account %s: %w", u.ID, err)
	}
	if err := s.store.DeleteRateLimits(ctx, UserLimitKeys(u)); err != nil {
		return fmt.Errorf("delete account %s: %w", u.ID, err)
	}
	// The row last: sessions, device tokens, sign-ins, identities, tokens
	// and memberships go with it by cascade.
	if err := s.store.DeleteUser(ctx, u.ID); err != nil {
		return fmt.Errorf("delete account %s: %w", u.ID, err)
	}
	s.deleteBlob(ctx, u.PhotoKey)
	s.log.Info("account deleted", "user_id", u.ID, "videos_deleted", deleted, "videos_handed_over", len(handOver))
	return nil
}

// workspaceOwner is the id of a workspace's (first) owner.
func (s *Service) workspaceOwner(ctx context.Context, wsID string) (string, error) {
	members, err := s.store.Members(ctx, wsID)
	if err != nil {
		return "", err
	}
	for _, m := range members {
		if m.Role == store.RoleOwner {
			return m.UserID, nil
		}
	}
	return "", fmt.Errorf("workspace %s has no owner", wsID)
}

// Identities lists the provider accounts linked to u.
func (s *Service) Identities(ctx context.Context, u store.User) ([]store.Identity, error) {
	return s.store.Identities(ctx, u.ID)
}
