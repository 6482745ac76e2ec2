package account

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"strings"
	"time"

	"framecast.dev/server/internal/secrets"
	"framecast.dev/server/internal/store"
)

// Desktop sign-in, after RFC 8628 (OAuth 2.0 Device Authorization Grant):
// the app asks for a device code and a short user code, shows the code and
// opens the verification page; the signed-in user enters (or confirms) the
// code and approves; the app, polling with the device code, then receives
// a device token once. Device tokens are bearer tokens for the sync API,
// stored only as hashes and revoked from the devices page.

// Device flow settings.
const (
	DeviceCodeTTL      = 10 * time.Minute
	DevicePollInterval = 5 * time.Second
	slowDownStep       = 5 * time.Second
	MaxDeviceNameLen   = 100
	DeviceTokenPrefix  = "fcd_" // makes leaked tokens easy to recognise (secret scanners)
	deviceTouch        = time.Minute
)

// userCodeAlphabet has no vowels (no words) and no look-alikes (RFC 8628
// section 6.1): 20^8 ≈ 2^34.6 codes, guessed at most 20 per 10 minutes.
const userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

// DeviceAuthorization is the answer to a desktop app starting sign-in.
type DeviceAuthorization struct {
	DeviceCode string
	UserCode   string // formatted XXXX-XXXX
	ExpiresIn  time.Duration
	Interval   time.Duration
}

// FormatUserCode shows a normalised user code as XXXX-XXXX.
func FormatUserCode(c string) string {
	if len(c) != 8 {
		return c
	}
	return c[:4] + "-" + c[4:]
}

// NormalizeUserCode accepts what people type (lower case, dashes,
// spaces) and returns the 8 letters, or "" when it cannot be a code.
func NormalizeUserCode(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch {
		case r == '-' || r == ' ':
		case strings.ContainsRune(userCodeAlphabet, r):
			b.WriteRune(r)
		default:
			return ""
		}
		if b.Len() > 8 {
			return ""
		}
	}
	if b.Len() != 8 {
		return ""
	}
	return b.String()
}

func newUserCode() string {
	var b [8]byte
	out := make([]byte, 8)
	for i := range out {
		// Rejection sampling keeps the letters uniform.
		for {
			rand.Read(b[i : i+1])
			if b[i] < 240 {
				out[i] = userCodeAlphabet[int(b[i])%len(userCodeAlphabet)]
				break
			}
		}
	}
	return string(out)
}

// StartDeviceAuthorization begins a desktop sign-in.
func (s *Service) StartDeviceAuthorization(ctx context.Context, clientName string, cl Client) (DeviceAuthorization, error) {
	if err := s.allow(ctx, limitDeviceIP, cl.IP); err != nil {
		return DeviceAuthorization{}, err
	}
	name, err := cleanText("client_name", "device name", clientName, MaxDeviceNameLen, false)
	if err != nil {
		return DeviceAuthorization{}, err
	}
	if name == "" {
		name = "Framecast desktop"
	}
	now := s.now().UTC()
	secret := secrets.NewToken()
	for range 5 {
		code := newUserCode()
		err := s.store.CreateDeviceCode(ctx, store.DeviceCode{CodeHash: secrets.Hash(secret), UserCode: code, ClientName: name,
			Interval: DevicePollInterval, CreatedAt: now, ExpiresAt: now.Add(DeviceCodeTTL)})
		if errors.Is(err, store.ErrConflict) {
			continue // user code in use: draw another
		}
		if err != nil {
			return DeviceAuthorization{}, err
		}
		return DeviceAuthorization{DeviceCode: secret, UserCode: FormatUserCode(code), ExpiresIn: DeviceCodeTTL, Interval: DevicePollInterval}, nil
	}
	return DeviceAuthorization{}, errors.New("start device authorization: no free user code after 5 draws")
}

// PendingDevice is what the approval page shows about a code.
type PendingDevice struct {
	UserCode   string // formatted
	ClientName string
	CreatedAt  time.Time
}

