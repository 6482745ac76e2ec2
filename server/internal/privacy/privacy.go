// Package privacy is the privacy centre: data exports ("Download my
// data" and workspace exports), the audit log of privacy actions each
// user sees, and what account deletion must remove beyond the account
// side (export files). It knows nothing of HTTP; httpapi translates.
//
// Exports are ZIPs built by a job on the processing queue, sealed in the
// blob store under a fresh data key wrapped by the KEK (like videos, they
// are never stored in the clear), and downloaded through a mailed link
// that works for its owner until it expires.
package privacy

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"framecast.dev/server/internal/account"
	"framecast.dev/server/internal/blob"
	"framecast.dev/server/internal/jobs"
	"framecast.dev/server/internal/mail"
	"framecast.dev/server/internal/media"
	"framecast.dev/server/internal/secrets"
	"framecast.dev/server/internal/store"
	"framecast.dev/shared/seal"
)

// Kind classifies errors for the HTTP layer.
type Kind int

const (
	KindInvalid   Kind = iota + 1 // bad input
	KindNotFound                  // no such thing, or not the caller's
	KindForbidden                 // the caller may not
	KindGone                      // it existed but expired
	KindConflict                  // the state does not allow it
)

// Error is a failure with a message meant for the user.
type Error struct {
	Kind    Kind
	Message string
}

func (e *Error) Error() string { return e.Message }

