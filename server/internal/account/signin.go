package account

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"framecast.dev/server/internal/secrets"
	"framecast.dev/server/internal/store"
)

// Lifetimes.
const (
	SessionTTL   = 30 * 24 * time.Hour // sliding: each use extends it
	sessionTouch = time.Hour           // how often a use is written back
	verifyTTL    = 24 * time.Hour
	resetTTL     = time.Hour
)

// SignUpInput is what the sign-up form asks.
type SignUpInput struct {
	Name, Email, Password, Phone, Company string
	// PolicyVersion is the privacy policy version the form showed, which
	// signing up accepts ("" for the current one).
	PolicyVersion string
}

// SignUp registers an account and mails a link to confirm the address.
// The answer is the same, and takes as long, whether the address already
// has an account or not: every sign-up queues one job, which does the
// checks and queues the mail afterwards (see mailjobs.go). An
// address that has a confirmed account gets a mail saying so; one with an
// unconfirmed account gets the new details and a fresh link.
func (s *Service) SignUp(ctx context.Context, in SignUpInput, cl Client) error {
	if err := s.allow(ctx, limitSignUpIP, cl.IP); err != nil {
		return err
	}
	var (
		u   store.User
		err error
	)
	if u.Name, err = cleanName(in.Name); err != nil {
		return err
	}
	if u.EmailNorm, err = normalizeEmail(in.Email); err != nil {
		return err
	}
	u.Email, _ = cleanText("email", "e-mail address", in.Email, MaxEmailLen, true)
	if err := checkPassword("password", in.Password); err != nil {
		return err
	}
	if u.Phone, err = cleanPhone(in.Phone); err != nil {
		return err
	}
	if u.Company, err = cleanCompany(in.Company); err != nil {
		return err
	}
	if u.PasswordHash, err = hashPassword(ctx, in.Password); err != nil {
		return err
	}
	return s.enqueue(ctx, JobSignUp, signUpArgs{User: u, Policy: in.PolicyVersion, At: s.now().UTC()})
}

func (s *Service) register(ctx context.Context, u store.User, policy string, at time.Time) error {
	now := s.now().UTC()
	old, err := s.store.UserByEmail(ctx, u.EmailNorm)
	switch {
	case errors.Is(err, store.ErrNotFound):
		u.ID, u.CreatedAt, u.UpdatedAt = secrets.NewID(), now, now
		err := s.store.CreateUser(ctx, u)
		if errors.Is(err, store.ErrConflict) {
			return nil // a sign-up for the same address won the race; it sent the mail
		}
		if err != nil {
			return err
		}
		s.log.Info("account created", "user_id", u.ID)
		s.signedUp(ctx, u, policy, at)
		return s.sendVerification(ctx, u, u.Email, false)
	case err != nil:
		return err
	case old.Verified():
		// Limited like confirmation mails, so sign-ups cannot flood an inbox.
		if err := s.allow(ctx, limitVerifyUser, old.ID); err != nil {
			return nil
		}
		return s.send(ctx, forUser(existingAccountMail(old.Email, old.Name, s.link("/signin"), s.link("/reset")), old.ID))
	default:
		// Never confirmed: whoever reads the mail decides. The details of
		// the latest sign-up replace the earlier ones.
		old.Name, old.Phone, old.Company, old.PasswordHash, old.UpdatedAt = u.Name, u.Phone, u.Company, u.PasswordHash, now
		if err := s.store.UpdateUser(ctx, old); err != nil {
			return err
		}
		s.signedUp(ctx, old, policy, at)
		return s.sendVerification(ctx, old, old.Email, false)
	}
}

// sendVerification mails a link confirming that addr belongs to u. For a
// new address (change) the link, once opened, makes addr the account's.
func (s *Service) sendVerification(ctx context.Context, u store.User, addr string, change bool) error {
	if err := s.allow(ctx, limitVerifyUser, u.ID); err != nil {
		return err
	}
	secret := secrets.NewToken()
	now := s.now().UTC()
	err := s.store.CreateUserToken(ctx, store.UserToken{TokenHash: secrets.Hash(secret), UserID: u.ID, Purpose: store.TokenVerify,
		Email: addr, CreatedAt: now, ExpiresAt: now.Add(verifyTTL)})
	if err != nil {
		return err
	}
	link := s.link("/verify/" + secret)
	if change {
		return s.send(ctx, forUser(emailChangeMail(addr, u.Name, link), u.ID))
	}
	return s.send(ctx, forUser(verifyMail(addr, u.Name, link), u.ID))
}