// LookUpUserCode finds the pending sign-in a user typed the code of.
// Attempts are limited per user, so codes cannot be guessed.
func (s *Service) LookUpUserCode(ctx context.Context, u store.User, code string) (PendingDevice, error) {
	if err := s.allow(ctx, limitUserCode, u.ID); err != nil {
		return PendingDevice{}, err
	}
	n := NormalizeUserCode(code)
	if n == "" {
		return PendingDevice{}, invalid("code", "A code has 8 letters, like BCDF-GHJK.")
	}
	d, err := s.store.DeviceCodeByUserCode(ctx, n, s.now())
	if errors.Is(err, store.ErrNotFound) || err == nil && d.Status != store.DeviceCodePending {
		return PendingDevice{}, fail(KindNotFound, "No sign-in is waiting for that code. Check the code the app shows, or start again from the app.")
	}
	if err != nil {
		return PendingDevice{}, err
	}
	return PendingDevice{UserCode: FormatUserCode(d.UserCode), ClientName: d.ClientName, CreatedAt: d.CreatedAt}, nil
}

// DecideDevice approves or denies a pending desktop sign-in for u.
func (s *Service) DecideDevice(ctx context.Context, u store.User, code string, approve bool) error {
	if _, err := s.LookUpUserCode(ctx, u, code); err != nil {
		return err
	}
	err := s.store.DecideDeviceCode(ctx, NormalizeUserCode(code), u.ID, approve, s.now())
	if errors.Is(err, store.ErrNotFound) {
		return fail(KindNotFound, "That sign-in was already decided or has expired.")
	}
	if err != nil {
		return err
	}
	s.log.Info("desktop sign-in decided", "user_id", u.ID, "approved", approve)
	return nil
}

// IssuedDevice is the answer of a successful poll.
type IssuedDevice struct {
	Token  string
	Device store.Device
	User   store.User
}

// PollDevice is the app's poll with its device code. It answers
// KindAuthorizationPending until the user decides, KindSlowDown when
// polled faster than the interval (which grows by 5 s each time),
// KindAccessDenied, KindExpired, and on approval the device token, once.
func (s *Service) PollDevice(ctx context.Context, deviceCode string, cl Client) (IssuedDevice, error) {
	expired := fail(KindExpired, "This sign-in expired or was already used. Start again.")
	if !validSecret(deviceCode) {
		return IssuedDevice{}, expired
	}
	h := secrets.Hash(deviceCode)
	d, err := s.store.DeviceCode(ctx, h)
	if errors.Is(err, store.ErrNotFound) {
		return IssuedDevice{}, expired
	}
	if err != nil {
		return IssuedDevice{}, err
	}
	now := s.now().UTC()
	if !now.Before(d.ExpiresAt) || d.Status == store.DeviceCodeRedeemed {
		return IssuedDevice{}, expired
	}
	interval := d.Interval
	tooSoon := !d.LastPolledAt.IsZero() && now.Sub(d.LastPolledAt) < d.Interval
	if tooSoon {
		interval += slowDownStep
	}
	if err := s.store.PollDeviceCode(ctx, h, now, interval); err != nil {
		return IssuedDevice{}, err
	}
	if tooSoon {
		return IssuedDevice{}, &Error{Kind: KindSlowDown, RetryAfter: interval,
			Message: "Polling too fast; wait the interval (now " + interval.String() + ") between polls."}
	}
	switch d.Status {
	case store.DeviceCodePending:
		return IssuedDevice{}, &Error{Kind: KindAuthorizationPending, RetryAfter: interval,
			Message: "Waiting for the user to approve the sign-in in the browser."}
	case store.DeviceCodeDenied:
		return IssuedDevice{}, fail(KindAccessDenied, "The sign-in was denied in the browser.")
	}
	u, err := s.store.User(ctx, d.UserID)
	if err != nil {
		return IssuedDevice{}, storeErr(err, expired.Message)
	}
	token := DeviceTokenPrefix + secrets.NewToken()
	dev := store.Device{ID: secrets.NewID(), UserID: u.ID, Name: d.ClientName, TokenHash: secrets.Hash(token), CreatedAt: now}
	if err := s.store.RedeemDeviceCode(ctx, h, dev); errors.Is(err, store.ErrNotFound) {
		return IssuedDevice{}, expired // another poll got it
	} else if err != nil {
		return IssuedDevice{}, err
	}
	s.recordSignIn(ctx, u.ID, "device", cl)
	return IssuedDevice{Token: token, Device: dev, User: u}, nil
}

