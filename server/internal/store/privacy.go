package store

import (
	"context"
	"time"
)

// PrivacyCentre is the part of Store the privacy centre needs beyond the
// account methods: handing videos over and removing what refers to a
// user without a foreign key (invitations by address, rate-limit keys).
type PrivacyCentre interface {
	// SetVideoOwner gives a video to another user (a workspace owner
	// taking over the videos a deleted member left in its library).
	SetVideoOwner(ctx context.Context, id, ownerID string) error
	// DeleteInvitationsTo drops every invitation, open or accepted, sent
	// to the address: the address is the invitee's personal data.
	DeleteInvitationsTo(ctx context.Context, emailNorm string) error
	// DeleteRateLimits drops the counters of the given keys.
	DeleteRateLimits(ctx context.Context, keys []string) error

	CreateExport(ctx context.Context, e Export) error
	Export(ctx context.Context, id string) (Export, error)
	// ExportByToken finds an export by its link's secret hash.
	ExportByToken(ctx context.Context, tokenHash string) (Export, error)
	// UpdateExport writes every field but ID, UserID and CreatedAt.
	UpdateExport(ctx context.Context, e Export) error
	// Exports lists a user's exports, newest first.
	Exports(ctx context.Context, userID string) ([]Export, error)
	// ExpiredExports lists exports whose link expired at or before now.
	ExpiredExports(ctx context.Context, now time.Time) ([]Export, error)
	DeleteExport(ctx context.Context, id string) error

	AddAudit(ctx context.Context, a AuditEntry) error
	// Audit lists a user's privacy actions, newest first.
	Audit(ctx context.Context, userID string, limit int) ([]AuditEntry, error)

	// RowsAboutVideos returns, for every table with a video_id column
	// except those in skip, the rows about the given videos, as column ->
	// value maps (found from the schema, so tables added later, such as
	// analytics, are included without a change here).
	RowsAboutVideos(ctx context.Context, videoIDs []string, skip []string) (map[string][]map[string]any, error)

	// CreatePolicyVersion publishes a version; ErrConflict if it exists.
	CreatePolicyVersion(ctx context.Context, p PolicyVersion) error
	// PolicyVersions lists every version, by effective time.
	PolicyVersions(ctx context.Context) ([]PolicyVersion, error)
	// AddConsent records a consent; consenting to a version again keeps
	// the first time. ErrNotFound for an unknown user or version.
	AddConsent(ctx context.Context, c Consent) error
	// Consents lists a user's consents, newest first.
	Consents(ctx context.Context, userID string) ([]Consent, error)
	// UsersToNotify lists up to limit users not yet mailed about version.
	UsersToNotify(ctx context.Context, version string, limit int) ([]User, error)
	// MarkNotified records that userID was mailed about version.
	MarkNotified(ctx context.Context, userID, version string, at time.Time) error

	AddSupportMessage(ctx context.Context, m SupportMessage) error
	// SupportMessages lists the latest messages, newest first.
	SupportMessages(ctx context.Context, limit int) ([]SupportMessage, error)
	// CountSupportMessages counts a user's messages sent at or after since.
	CountSupportMessages(ctx context.Context, userID string, since time.Time) (int, error)
	// OrphanSupportMessages starts the retention clock of a deleted
	// user's messages.
	OrphanSupportMessages(ctx context.Context, userID string, at time.Time) error
	// PurgeSupportMessages deletes the messages of accounts deleted
	// before the time.
	PurgeSupportMessages(ctx context.Context, deletedBefore time.Time) (int64, error)

	// PurgeUsage deletes usage history older than the time: sign-ins,
	// and viewers' per-view rows and daily counts when the tracking
	// tables exist.
	PurgeUsage(ctx context.Context, before time.Time) (int64, error)
	// UnverifiedUsers lists up to limit users who never confirmed their
	// address and signed up before the time.
	UnverifiedUsers(ctx context.Context, createdBefore time.Time, limit int) ([]User, error)
	// StaleUploads lists segment uploads in progress untouched since the
	// time.
	StaleUploads(ctx context.Context, before time.Time) ([]Upload, error)
	// StaleImports lists the videos whose file upload from the dashboard
	// is still receiving and untouched since the time.
	StaleImports(ctx context.Context, before time.Time) ([]string, error)
	// PendingJobs counts the queued or running jobs of a kind.
	PendingJobs(ctx context.Context, kind string) (int, error)

	// PrivacySettings returns a user's choices (the defaults when they
	// made none).
	PrivacySettings(ctx context.Context, userID string) (PrivacySettings, error)
	// SetPrivacySettings writes a user's choices; ErrNotFound for an
	// unknown user.
	SetPrivacySettings(ctx context.Context, ps PrivacySettings) error
}

// PrivacySettings are a user's privacy choices.
type PrivacySettings struct {
	UserID       string
	RestrictedAt time.Time // zero: processing not restricted
	OptionalMail bool      // informational (non-transactional) mail wanted
}

// Restricted reports whether the user asked that their data be kept but
// not processed.
func (p PrivacySettings) Restricted() bool { return !p.RestrictedAt.IsZero() }

// SupportMessage is one message sent with the contact-support form.
type SupportMessage struct {
	ID               string
	UserID           string // "" once the account is deleted
	Name, Email      string
	Subject, Body    string
	CreatedAt        time.Time
	AccountDeletedAt time.Time // zero while the account exists
}

// PolicyVersion is one published version of the privacy policy.
type PolicyVersion struct {
	Version     string
	Major       bool // users must accept it again
	Summary     string
	Body        string
	PublishedAt time.Time
	EffectiveAt time.Time
}

// Consent is a user's acceptance of a policy version.
type Consent struct {
	UserID  string
	Version string
	At      time.Time
}

// Export states.
const (
	ExportPending = "pending"
	ExportReady   = "ready"
	ExportFailed  = "failed"
)

// Export is a ZIP of a user's (or a workspace's) data, built in the
// background, stored sealed, downloadable through a mailed link until
// ExpiresAt.
type Export struct {
	ID          string
	UserID      string
	WorkspaceID string // "" for the user's own data
	State       string
	TokenHash   string // "" until the link is made
	BlobKey     string
	SealID      string // hex recording id of the ZIP's seal
	WrappedKey  []byte
	Size        int64
	CreatedAt   time.Time
	ReadyAt     time.Time
	ExpiresAt   time.Time
}

// AuditEntry is one privacy action, kept for the user to see.
type AuditEntry struct {
	ID     string
	UserID string
	At     time.Time
	Action string
	Detail string
}
