package privacy

import (
	"context"
	"fmt"
	"strings"
	"time"

	"framecast.dev/server/internal/account"
	"framecast.dev/server/internal/jobs"
	"framecast.dev/server/internal/mail"
	"framecast.dev/server/internal/secrets"
	"framecast.dev/server/internal/store"
)

// Retention says how long things are kept; the daily retention job
// deletes what is older. Zero values take the defaults in brackets.
type Retention struct {
	Usage      time.Duration // sign-ins, per-view rows, daily counts [2 years]
	Support    time.Duration // support messages after their author's account is deleted [182 days]
	Unverified time.Duration // accounts never confirmed [30 days]
	Uploads    time.Duration // abandoned uploads' received bytes [7 days]
	// Jobs is how long finished jobs stay [30 days]: done jobs of every
	// kind and failed ones not about a video (see store.PruneJobs).
	Jobs time.Duration
	// Export files go when their link expires (Config.ExportTTL).
}

func (r *Retention) defaults() {
	if r.Usage <= 0 {
		r.Usage = 730 * 24 * time.Hour
	}
	if r.Support <= 0 {
		r.Support = 182 * 24 * time.Hour
	}
	if r.Unverified <= 0 {
		r.Unverified = 30 * 24 * time.Hour
	}
	if r.Uploads <= 0 {
		r.Uploads = 7 * 24 * time.Hour
	}
	if r.Jobs <= 0 {
		r.Jobs = 30 * 24 * time.Hour
	}
}

const (
	jobRetention   = "privacy-retention"
	jobSupportMail = "privacy-support-mail"
	// retentionEvery is how often the retention job runs.
	retentionEvery = 24 * time.Hour
)

// StartRetention makes sure the daily retention job is queued (once,
// whichever replica starts first; a second one would only repeat work
// that is idempotent).
func (s *Service) StartRetention(ctx context.Context) error {
	n, err := s.store.PendingJobs(ctx, jobRetention)
	if err != nil || n > 0 {
		return err
	}
	// A day after the first start, then daily.
	_, err = s.jobs.Enqueue(ctx, jobs.Spec{Kind: jobRetention, MaxAttempts: 3, After: retentionEvery})
	return err
}

// RunRetentionNow queues a retention run at once and returns its job
// (tests and operators wait for it).
func (s *Service) RunRetentionNow(ctx context.Context) (store.Job, error) {
	return s.jobs.Enqueue(ctx, jobs.Spec{Kind: jobRetention, MaxAttempts: 3})
}

// RetentionReport counts what one run deleted.
type RetentionReport struct {
	Usage, Support, Unverified, Exports, Uploads, Imports, Jobs int64
}

func (s *Service) runRetention(ctx context.Context, j store.Job) error {
	rep, err := s.Enforce(ctx)
	if err != nil {
		return err
	}
	s.log.Info("retention enforced", "usage_rows", rep.Usage, "support_messages", rep.Support, "unverified_accounts", rep.Unverified,
		"exports", rep.Exports, "uploads", rep.Uploads, "imports", rep.Imports, "jobs", rep.Jobs)
	// The next run; this one still counts as running, so more than one
	// pending means another is queued already.
	if n, err := s.store.PendingJobs(ctx, jobRetention); err != nil || n > 1 {
		return err
	}
	_, err = s.jobs.Enqueue(ctx, jobs.Spec{Kind: jobRetention, MaxAttempts: 3, After: retentionEvery})
	return err
}

