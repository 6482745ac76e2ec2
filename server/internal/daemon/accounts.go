package daemon

import (
	"fmt"
	"log/slog"
	"time"

	"framecast.dev/server/internal/account"
	"framecast.dev/server/internal/blob"
	"framecast.dev/server/internal/config"
	"framecast.dev/server/internal/jobs"
	"framecast.dev/server/internal/mail"
	"framecast.dev/server/internal/media"
	"framecast.dev/server/internal/store"
	"framecast.dev/shared/seal"
)

// Option adjusts a Daemon; tests use them.
type Option func(*options)

type options struct {
	now         func() time.Time
	mailBackoff time.Duration // first wait before a mail is retried
	// importPublished: see media.Config.OnImportPublished.
	importPublished func(videoID string, segments int)
}

// withMailBackoff makes account mail retry after d, every time (tests of
// an SMTP outage).
func withMailBackoff(d time.Duration) Option { return func(o *options) { o.mailBackoff = d } }

// mailLane keeps two workers for account mail, so a long transcode never
// delays a password-reset mail; a mail the SMTP server did not take is
// retried from 10 s, doubling up to 10 min (account.MailAttempts tries).
func mailLane(o options) jobs.Lane {
	l := jobs.Lane{Name: "mail", Kinds: account.MailKinds, Workers: 2, BackoffBase: 10 * time.Second, BackoffMax: 10 * time.Minute}
	if o.mailBackoff > 0 {
		l.BackoffBase, l.BackoffMax = o.mailBackoff, o.mailBackoff
	}
	return l
}

// WithClock makes the account side tell time with now (sessions, codes,
// links and rate-limit windows expire by it).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithImportPublished calls fn each time an import being processed
// publishes more segments; a test holds an import half-processed by
// blocking in it.
func WithImportPublished(fn func(videoID string, segments int)) Option {
	return func(o *options) { o.importPublished = fn }
}

// newAccounts builds the account service and its mailer from the
// configuration.
func newAccounts(cfg *config.Config, log *slog.Logger, st store.Store, blobs blob.Store, m *media.Service, sender mail.Sender, q *jobs.Queue, kek seal.Key, now func() time.Time) (*account.Service, error) {
	var providers []account.ProviderConfig
	for _, p := range []struct {
		name, label string
		cfg         config.OIDCProvider
	}{{"google", "Google", cfg.Google}, {"microsoft", "Microsoft", cfg.Microsoft}} {
		if p.cfg.Enabled() {
			providers = append(providers, account.ProviderConfig{Name: p.name, Label: p.label, Issuer: p.cfg.Issuer,
				ClientID: p.cfg.ClientID, ClientSecret: p.cfg.ClientSecret})
		}
	}
	return account.New(account.Config{
		Store: st, Blobs: blobs, Mailer: sender, Jobs: q, KEK: kek, Videos: m, BaseURL: cfg.BaseURL, Log: log, Providers: providers, Now: now,
		PlaceholderToken: cfg.DeviceToken, PlaceholderUser: cfg.DeviceTokenUser,
	})
}

// newMailer is the SMTP sender the configuration names, or the outbox in
// the data dir when there is none.
func newMailer(cfg *config.Config, log *slog.Logger) (mail.Sender, error) {
	from := cfg.MailFrom
	if from == "" {
		from = mail.DefaultFrom(cfg.BaseURL)
	}
	var sc mail.SMTPConfig
	switch {
	case cfg.SMTPURL != "":
		var err error
		if sc, err = mail.ParseURL(cfg.SMTPURL); err != nil {
			return nil, fmt.Errorf("FRAMECAST_SMTP_URL: %w", err)
		}
	case cfg.SMTPHost != "":
		sc = mail.SMTPConfig{Host: cfg.SMTPHost, Port: cfg.SMTPPort, Username: cfg.SMTPUsername, Password: cfg.SMTPPassword, TLS: cfg.SMTPTLS}
	default:
		dir := mail.OutboxDir(cfg.DataDir)
		log.Warn("no SMTP server configured: verification and reset mails are written to the outbox folder", "dir", dir)
		return &mail.Outbox{Dir: dir, From: from, Log: log}, nil
	}
	sc.From = from
	s, err := mail.NewSMTP(sc)
	if err != nil {
		return nil, err
	}
	log.Info("mail goes through SMTP", "host", sc.Host, "port", sc.Port, "tls", sc.TLS)
	return s, nil
}
