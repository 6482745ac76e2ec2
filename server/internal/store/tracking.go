package store

import (
	"context"
	"time"
)

// Tracking levels, as stored (they are shared/api's names).
const (
	TrackFull      = "full"
	TrackAnonymous = "anonymous"
	TrackOff       = "off"
	// TrackDefault is the level of an account that never chose one.
	TrackDefault = TrackAnonymous
)

// Kinds of TrackEvent.
const (
	EventStart    = "start"    // a view began playing
	EventProgress = "progress" // new 1-second buckets were watched
	EventFinish   = "finish"   // the view reached the end
	EventCTA      = "cta"      // a call-to-action button was clicked
)

// TrackEvent is one viewer event, resolved by the track package before it
// is written: it carries no IP address, only what the levels may keep.
// The store decides per video which parts are kept (see RecordTrackEvents).
type TrackEvent struct {
	VideoID string
	ViewID  string // random per page load; ties a Full view's events together
	Kind    string
	At      time.Time
	// Capped: the viewer sent DNT or GPC; the view is Anonymous at most.
	Capped bool

	// EventStart.
	Viewer   string // salted hash that counts a viewer once per video per day
	Country  string // ISO 3166-1 alpha-2, "" unknown
	City     string
	Device   string // desktop, mobile, tablet, bot, other
	Referrer string // domain only
	// Recipient: the recipient whose personal link opened the page
	// (kept on Full view rows only).
	Recipient string

	// EventProgress.
	Seconds    []int // newly watched 1-second buckets
	Watched    int   // the view's watched seconds after this event
	PrevBucket int   // the view's histogram tenth before (-1: none yet)
	Bucket     int   // and after

	// EventCTA.
	Button int
}

// Day is the event's UTC day number.
func (e TrackEvent) Day() int64 { return DayOf(e.At) }

// DayOf is a time's UTC day number (days since 1970-01-01).
func DayOf(t time.Time) int64 { return t.UTC().Unix() / 86400 }

// DayTime is the start of a day number.
func DayTime(day int64) time.Time { return time.Unix(day*86400, 0).UTC() }

// TrackDay is one day of a video's (or a library's) counts.
type TrackDay struct {
	Day            int64
	Views          int
	Viewers        int
	Finishes       int
	WatchedSeconds int
	CTAClicks      int
}

// TrackView is one Full-level view.
type TrackView struct {
	ViewID         string
	StartedAt      time.Time
	UpdatedAt      time.Time
	Country        string
	City           string
	Device         string
	Referrer       string
	WatchedSeconds int
	Furthest       int
	Finished       bool
	Clicks         []int // buttons, in order
}

// TrackCount is a count under a key (a country, a button, a bucket, a second).
type TrackCount struct {
	Key   string
	N     int
	Index int // for numeric keys
}

// TrackReport is everything kept about a video's viewers.
type TrackReport struct {
	Days      []TrackDay   // oldest first
	Retention []TrackCount // Index: second; N: views that watched it
	Histogram []TrackCount // Index: tenth watched (0..9)
	Countries []TrackCount // Key: country; most views first
	Buttons   []TrackCount // Index: button
	Views     []TrackView  // Full only; newest first, at most the limit asked
}

// TrackSettings are a video's tracking settings as stored.
type TrackSettings struct {
	VideoLevel   string // "" follows the owner's default
	AccountLevel string // the owner's default ("" never chosen: TrackDefault)
	FirstViewAt  time.Time
	// Restricted: the owner restricted the processing of their data
	// (privacy centre); nothing is recorded, whatever the levels say.
	Restricted bool
}

// Chosen is the level the owner's settings give, restriction aside.
func (s TrackSettings) Chosen() string {
	switch {
	case s.VideoLevel != "":
		return s.VideoLevel
	case s.AccountLevel != "":
		return s.AccountLevel
	}
	return TrackDefault
}

// Effective is the level in force: Off while the owner restricts
// processing, else the chosen one.
func (s TrackSettings) Effective() string {
	if s.Restricted {
		return TrackOff
	}
	return s.Chosen()
}

// Tracking is the part of Store that keeps viewer analytics.
type Tracking interface {
	// TrackSettings reads a video's level override and its owner's default.
	TrackSettings(ctx context.Context, videoID string) (TrackSettings, error)
	// SetVideoTracking sets a video's override ("" follows the owner's
	// default) and, in the same transaction, deletes what the level then
	// in force would not have stored.
	SetVideoTracking(ctx context.Context, videoID, level string) error
	// AccountTracking reads a user's default level ("" never chosen) and
	// whether they want a mail on each video's first view.
	AccountTracking(ctx context.Context, userID string) (level string, notify bool, err error)
	// SetAccountTracking sets a user's default and deletes, for each of
	// their videos that follows it, what the new level would not store.
	SetAccountTracking(ctx context.Context, userID, level string, notifyFirstView bool) error
	// DailySalt returns the salt of a day, storing fresh if there is none
	// yet (replicas racing agree on the first one stored), and destroys
	// the salts and viewer hashes of earlier days.
	DailySalt(ctx context.Context, day int64, fresh []byte) ([]byte, error)
	// RecordTrackEvents writes events in one transaction, each as far as
	// its video's level (capped by the event) allows; events of unknown
	// videos are dropped. It returns the videos whose first view this was.
	RecordTrackEvents(ctx context.Context, events []TrackEvent) (firstViews []string, err error)
	// TrackReport reads what is kept about a video's viewers, with at
	// most viewLimit Full-level views.
	TrackReport(ctx context.Context, videoID string, viewLimit int) (TrackReport, error)
	// LibraryTrackDays sums the daily counts of a library's videos from
	// day `from` on: a workspace's (workspaceID set) or a user's personal
	// library (workspaceID "").
	LibraryTrackDays(ctx context.Context, userID, workspaceID string, from int64) ([]TrackDay, error)
}

// TrackRecipient is one recipient of a video sent by e-mail at level Full.
type TrackRecipient struct {
	ID        string
	VideoID   string
	Email     string
	TokenHash string // SHA-256 (hex) of the personal link's secret
	SentAt    time.Time
}

// RecipientStats is what the owner sees about a recipient.
type RecipientStats struct {
	TrackRecipient
	Views          int
	WatchedSeconds int  // the most one view watched
	Furthest       int  // -1: never played
	Finished       bool // a view reached the end
	Clicks         []int
}

// Sends is the part of Store behind sending videos by e-mail.
type Sends interface {
	// AddRecipients records the recipients of a send.
	AddRecipients(ctx context.Context, rs []TrackRecipient) error
	// RecipientByToken finds a video's recipient by the hash of their
	// link's secret, or ErrNotFound.
	RecipientByToken(ctx context.Context, videoID, tokenHash string) (TrackRecipient, error)
	// RecipientStats lists a video's recipients with what their views did.
	RecipientStats(ctx context.Context, videoID string) ([]RecipientStats, error)
	// SuppressMail records that an address (its hash) unsubscribed.
	SuppressMail(ctx context.Context, addressHash string, at time.Time) error
	// MailSuppressed reports which of the hashes unsubscribed.
	MailSuppressed(ctx context.Context, addressHashes []string) (map[string]bool, error)
}
