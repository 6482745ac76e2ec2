// Package share decides who may watch a video through its link and
// builds what its share page, embed page and oEmbed answer show.
//
// A link's slug is its capability. On top of it, the owner chooses a
// privacy level: public (the slug is enough), workspace members only, or
// a password; an expiry date (the link answers 410 Gone afterwards);
// whether the MP4 may be downloaded; and rotating the slug (the old link
// stops working). A video the viewer may not see leaks nothing: not its
// title, not its thumbnail, not its Open Graph tags.
//
// Viewers get no cookies. A viewer admitted to a protected video (the
// right password, or a signed-in member) gets a grant instead: a short,
// HMAC-signed, expiring token inside the media URLs
// (/v/{slug}/g/{grant}/playlist.m3u8 and the relative URLs under it), so
// the playlist and every segment are authorised without a database
// lookup of who is asking. A grant names the video, its slug, privacy and
// password hash: rotating the link or changing the password voids it.
package share

import (
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"time"

	"github.com/alexedwards/argon2id"

	"framecast.dev/server/internal/jobs"
	"framecast.dev/server/internal/media"
	"framecast.dev/server/internal/store"
	"framecast.dev/shared/seal"
)

// Kind classifies why a viewer is not shown a video.
type Kind int

const (
	KindNotFound    Kind = iota + 1 // no such link (or not ready): 404
	KindGone                        // the link expired: 410
	KindPassword                    // a password is needed (or was wrong): 401 with the form
	KindSignIn                      // members only, and nobody is signed in: 401
	KindForbidden                   // members only, and the viewer is not one: 403
	KindRateLimited                 // too many password attempts: 429
	KindInvalid                     // the owner's input is not acceptable: 400
)

// Error is a refusal with a message for the viewer. It never carries the
// video's title or anything else about it.
type Error struct {
	Kind       Kind
	Message    string
	Field      string        // for KindInvalid: the form field
	RetryAfter time.Duration // for KindRateLimited
	Wrong      bool          // KindPassword after a wrong password
}

func (e *Error) Error() string { return e.Message }

// IsKind reports whether err is an *Error of kind k.
func IsKind(err error, k Kind) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == k
}