// VerifyEmail opens a confirmation link: the address it was sent to
// becomes the account's confirmed address.
func (s *Service) VerifyEmail(ctx context.Context, secret string) (store.User, error) {
	bad := fail(KindNotFound, "This confirmation link is not valid any more. Sign in to get a new one.")
	if !validSecret(secret) {
		return store.User{}, bad
	}
	tok, err := s.store.ConsumeUserToken(ctx, secrets.Hash(secret), store.TokenVerify, s.now())
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, bad
	}
	if err != nil {
		return store.User{}, err
	}
	u, err := s.store.User(ctx, tok.UserID)
	if err != nil {
		return store.User{}, storeErr(err, bad.Message)
	}
	norm, err := normalizeEmail(tok.Email)
	if err != nil {
		return store.User{}, bad
	}
	now := s.now().UTC()
	u.Email, u.EmailNorm, u.EmailVerifiedAt, u.UpdatedAt = tok.Email, norm, now, now
	if err := s.store.UpdateUser(ctx, u); errors.Is(err, store.ErrConflict) {
		return store.User{}, fail(KindConflict, "Another account uses that e-mail address now.")
	} else if err != nil {
		return store.User{}, err
	}
	s.log.Info("e-mail address confirmed", "user_id", u.ID)
	return u, nil
}

// SignIn checks an e-mail address and password and opens a session. Wrong
// address and wrong password get the same answer in the same time.
func (s *Service) SignIn(ctx context.Context, email, password string, cl Client) (string, store.User, error) {
	norm, err := normalizeEmail(email)
	if err != nil {
		return "", store.User{}, err
	}
	if len(password) > MaxPasswordLen {
		return "", store.User{}, invalid("password", "The password is longer than %d bytes.", MaxPasswordLen)
	}
	if err := s.allow(ctx, limitSignInIP, cl.IP); err != nil {
		return "", store.User{}, err
	}
	if err := s.allow(ctx, limitSignInEmail, norm); err != nil {
		return "", store.User{}, err
	}
	u, err := s.store.UserByEmail(ctx, norm)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", store.User{}, err
	}
	ok, err := passwordMatches(ctx, password, u.PasswordHash) // u is empty when there is no account
	if err != nil {
		return "", store.User{}, err
	}
	if !ok {
		return "", store.User{}, fail(KindUnauthorized, "The e-mail address or the password is wrong.")
	}
	if !u.Verified() {
		if err := s.sendVerification(ctx, u, u.Email, false); err != nil && !IsKind(err, KindRateLimited) {
			return "", store.User{}, err
		}
		return "", store.User{}, fail(KindUnverified, "Confirm your e-mail address first: we sent you a link (check your spam folder too).")
	}
	tok, err := s.NewSession(ctx, u.ID, cl)
	if err != nil {
		return "", store.User{}, err
	}
	s.recordSignIn(ctx, u.ID, "password", cl)
	return tok, u, nil
}

// NewSession opens a session for the user and returns its secret (the
// cookie value).
func (s *Service) NewSession(ctx context.Context, userID string, cl Client) (string, error) {
	secret := secrets.NewToken()
	now := s.now().UTC()
	ua := cl.UserAgent
	if len(ua) > 256 {
		ua = ua[:256]
	}
	err := s.store.CreateSession(ctx, store.Session{TokenHash: secrets.Hash(secret), UserID: userID, CreatedAt: now,
		LastSeenAt: now, ExpiresAt: now.Add(SessionTTL), IP: TruncateIP(cl.IP), UserAgent: ua})
	if err != nil {
		return "", fmt.Errorf("new session: %w", err)
	}
	return secret, nil
}

// recordSignIn keeps a successful sign-in in the user's history. A
// failure to record is logged, not fatal: the person did sign in.
func (s *Service) recordSignIn(ctx context.Context, userID, method string, cl Client) {
	ua := cl.UserAgent
	if len(ua) > 256 {
		ua = ua[:256]
	}
	err := s.store.RecordSignIn(ctx, store.SignIn{ID: secrets.NewID(), UserID: userID, At: s.now().UTC(), Method: method,
		IP: TruncateIP(cl.IP), UserAgent: ua})
	if err != nil {
		s.log.Warn("recording a sign-in failed", "user_id", userID, "err", err)
	}
	s.log.Info("signed in", "user_id", userID, "method", method)
}

// SignIns returns the user's latest sign-ins, newest first.
func (s *Service) SignIns(ctx context.Context, u store.User, limit int) ([]store.SignIn, error) {
	return s.store.SignIns(ctx, u.ID, limit)
}

