package privacy

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"time"

	"framecast.dev/server/internal/store"
)

// Restriction and mail preferences.
//
// Restricting processing (GDPR art. 18) means: Framecast keeps the
// user's data but uses it for nothing beyond keeping it and what the
// user asks for themselves. Precisely, while it is on:
//   - viewers of the user's videos are not tracked at all (as the Off
//     level: no per-view rows, no counts), whatever the videos' levels;
//   - no informational (non-transactional) mail is sent to the user:
//     minor policy notices, first-view notices and the like;
//   - what stays: signing in, uploading and playing videos, and the
//     mails the user's own actions need or the law demands (address
//     confirmation, password reset, invitations they are sent, exports
//     they ask for, notice of a major policy change).
// Informational mail can also be turned off on its own, from the
// privacy page or with one click from any such mail (List-Unsubscribe).

// More audit actions.
const (
	ActionRestricted   = "restriction-on"
	ActionUnrestricted = "restriction-off"
	ActionMailOff      = "mail-off"
	ActionMailOn       = "mail-on"
)

// Settings returns u's privacy choices.
func (s *Service) Settings(ctx context.Context, u store.User) (store.PrivacySettings, error) {
	return s.store.PrivacySettings(ctx, u.ID)
}

// Restricted reports whether the user restricted processing of their
// data (tracking of their videos' viewers must then stop).
func (s *Service) Restricted(ctx context.Context, userID string) (bool, error) {
	ps, err := s.store.PrivacySettings(ctx, userID)
	return ps.Restricted(), err
}

// MayMailOptional reports whether an informational mail may go to the
// user: they want such mail and did not restrict processing.
func (s *Service) MayMailOptional(ctx context.Context, userID string) (bool, error) {
	ps, err := s.store.PrivacySettings(ctx, userID)
	return err == nil && ps.OptionalMail && !ps.Restricted(), err
}

// SetRestricted turns the restriction of processing on or off.
func (s *Service) SetRestricted(ctx context.Context, u store.User, on bool) error {
	ps, err := s.store.PrivacySettings(ctx, u.ID)
	if err != nil {
		return err
	}
	if on == ps.Restricted() {
		return nil
	}
	if on {
		ps.RestrictedAt = s.now().UTC()
	} else {
		ps.RestrictedAt = time.Time{}
	}
	if err := s.store.SetPrivacySettings(ctx, ps); err != nil {
		return err
	}
	if on {
		s.audit(ctx, u.ID, ActionRestricted, "You restricted the processing of your data: your videos' viewers are not tracked and you get no informational mail.")
	} else {
		s.audit(ctx, u.ID, ActionUnrestricted, "You lifted the restriction of processing.")
	}
	return nil
}

// SetOptionalMail turns informational mail on or off.
func (s *Service) SetOptionalMail(ctx context.Context, u store.User, on bool) error {
	return s.setOptionalMail(ctx, u.ID, on, "")
}

func (s *Service) setOptionalMail(ctx context.Context, userID string, on bool, how string) error {
	ps, err := s.store.PrivacySettings(ctx, userID)
	if err != nil {
		return err
	}
	if ps.OptionalMail == on {
		return nil
	}
	ps.OptionalMail = on
	if err := s.store.SetPrivacySettings(ctx, ps); err != nil {
		return err
	}
	if on {
		s.audit(ctx, userID, ActionMailOn, "You turned informational mail on.")
	} else {
		s.audit(ctx, userID, ActionMailOff, "You turned informational mail off"+how+".")
	}
	return nil
}

// UnsubscribeURL is the one-click link that stops informational mail to
// the user; it goes in such mails' List-Unsubscribe header and footer.
// Anyone holding the mail may use it, so it does nothing else.
func (s *Service) UnsubscribeURL(userID string) string {
	return s.baseURL + "/unsubscribe/" + userID + "-" + s.unsubscribeMAC(userID)
}

func (s *Service) unsubscribeMAC(userID string) string {
	key := sha256.Sum256(append([]byte("framecast unsubscribe key\x00"), s.kek[:]...))
	m := hmac.New(sha256.New, key[:])
	m.Write([]byte(userID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// Unsubscribe turns informational mail off for the user a token names.
func (s *Service) Unsubscribe(ctx context.Context, token string) error {
	userID, mac, ok := strings.Cut(token, "-")
	bad := fail(KindNotFound, "This unsubscribe link is not valid. Change your mail preferences on the privacy page instead.")
	if !ok || len(userID) != 26 || !hmac.Equal([]byte(mac), []byte(s.unsubscribeMAC(userID))) {
		return bad
	}
	if _, err := s.store.User(ctx, userID); err != nil {
		return bad
	}
	return s.setOptionalMail(ctx, userID, false, " with the link in a mail")
}