// Enforce deletes everything older than its retention period, as of the
// service's clock.
func (s *Service) Enforce(ctx context.Context) (RetentionReport, error) {
	var rep RetentionReport
	now := s.now().UTC()
	var err error
	if rep.Usage, err = s.store.PurgeUsage(ctx, now.Add(-s.retention.Usage)); err != nil {
		return rep, err
	}
	if rep.Support, err = s.store.PurgeSupportMessages(ctx, now.Add(-s.retention.Support)); err != nil {
		return rep, err
	}
	for {
		us, err := s.store.UnverifiedUsers(ctx, now.Add(-s.retention.Unverified), 100)
		if err != nil {
			return rep, err
		}
		if len(us) == 0 {
			break
		}
		for _, u := range us {
			if err := s.accounts.DeleteAccountConfirmed(ctx, u, account.SharedDelete); err != nil {
				return rep, fmt.Errorf("delete unconfirmed account %s: %w", u.ID, err)
			}
			rep.Unverified++
		}
	}
	es, err := s.store.ExpiredExports(ctx, now)
	if err != nil {
		return rep, err
	}
	for _, e := range es {
		if e.BlobKey != "" {
			if err := s.blobs.Delete(ctx, e.BlobKey); err != nil {
				return rep, fmt.Errorf("delete export %s: %w", e.ID, err)
			}
		}
		if err := s.store.DeleteExport(ctx, e.ID); err != nil {
			return rep, err
		}
		rep.Exports++
	}
	ups, err := s.store.StaleUploads(ctx, now.Add(-s.retention.Uploads))
	if err != nil {
		return rep, err
	}
	for _, up := range ups {
		if err := s.media.DiscardUpload(ctx, up.VideoID, up.Index); err != nil {
			return rep, err
		}
		rep.Uploads++
	}
	ims, err := s.store.StaleImports(ctx, now.Add(-s.retention.Uploads))
	if err != nil {
		return rep, err
	}
	for _, id := range ims {
		if err := s.media.DeleteVideo(ctx, id); err != nil {
			return rep, err
		}
		rep.Imports++
	}
	// Last, so jobs finished by the steps above are counted from now.
	if rep.Jobs, err = s.store.PruneJobs(ctx, now.Add(-s.retention.Jobs)); err != nil {
		return rep, err
	}
	return rep, nil
}

// Contact support.

// SendSupport keeps a message from u for the server's administrators
// and mails it to them (from the jobs queue, so a crash loses nothing).
// maxSupportPerDay bounds the contact-support messages of one user in 24 hours.
const maxSupportPerDay = 10

func (s *Service) SendSupport(ctx context.Context, u store.User, subject, body string) error {
	subject, body = strings.TrimSpace(subject), strings.TrimSpace(body)
	if subject == "" || len(subject) > 200 {
		return fail(KindInvalid, "Give your message a subject (up to 200 characters).")
	}
	if body == "" || len(body) > 20_000 {
		return fail(KindInvalid, "Write your message (up to 20,000 characters).")
	}
	// The form mails the administrators: a signed-in account must not be
	// able to flood them.
	sent, err := s.store.CountSupportMessages(ctx, u.ID, s.now().Add(-24*time.Hour))
	if err != nil {
		return err
	}
	if sent >= maxSupportPerDay {
		return fail(KindConflict, "You sent %d messages in the last 24 hours; we will answer those first. Write again tomorrow if you need to.", sent)
	}
	m := store.SupportMessage{ID: secrets.NewID(), UserID: u.ID, Name: u.Name, Email: u.Email, Subject: subject, Body: body, CreatedAt: s.now().UTC()}
	if err := s.store.AddSupportMessage(ctx, m); err != nil {
		return err
	}
	if len(s.admins) > 0 {
		if _, err := s.jobs.Enqueue(ctx, jobs.Spec{Kind: jobSupportMail, Args: supportArgs{m.ID}, MaxAttempts: 10}); err != nil {
			return err
		}
	}
	return nil
}

// SupportMessages lists the latest messages, for administrators.
func (s *Service) SupportMessages(ctx context.Context, admin store.User) ([]store.SupportMessage, error) {
	if !s.IsAdmin(admin) {
		return nil, fail(KindNotFound, "There is nothing at this address.")
	}
	return s.store.SupportMessages(ctx, 200)
}

type supportArgs struct {
	MessageID string `json:"message_id"`
}

func (s *Service) runSupportMail(ctx context.Context, j store.Job) error {
	args, err := jobs.Args[supportArgs](j)
	if err != nil {
		return err
	}
	ms, err := s.store.SupportMessages(ctx, 1000)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.ID != args.MessageID {
			continue
		}
		for _, to := range s.admins {
			err := s.mail.Send(ctx, mail.Message{To: to, Kind: "support", Subject: "Support: " + m.Subject, Text: fmt.Sprintf(
				"%s <%s> wrote on %s:\n\n%s\n\nAnswer by replying to %s. All messages: %s/admin/support\n",
				m.Name, m.Email, m.CreatedAt.Format("2006-01-02 15:04 MST"), m.Body, m.Email, s.baseURL)})
			if err != nil {
				return err
			}
		}
	}
	return nil // a message already purged needs no mail
}
