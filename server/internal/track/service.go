package track

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	fcmail "framecast.dev/server/internal/mail"
	"framecast.dev/server/internal/store"
)

// Config is what the Service needs.
type Config struct {
	Store store.Store
	Geo   *Geo // nil: no locations
	Log   *slog.Logger
	Now   func() time.Time
	// BatchSize events per transaction [500]; FlushEvery [1s].
	BatchSize  int
	FlushEvery time.Duration
	// FirstView is called (in the batcher's goroutine) with each video
	// whose first view was just written.
	FirstView func(videoID string)
	// Mail sends a message in the background (videos sent by e-mail).
	Mail func(m fcmail.Message)
	// UnsubscribeKey signs recipients' unsubscribe links; BaseURL builds them.
	UnsubscribeKey []byte
	BaseURL        string
	// Guard limits beacons per client (see Guard).
	Guard GuardConfig
}

// Service ingests viewer events and answers the owner's questions.
type Service struct {
	store     store.Store
	geo       *Geo
	log       *slog.Logger
	now       func() time.Time
	batch     *Batcher
	firstView func(string)
	mail      func(fcmail.Message)
	unsubKey  []byte
	baseURL   string
	guard     *Guard // nil: no limits

	saltMu  sync.Mutex
	saltDay int64
	salt    []byte
}

// New starts a Service (and its batcher).
func New(c Config) *Service {
	s := &Service{store: c.Store, geo: c.Geo, log: c.Log, now: c.Now, firstView: c.FirstView, mail: c.Mail,
		unsubKey: c.UnsubscribeKey, baseURL: strings.TrimRight(c.BaseURL, "/")}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.batch = NewBatcher(s.write, c.BatchSize, c.FlushEvery, s.log)
	s.guard = NewGuard(c.Guard, s.now)
	return s
}

// Admit counts a beacon of kind against the client's limits and reports
// whether it may be taken (see Guard); the caller drops it when not.
func (s *Service) Admit(c Client, kind string) bool {
	return s.guard == nil || s.guard.Admit(c, kind)
}

func (s *Service) write(ctx context.Context, events []store.TrackEvent) error {
	firsts, err := s.store.RecordTrackEvents(ctx, events)
	if err != nil {
		return err
	}
	if s.firstView != nil {
		for _, id := range firsts {
			s.firstView(id)
		}
	}
	return nil
}

// Close writes the events still waiting (until ctx ends).
func (s *Service) Close(ctx context.Context) error { return s.batch.Close(ctx) }

// Flush writes the events waiting now (tests and the analytics page,
// which should show what just happened).
func (s *Service) Flush(ctx context.Context) {
	s.batch.flush(ctx)
}

// HasGeo reports whether locations are looked up.
func (s *Service) HasGeo() bool { return s.geo != nil }

// Beacon is what the share page sends (navigator.sendBeacon, JSON).
type Beacon struct {
	View     string `json:"view"` // 32 hex digits, random per page load
	Kind     string `json:"k"`
	Seconds  []int  `json:"s,omitempty"` // progress: newly watched 1-second buckets
	Prev     int    `json:"p,omitempty"` // progress: watched seconds before
	Watched  int    `json:"n,omitempty"` // progress: and now
	Button   *int   `json:"b,omitempty"` // cta: its position
	Referrer string `json:"r,omitempty"` // start: the referring page's host
	// Recipient is the secret of a personal link (?r=) the page was
	// opened with (start only).
	Recipient string `json:"rcp,omitempty"`
	DNT       bool   `json:"dnt,omitempty"`
}

// Client is who sent a beacon, as the HTTP layer saw them.
type Client struct {
	IP        string // used for the viewer hash and the location; never kept
	UserAgent string
	DNT       bool // DNT: 1
	GPC       bool // Sec-GPC: 1
}

// Error is a beacon refused; its message says why.
type Error struct{ Message string }

func (e *Error) Error() string { return e.Message }

func invalid(format string, args ...any) error { return &Error{Message: fmt.Sprintf(format, args...)} }

// Limits on what a beacon may carry.
const (
	maxSecondsPerBeacon = 3600
	maxButtons          = 3
)

// Target is the video a beacon is about, as the share side admitted it.
type Target struct {
	Video    store.Video
	Duration float64 // seconds, as played (a trim's length)
	Buttons  int     // call-to-action buttons on its page
}