func fail(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

var (
	errNotFound = fail(KindNotFound, "There is no video at this address.")
	errGone     = fail(KindGone, "This link has expired. Ask the person who shared it for a new one.")
)

// Config is what the Service needs.
type Config struct {
	Store   store.Store
	Media   *media.Service
	Jobs    *jobs.Queue // for retries and trims
	KEK     seal.Key    // the grant key is derived from it, so replicas agree
	BaseURL string
	Log     *slog.Logger
	// GrantTTL is how long an admission lasts [6h].
	GrantTTL time.Duration
	// CacheTTL is how long a share page's data (and, for a public video,
	// its HTML) is reused without asking the database [2s; < 0: never].
	// The owner's changes through this Service (settings, rotation,
	// trim, deletion) take effect at once; other changes (workspace
	// logo and buttons, moves between libraries, anything done on another
	// replica) within CacheTTL.
	CacheTTL time.Duration
	Now      func() time.Time
}

// Service answers share-link questions.
type Service struct {
	store    store.Store
	media    *media.Service
	jobs     *jobs.Queue
	grantKey []byte
	baseURL  string
	log      *slog.Logger
	grantTTL time.Duration
	now      func() time.Time
	cache    pageCache
}

// New returns a Service.
func New(c Config) (*Service, error) {
	key, err := hkdf.Key(sha256.New, c.KEK[:], nil, "framecast share grant key v1", 32)
	if err != nil {
		return nil, fmt.Errorf("share: derive grant key: %w", err)
	}
	if c.GrantTTL <= 0 {
		c.GrantTTL = 6 * time.Hour
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.CacheTTL == 0 {
		c.CacheTTL = 2 * time.Second
	}
	return &Service{
		store: c.Store, media: c.Media, jobs: c.Jobs, grantKey: key, baseURL: strings.TrimRight(c.BaseURL, "/"),
		log: c.Log, grantTTL: c.GrantTTL, now: c.Now,
		cache: pageCache{ttl: c.CacheTTL, m: map[string]*cached{}},
	}, nil
}

// Access is a viewer's admission to a video.
type Access struct {
	Page store.SharePage
	// Grant is set for protected videos; media URLs carry it.
	Grant string
	// Owner: the viewer owns the video.
	Owner bool
}

// Public reports whether anyone with the link may watch: only then do
// previews (Open Graph, oEmbed, the e-mail GIF) exist.
func (a Access) Public() bool { return a.Page.Video.Privacy == store.PrivacyPublic }

// MediaBase is the path the player's and page's media URLs hang from.
func (a Access) MediaBase() string {
	if a.Grant != "" {
		return "/v/" + a.Page.Video.Slug + "/g/" + a.Grant
	}
	return "/v/" + a.Page.Video.Slug
}

// lookUp finds a playable (ready, or growing: see store.Video.Growing),
// unexpired video by slug.
func (s *Service) lookUp(ctx context.Context, slug string) (store.SharePage, error) {
	if !media.ValidSlug(slug) {
		return store.SharePage{}, errNotFound
	}
	p, ok := s.cache.get(slug, s.now())
	if !ok {
		var err error
		p, err = s.store.SharePage(ctx, slug)
		if errors.Is(err, store.ErrNotFound) || err == nil && !p.Video.Playable() {
			return store.SharePage{}, errNotFound
		}
		if err != nil {
			return store.SharePage{}, err
		}
		// A video still being imported changes until it is ready: not
		// cached (its viewers are few, and it is ready in seconds).
		if p.Video.State == store.StateReady {
			s.cache.put(slug, p, s.now())
		}
	}
	if s.expired(p.Video) {
		return store.SharePage{}, errGone
	}
	return p, nil
}

func (s *Service) expired(v store.Video) bool {
	return !v.ExpiresAt.IsZero() && !s.now().Before(v.ExpiresAt)
}

// Open decides whether viewer (nil: anonymous) may watch the video at
// slug; a protected video it may watch comes with a fresh grant.
func (s *Service) Open(ctx context.Context, slug string, viewer *store.User) (Access, error) {
	p, err := s.lookUp(ctx, slug)
	if err != nil {
		return Access{}, err
	}
	v := p.Video
	a := Access{Page: p, Owner: viewer != nil && v.OwnerID != "" && viewer.ID == v.OwnerID}
	switch v.Privacy {
	case store.PrivacyPublic:
		return a, nil
	case store.PrivacyPassword:
		if !a.Owner {
			return Access{}, fail(KindPassword, "This video is protected by a password.")
		}
	case store.PrivacyWorkspace:
		ok, err := s.isMember(ctx, v, viewer)
		if err != nil {
			return Access{}, err
		}
		if !ok && viewer == nil {
			return Access{}, fail(KindSignIn, "This video is shared with the members of a workspace. Sign in to watch it.")
		}
		if !ok {
			return Access{}, fail(KindForbidden, "This video is shared with the members of a workspace, and your account is not one of them.")
		}
	default:
		return Access{}, errNotFound
	}
	a.Grant = s.mintGrant(v, s.now().Add(s.grantTTL))
	return a, nil
}

// isMember: the owner, or a member of the video's workspace.
func (s *Service) isMember(ctx context.Context, v store.Video, u *store.User) (bool, error) {
	if u == nil {
		return false, nil
	}
	if v.OwnerID != "" && u.ID == v.OwnerID {
		return true, nil
	}
	if v.WorkspaceID == "" {
		return false, nil
	}
	_, err := s.store.Member(ctx, v.WorkspaceID, u.ID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Password attempts are limited per viewer address and video, and per
// video overall (against guessing spread over many addresses).
const (
	passwordTriesPerIP    = 10
	passwordIPWindow      = 15 * time.Minute
	passwordTriesPerVideo = 100
	passwordVideoWindow   = time.Hour
)

// Unlock checks a password for the video at slug. ip only feeds the rate
// limit (hashed; it is never stored as is).
func (s *Service) Unlock(ctx context.Context, slug, password, ip string) (Access, error) {
	p, err := s.lookUp(ctx, slug)
	if err != nil {
		return Access{}, err
	}
	v := p.Video
	if v.Privacy != store.PrivacyPassword {
		// Public or members only: the password form does not apply.
		return s.Open(ctx, slug, nil)
	}
	if err := s.limit(ctx, "share-pw-ip", passwordTriesPerIP, passwordIPWindow, v.ID+"\x00"+ip); err != nil {
		return Access{}, err
	}
	if err := s.limit(ctx, "share-pw-video", passwordTriesPerVideo, passwordVideoWindow, v.ID); err != nil {
		return Access{}, err
	}
	ok, err := PasswordMatches(ctx, password, v.PasswordHash)
	if err != nil {
		return Access{}, err
	}
	if !ok {
		e := fail(KindPassword, "That password is not right. Try again.")
		e.Wrong = true
		return Access{}, e
	}
	return Access{Page: p, Grant: s.mintGrant(v, s.now().Add(s.grantTTL))}, nil
}

// limit counts one attempt in a fixed window kept in the database, so
// every replica counts against the same numbers. Keys are HMACs: no
// address is stored.
func (s *Service) limit(ctx context.Context, name string, max int, window time.Duration, key string) error {
	now := s.now()
	start := now.Truncate(window)
	m := hmac.New(sha256.New, s.grantKey)
	m.Write([]byte("rate limit\x00" + key))
	n, err := s.store.HitRateLimit(ctx, name+":"+hex.EncodeToString(m.Sum(nil)[:16]), start, start.Add(window))
	if err != nil {
		return err
	}
	if n > max {
		e := fail(KindRateLimited, "Too many attempts. Wait a few minutes and try again.")
		e.RetryAfter = start.Add(window).Sub(now).Round(time.Second)
		return e
	}
	return nil
}

// Media returns the video whose playlist, segments or derived files are
// asked for: public and unexpired, or with a valid grant.
func (s *Service) Media(ctx context.Context, slug, grant string) (store.Video, error) {
	if !media.ValidSlug(slug) {
		return store.Video{}, errNotFound
	}
	v, err := s.store.VideoBySlug(ctx, slug)
	if errors.Is(err, store.ErrNotFound) || err == nil && !v.Playable() {
		return store.Video{}, errNotFound
	}
	if err != nil {
		return store.Video{}, err
	}
	if s.expired(v) {
		return store.Video{}, errGone
	}
	if grant == "" && v.Privacy == store.PrivacyPublic || grant != "" && s.validGrant(v, grant) {
		return v, nil
	}
	return store.Video{}, errNotFound
}

// Grants: hex(expiry unix seconds) "-" base64url(HMAC-SHA-256[:16]).

func (s *Service) grantMAC(v store.Video, exp int64) []byte {
	m := hmac.New(sha256.New, s.grantKey)
	var e [8]byte
	binary.BigEndian.PutUint64(e[:], uint64(exp))
	for _, part := range []string{"grant v1", v.ID, v.Slug, string(v.Privacy), v.PasswordHash, string(e[:])} {
		m.Write([]byte(part))
		m.Write([]byte{0})
	}
	return m.Sum(nil)[:16]
}

func (s *Service) mintGrant(v store.Video, until time.Time) string {
	exp := until.Unix()
	return fmt.Sprintf("%x-%s", exp, base64.RawURLEncoding.EncodeToString(s.grantMAC(v, exp)))
}

func (s *Service) validGrant(v store.Video, g string) bool {
	if v.Privacy == store.PrivacyPublic || len(g) > 64 {
		return false
	}
	hexExp, mac, ok := strings.Cut(g, "-")
	if !ok || len(hexExp) == 0 || len(hexExp) > 16 {
		return false
	}
	var exp int64
	if _, err := fmt.Sscanf(hexExp, "%x", &exp); err != nil || fmt.Sprintf("%x", exp) != hexExp {
		return false
	}
	if s.now().Unix() >= exp {
		return false
	}
	got, err := base64.RawURLEncoding.DecodeString(mac)
	if err != nil {
		return false
	}
	return hmac.Equal(got, s.grantMAC(v, exp))
}

// Passwords: argon2id with OWASP's parameters (19 MiB, 2 passes), at most
// a few at once so a burst of attempts cannot exhaust memory.

var passwordParams = &argon2id.Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}

var hashing = make(chan struct{}, 2*runtime.NumCPU())

func acquire(ctx context.Context) error {
	select {
	case hashing <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait to hash a password: %w", ctx.Err())
	}
}

// HashPassword hashes a share-link password for storage.
func HashPassword(ctx context.Context, pw string) (string, error) {
	if err := acquire(ctx); err != nil {
		return "", err
	}
	defer func() { <-hashing }()
	h, err := argon2id.CreateHash(pw, passwordParams)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return h, nil
}

// PasswordMatches compares a password with a stored hash; an empty hash
// never matches.
func PasswordMatches(ctx context.Context, pw, hash string) (bool, error) {
	if hash == "" {
		return false, nil
	}
	if err := acquire(ctx); err != nil {
		return false, err
	}
	defer func() { <-hashing }()
	ok, err := argon2id.ComparePasswordAndHash(pw, hash)
	if err != nil {
		return false, fmt.Errorf("compare password: %w", err)
	}
	return ok, nil
}