// PlaceholderDeviceID is the Device.ID of the configured placeholder token.
const PlaceholderDeviceID = "placeholder"

// AuthenticateDevice returns the user and device a bearer token belongs
// to, or KindUnauthorized.
func (s *Service) AuthenticateDevice(ctx context.Context, token string) (store.User, store.Device, error) {
	unauth := fail(KindUnauthorized, "A valid device token is required (Authorization: Bearer <token>). Sign in from the desktop app.")
	if s.placeholder != nil && subtle.ConstantTimeCompare([]byte(token), s.placeholder) == 1 {
		u, err := s.placeholderUser(ctx)
		if err != nil {
			return store.User{}, store.Device{}, err
		}
		return u, store.Device{ID: PlaceholderDeviceID, UserID: u.ID, Name: "FRAMECAST_DEVICE_TOKEN"}, nil
	}
	secret, ok := strings.CutPrefix(token, DeviceTokenPrefix)
	if !ok || !validSecret(secret) {
		return store.User{}, store.Device{}, unauth
	}
	d, err := s.store.DeviceByToken(ctx, secrets.Hash(token))
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, store.Device{}, unauth
	}
	if err != nil {
		return store.User{}, store.Device{}, err
	}
	u, err := s.store.User(ctx, d.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, store.Device{}, unauth
	}
	if err != nil {
		return store.User{}, store.Device{}, err
	}
	if now := s.now().UTC(); now.Sub(d.LastUsedAt) > deviceTouch {
		if err := s.store.TouchDevice(ctx, d.ID, now); err != nil {
			s.log.Warn("recording device use failed", "device_id", d.ID, "err", err)
		}
	}
	return u, d, nil
}

// placeholderUser is the account the placeholder token acts for, created
// (without a password; "Forgot password" sets one) when missing.
func (s *Service) placeholderUser(ctx context.Context) (store.User, error) {
	norm, _ := normalizeEmail(s.placeUser)
	u, err := s.store.UserByEmail(ctx, norm)
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return u, err
	}
	now := s.now().UTC()
	u = store.User{ID: secrets.NewID(), Email: strings.TrimSpace(s.placeUser), EmailNorm: norm, Name: "Framecast owner", CreatedAt: now, UpdatedAt: now}
	if err := s.store.CreateUser(ctx, u); errors.Is(err, store.ErrConflict) {
		return s.store.UserByEmail(ctx, norm)
	} else if err != nil {
		return store.User{}, err
	}
	s.log.Info("created the account the placeholder device token acts for", "user_id", u.ID)
	// The server's operator configured this account for themselves: it
	// takes the policy in effect, as signing up does.
	s.signedUp(ctx, u, "", now)
	return u, nil
}

// Devices lists the user's signed-in desktop apps.
func (s *Service) Devices(ctx context.Context, u store.User) ([]store.Device, error) {
	return s.store.Devices(ctx, u.ID)
}

// RevokeDevice signs a device out: its token stops working at once.
func (s *Service) RevokeDevice(ctx context.Context, u store.User, deviceID string) error {
	if !ValidID(deviceID) {
		return fail(KindNotFound, "There is no such device.")
	}
	if err := s.store.DeleteDevice(ctx, u.ID, deviceID); err != nil {
		return storeErr(err, "There is no such device.")
	}
	s.log.Info("device revoked", "user_id", u.ID, "device_id", deviceID)
	return nil
}