// Session returns the signed-in user of a session cookie, extending the
// session now and then; extended says the cookie should be renewed too.
func (s *Service) Session(ctx context.Context, secret string) (u store.User, extended bool, err error) {
	if !validSecret(secret) {
		return store.User{}, false, fail(KindUnauthorized, "Sign in first.")
	}
	h := secrets.Hash(secret)
	now := s.now().UTC()
	se, err := s.store.Session(ctx, h, now)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, false, fail(KindUnauthorized, "Your session ended. Sign in again.")
	}
	if err != nil {
		return store.User{}, false, err
	}
	u, err = s.store.User(ctx, se.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, false, fail(KindUnauthorized, "Sign in first.")
	}
	if err != nil {
		return store.User{}, false, err
	}
	if now.Sub(se.LastSeenAt) > sessionTouch {
		if err := s.store.TouchSession(ctx, h, now, now.Add(SessionTTL)); err != nil {
			s.log.Warn("extending a session failed", "user_id", u.ID, "err", err)
		} else {
			extended = true
		}
	}
	return u, extended, nil
}

// SignOut ends the session.
func (s *Service) SignOut(ctx context.Context, secret string) error {
	if !validSecret(secret) {
		return nil
	}
	return s.store.DeleteSession(ctx, secrets.Hash(secret))
}

// RequestReset mails a password-reset link if the address has an account.
// The answer is the same either way, and so is its timing: every request
// queues one job, which looks the address up and queues the mail after it.
func (s *Service) RequestReset(ctx context.Context, email string, cl Client) error {
	norm, err := normalizeEmail(email)
	if err != nil {
		return err
	}
	if err := s.allow(ctx, limitResetIP, cl.IP); err != nil {
		return err
	}
	if err := s.allow(ctx, limitResetEmail, norm); err != nil {
		return err
	}
	return s.enqueue(ctx, JobReset, resetArgs{EmailNorm: norm})
}

// reset mails a reset link to the account of an address, if there is one.
func (s *Service) reset(ctx context.Context, norm string) error {
	u, err := s.store.UserByEmail(ctx, norm)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	secret := secrets.NewToken()
	now := s.now().UTC()
	if err := s.store.CreateUserToken(ctx, store.UserToken{TokenHash: secrets.Hash(secret), UserID: u.ID, Purpose: store.TokenReset,
		Email: u.Email, CreatedAt: now, ExpiresAt: now.Add(resetTTL)}); err != nil {
		return err
	}
	return s.send(ctx, forUser(resetMail(u.Email, u.Name, s.link("/reset/"+secret)), u.ID))
}

// ResetPassword sets a new password with a reset link's secret, signs the
// account out everywhere and confirms its address (the link proved it).
func (s *Service) ResetPassword(ctx context.Context, secret, password string) (store.User, error) {
	bad := fail(KindNotFound, "This reset link is not valid any more (it works once, for an hour). Ask for a new one.")
	if err := checkPassword("password", password); err != nil {
		return store.User{}, err
	}
	if !validSecret(secret) {
		return store.User{}, bad
	}
	hash, err := hashPassword(ctx, password)
	if err != nil {
		return store.User{}, err
	}
	tok, err := s.store.ConsumeUserToken(ctx, secrets.Hash(secret), store.TokenReset, s.now())
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, bad
	}
	if err != nil {
		return store.User{}, err
	}
	u, err := s.store.User(ctx, tok.UserID)
	if err != nil {
		return store.User{}, storeErr(err, bad.Message)
	}
	if tok.Email != u.Email {
		return store.User{}, bad // the address changed since the link was sent
	}
	now := s.now().UTC()
	u.PasswordHash, u.UpdatedAt = hash, now
	if !u.Verified() {
		u.EmailVerifiedAt = now
	}
	if err := s.store.UpdateUser(ctx, u); err != nil {
		return store.User{}, err
	}
	if err := s.store.DeleteUserSessions(ctx, u.ID, ""); err != nil {
		return store.User{}, err
	}
	if err := s.store.DeleteUserTokens(ctx, u.ID, store.TokenReset); err != nil {
		return store.User{}, err
	}
	s.log.Info("password reset", "user_id", u.ID)
	s.notice(ctx, forUser(passwordChangedMail(u.Email, u.Name, s.link("/reset")), u.ID))
	return u, nil
}

// TruncateIP keeps the network part of an address (/24 for IPv4, /48 for
// IPv6): enough to recognise a place, not a person.
func TruncateIP(ip string) string {
	a := net.ParseIP(ip)
	if a == nil {
		return ""
	}
	if v4 := a.To4(); v4 != nil {
		return v4.Mask(net.CIDRMask(24, 32)).String()
	}
	return a.Mask(net.CIDRMask(48, 128)).String()
}

// SafeNext returns next if it is a local path on this server, else "".
// It guards every redirect that takes a target from a request.
func SafeNext(next string) string {
	if next == "" || len(next) > 1024 || next[0] != '/' || len(next) > 1 && (next[1] == '/' || next[1] == '\\') {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return ""
	}
	for i := 0; i < len(next); i++ {
		if next[i] < 0x20 || next[i] == 0x7f || next[i] == '\\' {
			return ""
		}
	}
	return next
}
