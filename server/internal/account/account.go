// Package account is who is who: users and their passwords, e-mail
// verification and password reset by mail, browser sessions, sign-in with
// OIDC providers, desktop sign-in (a device authorization flow) and the
// device tokens it hands out, profiles, and workspaces with their roles,
// invitations and libraries. It knows nothing of HTTP; httpapi translates.
//
// Everything that must hold across replicas (sessions, rate limits, tokens,
// flows in progress) lives in the store. Secrets (session cookies, tokens,
// codes) are stored only as SHA-256 hashes and never logged.
package account

import (
	"context"
	"crypto/cipher"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"framecast.dev/server/internal/blob"
	"framecast.dev/server/internal/jobs"
	"framecast.dev/server/internal/mail"
	"framecast.dev/server/internal/store"
	"framecast.dev/shared/seal"
)

// Kind classifies errors the HTTP layer maps to answers.
type Kind int

const (
	KindInvalid      Kind = iota + 1 // bad input; Field names the form field
	KindUnauthorized                 // not signed in, or wrong credentials
	KindForbidden                    // signed in, but not allowed
	KindNotFound                     // no such thing (or not visible to the caller)
	KindConflict                     // the state does not allow it (e-mail taken, last owner...)
	KindRateLimited                  // too many attempts; RetryAfter says when to come back
	KindUnverified                   // the e-mail address is not confirmed yet
	KindTooLarge                     // an upload is too large

	// Device flow answers of the token endpoint (RFC 8628 section 3.5).
	KindAuthorizationPending
	KindSlowDown
	KindAccessDenied
	KindExpired
)

// Error is a failure with a message meant for the person using the app.
type Error struct {
	Kind       Kind
	Message    string
	Field      string        // the form field at fault, for KindInvalid
	RetryAfter time.Duration // for KindRateLimited and KindSlowDown
	Err        error         // the cause, for logs only
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

func fail(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

func invalid(field, format string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// IsKind reports whether err is an *Error of kind k.
func IsKind(err error, k Kind) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == k
}

// Videos is what the account needs from the media side: removing a video
// with its blobs.
type Videos interface {
	DeleteVideo(ctx context.Context, id string) error
}

// Config is what the Service needs.
type Config struct {
	Store  store.Store
	Blobs  blob.Store
	Mailer mail.Sender
	Videos Videos
	// Jobs queues account mail (see mailjobs.go); KEK seals its arguments.
	Jobs    *jobs.Queue
	KEK     seal.Key
	BaseURL string
	Log     *slog.Logger
	// Now is the clock; nil means time.Now. Tests move it.
	Now func() time.Time
	// Providers are the OIDC providers users may sign in with.
	Providers []ProviderConfig
	// PlaceholderToken, when set, is accepted as a device token acting for
	// the account with the e-mail PlaceholderUser (created if missing).
	PlaceholderToken string
	PlaceholderUser  string
}

// Service implements the account use cases.
type Service struct {
	store       store.Store
	blobs       blob.Store
	mail        mail.Sender
	jobs        *jobs.Queue
	box         cipher.AEAD // seals account job arguments
	videos      Videos
	baseURL     string
	log         *slog.Logger
	now         func() time.Time
	providers   map[string]*provider
	order       []string // provider names in configuration order
	placeholder []byte
	placeUser   string

	erasers []func(ctx context.Context, u store.User) error                              // see OnDelete
	signUps []func(ctx context.Context, u store.User, policy string, at time.Time) error // see OnSignUp
}

// New returns a Service. OIDC providers are discovered lazily, on first
// use, so a provider that is down does not stop the server starting.
func New(c Config) (*Service, error) {
	if c.Jobs == nil || c.Mailer == nil {
		return nil, errors.New("account: a job queue and a mailer are required")
	}
	box, err := newJobBox(c.KEK)
	if err != nil {
		return nil, fmt.Errorf("account: %w", err)
	}
	s := &Service{
		store:     c.Store,
		blobs:     c.Blobs,
		mail:      c.Mailer,
		jobs:      c.Jobs,
		box:       box,
		videos:    c.Videos,
		baseURL:   strings.TrimRight(c.BaseURL, "/"),
		log:       c.Log,
		now:       c.Now,
		providers: map[string]*provider{},
		placeUser: c.PlaceholderUser,
	}
	if s.now == nil {
		s.now = time.Now
	}
	go dummyHash() // ready before the first sign-in, so that one is not slower
	if c.PlaceholderToken != "" {
		if c.PlaceholderUser == "" {
			s.placeUser = "owner@localhost"
		}
		if _, err := normalizeEmail(s.placeUser); err != nil {
			return nil, fmt.Errorf("account: the placeholder device token needs the e-mail of the account it acts for: %w", err)
		}
		s.placeholder = []byte(c.PlaceholderToken)
	}
	for _, pc := range c.Providers {
		if _, dup := s.providers[pc.Name]; dup {
			return nil, fmt.Errorf("account: provider %q configured twice", pc.Name)
		}
		s.providers[pc.Name] = newProvider(pc, s.baseURL)
		s.order = append(s.order, pc.Name)
	}
	return s, nil
}

// OnSignUp registers fn to run when an account is created by signing
// up (the form, or a first sign-in with an OIDC provider), with the
// privacy policy version the person accepted ("" for the current one)
// and when. A failure is logged; the account stays.
func (s *Service) OnSignUp(fn func(ctx context.Context, u store.User, policy string, at time.Time) error) {
	s.signUps = append(s.signUps, fn)
}

func (s *Service) signedUp(ctx context.Context, u store.User, policy string, at time.Time) {
	for _, fn := range s.signUps {
		if err := fn(ctx, u, policy, at); err != nil {
			s.log.Error("sign-up hook failed", "user_id", u.ID, "err", err)
		}
	}
}

// Client describes who is asking, for rate limits and session records.
type Client struct {
	IP        string
	UserAgent string
}

// ValidID reports whether s has the shape of an id newID makes.
func ValidID(s string) bool {
	if len(s) != 26 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || '2' <= c && c <= '7') {
			return false
		}
	}
	return true
}

// validSecret bounds secrets arriving from outside before they are hashed
// or looked up.
func validSecret(s string) bool {
	if len(s) < 16 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// storeErr turns store.ErrNotFound into a KindNotFound with msg and
// passes other errors on.
func storeErr(err error, msg string) error {
	if errors.Is(err, store.ErrNotFound) {
		return &Error{Kind: KindNotFound, Message: msg, Err: err}
	}
	return err
}

// link builds an absolute URL on this server.
func (s *Service) link(path string) string { return s.baseURL + path }