// Ingest checks a beacon and queues it as an event. What is kept is
// decided when the batch is written, by the video's level then.
func (s *Service) Ingest(ctx context.Context, t Target, b Beacon, c Client) error {
	if len(b.View) != 32 || strings.Trim(b.View, "0123456789abcdef") != "" {
		return invalid("The view id must be 32 hexadecimal digits.")
	}
	now := s.now()
	e := store.TrackEvent{VideoID: t.Video.ID, ViewID: b.View, Kind: b.Kind, At: now, Capped: c.DNT || c.GPC || b.DNT}
	last := int(math.Ceil(t.Duration)) + 1 // players may report a little past the end
	switch b.Kind {
	case store.EventStart:
		if s.guard != nil && !s.guard.start(c, t.Video.ID, b.View, b.Recipient) {
			return nil // the same client started this video a moment ago: one view
		}
		salt, err := s.saltFor(ctx, store.DayOf(now))
		if err != nil {
			return err
		}
		e.Viewer = ViewerHash(salt, c.IP, c.UserAgent, t.Video.ID)
		e.Country, e.City = s.geo.Lookup(c.IP)
		if e.Capped {
			e.City = "" // a capped view is anonymous: the country at most
		}
		e.Device = DeviceClass(c.UserAgent)
		e.Referrer = ReferrerDomain(b.Referrer)
		if b.Recipient != "" && !e.Capped && len(b.Recipient) <= 64 {
			r, err := s.store.RecipientByToken(ctx, t.Video.ID, RecipientTokenHash(b.Recipient))
			if err == nil {
				e.Recipient = r.ID
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
	case store.EventProgress:
		if len(b.Seconds) == 0 || len(b.Seconds) > maxSecondsPerBeacon {
			return invalid("A progress beacon carries 1 to %d seconds.", maxSecondsPerBeacon)
		}
		secs := slices.Clone(b.Seconds)
		slices.Sort(secs)
		secs = slices.Compact(secs)
		if secs[0] < 0 || secs[len(secs)-1] > last {
			return invalid("A watched second is outside the video.")
		}
		if b.Prev < 0 || b.Watched < b.Prev || b.Watched > last+1 {
			return invalid("The watched time is not possible.")
		}
		e.Seconds, e.Watched = secs, b.Watched
		e.PrevBucket, e.Bucket = -1, Tenth(b.Watched, t.Duration)
		if b.Prev > 0 {
			e.PrevBucket = Tenth(b.Prev, t.Duration)
		}
	case store.EventFinish:
	case store.EventCTA:
		if b.Button == nil || *b.Button < 0 || *b.Button >= min(t.Buttons, maxButtons) {
			return invalid("There is no such button.")
		}
		e.Button = *b.Button
	default:
		return invalid("Unknown event kind %q.", truncate(b.Kind, 16))
	}
	if s.guard != nil && b.Kind != store.EventStart {
		id, started := s.guard.view(t.Video.ID, b.View)
		switch {
		case started:
			e.ViewID = id
		case b.Kind == store.EventCTA:
			// A button clicked before the video was played is a click,
			// but not a view: it counts with no per-view row.
			e.ViewID = ""
		default:
			return nil // progress or finish of a view never started: nothing
		}
	}
	if err := s.batch.Add(e); err != nil {
		return fmt.Errorf("queue viewer event: %w", err)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// Tenth is the histogram bucket (0..9) of a view that watched seconds of
// a video lasting duration.
func Tenth(seconds int, duration float64) int {
	if duration <= 0 {
		return 0
	}
	t := int(10 * float64(seconds) / duration)
	return max(0, min(9, t))
}

// ViewerHash counts a viewer once per video per day. With the salt
// destroyed at the end of the day it cannot be recomputed or linked.
func ViewerHash(salt []byte, ip, ua, videoID string) string {
	h := sha256.New()
	h.Write(salt)
	for _, s := range []string{ip, ua, videoID} {
		h.Write([]byte{0})
		h.Write([]byte(s))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// saltFor returns the day's salt, asking the database once a day.
func (s *Service) saltFor(ctx context.Context, day int64) ([]byte, error) {
	s.saltMu.Lock()
	defer s.saltMu.Unlock()
	if s.salt != nil && s.saltDay == day {
		return s.salt, nil
	}
	fresh := make([]byte, 32)
	rand.Read(fresh)
	salt, err := s.store.DailySalt(ctx, day, fresh)
	if err != nil {
		return nil, fmt.Errorf("viewer salt: %w", err)
	}
	clear(fresh)
	if s.salt != nil {
		clear(s.salt) // yesterday's, gone from the database too
	}
	s.salt, s.saltDay = salt, day
	return salt, nil
}

// Level is the level in force for a video.
func (s *Service) Level(ctx context.Context, videoID string) (string, error) {
	ts, err := s.store.TrackSettings(ctx, videoID)
	if err != nil {
		return "", err
	}
	return ts.Effective(), nil
}

// IsInvalid reports whether err is a refused beacon or setting.
func IsInvalid(err error) bool {
	var e *Error
	return errors.As(err, &e)
}

// SetVideoLevel sets a video's override ("" follows the owner's
// default); what the level then in force would not store is deleted in
// the same transaction. Events already queued are written first, so
// none written afterwards escapes the deletion.
func (s *Service) SetVideoLevel(ctx context.Context, videoID, level string) error {
	if level != "" && !Valid(level) {
		return invalid("Unknown tracking level %q.", truncate(level, 16))
	}
	s.Flush(ctx)
	if err := s.store.SetVideoTracking(ctx, videoID, level); err != nil {
		return err
	}
	s.log.Info("tracking level set", "video_id", videoID, "level", level)
	return nil
}

// SetAccountLevel sets a user's default level and first-view mail
// choice; their videos that follow the default lose at once what the new
// level would not store.
func (s *Service) SetAccountLevel(ctx context.Context, userID, level string, notifyFirstView bool) error {
	if !Valid(level) {
		return invalid("Unknown tracking level %q.", truncate(level, 16))
	}
	s.Flush(ctx)
	if err := s.store.SetAccountTracking(ctx, userID, level, notifyFirstView); err != nil {
		return err
	}
	s.log.Info("default tracking level set", "user_id", userID, "level", level, "first_view_mail", notifyFirstView)
	return nil
}

// Settings reads a video's tracking settings.
func (s *Service) Settings(ctx context.Context, videoID string) (store.TrackSettings, error) {
	return s.store.TrackSettings(ctx, videoID)
}