func fail(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// Config is what the Service needs.
type Config struct {
	Store    store.Store
	Blobs    blob.Store
	Jobs     *jobs.Queue
	Media    *media.Service
	Accounts *account.Service
	Mailer   mail.Sender
	KEK      seal.Key
	BaseURL  string
	WorkDir  string // scratch space for building exports
	Log      *slog.Logger
	// Now is the clock; nil means time.Now. Tests move it.
	Now func() time.Time
	// ExportTTL is how long an export's link (and file) lives.
	ExportTTL time.Duration
	// Admins are the addresses of the server's administrators (who
	// publish policy versions).
	Admins []string
	// Retention periods of the daily retention job.
	Retention Retention
}

// Service implements the privacy centre.
type Service struct {
	store     store.Store
	blobs     blob.Store
	jobs      *jobs.Queue
	media     *media.Service
	accounts  *account.Service
	mail      mail.Sender
	kek       seal.Key
	baseURL   string
	workDir   string
	log       *slog.Logger
	now       func() time.Time
	exportTTL time.Duration
	admins    []string
	retention Retention
}

// New returns a Service; call RegisterJobs before the queue starts.
func New(c Config) (*Service, error) {
	if c.Store == nil || c.Blobs == nil || c.Jobs == nil || c.Media == nil || c.Accounts == nil || c.Mailer == nil {
		return nil, errors.New("privacy: store, blobs, jobs, media, accounts and mailer are required")
	}
	s := &Service{store: c.Store, blobs: c.Blobs, jobs: c.Jobs, media: c.Media, accounts: c.Accounts, mail: c.Mailer,
		kek: c.KEK, baseURL: strings.TrimRight(c.BaseURL, "/"), workDir: c.WorkDir, log: c.Log, now: c.Now, exportTTL: c.ExportTTL, admins: c.Admins, retention: c.Retention}
	s.retention.defaults()
	if s.now == nil {
		s.now = time.Now
	}
	if s.exportTTL <= 0 {
		s.exportTTL = 7 * 24 * time.Hour
	}
	c.Accounts.OnDelete(s.eraseUser)
	c.Accounts.OnSignUp(s.recordSignUp)
	return s, nil
}

// RegisterJobs registers the privacy centre's job kinds.
func (s *Service) RegisterJobs(q *jobs.Queue) {
	q.Handle(jobExport, s.runExport)
	q.Handle(jobPolicyNotice, s.runPolicyNotice)
	q.Handle(jobRetention, s.runRetention)
	q.Handle(jobSupportMail, s.runSupportMail)
}

// Audit actions.
const (
	ActionExportRequested   = "export-requested"
	ActionExportReady       = "export-ready"
	ActionExportDownloaded  = "export-downloaded"
	ActionWorkspaceExported = "workspace-export-requested"
)

// audit records a privacy action for the user to see. A failure is
// logged, not returned: the action itself happened.
func (s *Service) audit(ctx context.Context, userID, action, detail string) {
	err := s.store.AddAudit(ctx, store.AuditEntry{ID: secrets.NewID(), UserID: userID, At: s.now().UTC(), Action: action, Detail: detail})
	if err != nil {
		s.log.Error("privacy audit entry not written", "user_id", userID, "action", action, "err", err)
	}
}

// AuditLog lists the user's privacy actions, newest first.
func (s *Service) AuditLog(ctx context.Context, u store.User) ([]store.AuditEntry, error) {
	return s.store.Audit(ctx, u.ID, 200)
}

// eraseUser removes what the privacy centre keeps of a user being
// deleted: export files (their rows go with the user). Support messages
// stay for their retention period, counted from now.
func (s *Service) eraseUser(ctx context.Context, u store.User) error {
	if err := s.store.OrphanSupportMessages(ctx, u.ID, s.now().UTC()); err != nil {
		return err
	}
	es, err := s.store.Exports(ctx, u.ID)
	if err != nil {
		return err
	}
	for _, e := range es {
		if e.BlobKey != "" {
			if err := s.blobs.Delete(ctx, e.BlobKey); err != nil {
				return fmt.Errorf("delete export %s: %w", e.ID, err)
			}
		}
	}
	// Files of exports whose build was under way (a crash between Put
	// and recording it) are under the user's prefix too.
	for info, err := range s.blobs.List(ctx, exportPrefix(u.ID)) {
		if err != nil {
			return fmt.Errorf("list exports of %s: %w", u.ID, err)
		}
		if err := s.blobs.Delete(ctx, info.Key); err != nil {
			return fmt.Errorf("delete export file: %w", err)
		}
	}
	return nil
}

// validSecret bounds a secret from a URL before it is hashed.
func validSecret(s string) bool {
	if len(s) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}

// Now is the privacy centre's clock (tests move it).
func (s *Service) Now() time.Time { return s.now() }

// Stored is everything kept about a user beyond the profile's own
// fields, for the profile page.
type Stored struct {
	Memberships []store.Member
	Devices     []store.Device
	Videos      int
	Consents    []store.Consent
	Settings    store.PrivacySettings
	Exports     int
}

// Stored gathers what is kept about u.
func (s *Service) Stored(ctx context.Context, u store.User) (Stored, error) {
	var (
		st  Stored
		err error
	)
	if st.Memberships, err = s.store.Memberships(ctx, u.ID); err != nil {
		return st, err
	}
	if st.Devices, err = s.store.Devices(ctx, u.ID); err != nil {
		return st, err
	}
	vs, err := s.store.VideosOwnedBy(ctx, u.ID)
	if err != nil {
		return st, err
	}
	st.Videos = len(vs)
	if st.Consents, err = s.store.Consents(ctx, u.ID); err != nil {
		return st, err
	}
	if st.Settings, err = s.store.PrivacySettings(ctx, u.ID); err != nil {
		return st, err
	}
	es, err := s.store.Exports(ctx, u.ID)
	st.Exports = len(es)
	return st, err
}

// ActionVideoDeleted is the audit action of a video's deletion.
const ActionVideoDeleted = "video-deleted"

// VideoDeleted records in u's privacy log that they deleted a video. The
// entry names no title: the video's data is gone, the log keeps only
// that it happened.
func (s *Service) VideoDeleted(ctx context.Context, u store.User) {
	s.audit(ctx, u.ID, ActionVideoDeleted, "You deleted a video, with its files and its viewers' analytics.")
}
