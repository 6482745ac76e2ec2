// Package mail sends the server's transactional e-mail (verification,
// password reset, invitations) over SMTP with wneessen/go-mail. Without an
// SMTP server configured, messages go to an outbox folder instead, so a
// local installation works and its owner can still open the links.
//
// Bodies carry one-time links: they are never logged.
package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Message is one plain-text mail to one recipient.
type Message struct {
	To      string
	Subject string
	Text    string
	// Kind names the message in logs ("verify", "reset", ...).
	Kind string
	// Unsubscribe, set on every non-transactional mail, is the URL that
	// stops such mail to this recipient: sent as List-Unsubscribe with
	// one-click POST (RFC 8058) and as a footer link.
	Unsubscribe string
	// HTML, when set, is sent beside Text as its rich alternative (a
	// video's moving preview); the unsubscribe footer is added to it too.
	HTML string
	// UserID, never sent, is the account the mail is to or from: the
	// queued mail goes (unsent) when that account is deleted.
	UserID string `json:",omitempty"`
}

// body is the text with the unsubscribe footer when there is one.
func (m Message) body() string {
	if m.Unsubscribe == "" {
		return m.Text
	}
	return strings.TrimRight(m.Text, "\n") + "\n\n-- \nYou get this mail because of your Framecast settings. To get no more\nmails like it, open " + m.Unsubscribe + "\n"
}

// headers sets the message's headers beyond From and To.
func (m Message) headers(msg *gomail.Msg) {
	msg.Subject(m.Subject)
	msg.SetDate()
	if m.Unsubscribe != "" {
		msg.SetGenHeaderPreformatted(gomail.Header("List-Unsubscribe"), "<"+m.Unsubscribe+">")
		msg.SetGenHeaderPreformatted(gomail.Header("List-Unsubscribe-Post"), "List-Unsubscribe=One-Click")
	}
	msg.SetBodyString(gomail.TypeTextPlain, m.body())
	if m.HTML != "" {
		html := m.HTML
		if m.Unsubscribe != "" {
			html += `<p style="color:#5f6368;font-size:12px">To get no more mails like this one, <a href="` +
				htmlEscaper.Replace(m.Unsubscribe) + `">unsubscribe</a>.</p>`
		}
		msg.AddAlternativeString(gomail.TypeTextHTML, html)
	}
}

var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;")

// Sender delivers messages.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// TLS modes of the SMTP connection.
const (
	TLSStartTLS = "starttls" // STARTTLS, required (the default)
	TLSImplicit = "tls"      // TLS from the first byte (port 465)
	TLSNone     = "none"     // plain text; only for a relay on the same host or network
)

// SMTPConfig says how to reach the SMTP server.
type SMTPConfig struct {
	Host     string
	Port     int
	Username string
	Password string
	TLS      string
	From     string // "Name <address>" or an address
}

// ParseURL reads smtp://user:pass@host:port (STARTTLS) or
// smtps://user:pass@host:port (implicit TLS); ?tls=none turns TLS off.
// The From address is not part of the URL.
func ParseURL(raw string) (SMTPConfig, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return SMTPConfig{}, errors.New("not a URL") // the URL holds a password: don't echo it
	}
	var c SMTPConfig
	switch u.Scheme {
	case "smtp":
		c.TLS, c.Port = TLSStartTLS, 587
	case "smtps":
		c.TLS, c.Port = TLSImplicit, 465
	default:
		return SMTPConfig{}, errors.New("want smtp://user:password@host:port or smtps://...")
	}
	c.Host = u.Hostname()
	if c.Host == "" {
		return SMTPConfig{}, errors.New("the URL names no host")
	}
	if p := u.Port(); p != "" {
		if c.Port, err = strconv.Atoi(p); err != nil || c.Port <= 0 || c.Port > 65535 {
			return SMTPConfig{}, errors.New("bad port")
		}
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	for k, v := range u.Query() {
		switch {
		case k == "tls" && len(v) == 1 && (v[0] == TLSNone || v[0] == TLSStartTLS || v[0] == TLSImplicit):
			c.TLS = v[0]
		default:
			return SMTPConfig{}, fmt.Errorf("unknown URL parameter %q (only tls=starttls|tls|none)", k)
		}
	}
	return c, nil
}

// SMTP sends through an SMTP server, one connection per message.
type SMTP struct {
	cfg  SMTPConfig
	from string
}

// NewSMTP checks the configuration.
func NewSMTP(c SMTPConfig) (*SMTP, error) {
	if c.Host == "" {
		return nil, errors.New("smtp: no host")
	}
	if c.Port <= 0 || c.Port > 65535 {
		return nil, fmt.Errorf("smtp: bad port %d", c.Port)
	}
	switch c.TLS {
	case TLSStartTLS, TLSImplicit, TLSNone:
	default:
		return nil, fmt.Errorf("smtp: TLS mode %q: want starttls, tls or none", c.TLS)
	}
	from, err := mail.ParseAddress(c.From)
	if err != nil {
		return nil, fmt.Errorf("smtp: sender address %q: %w", c.From, err)
	}
	return &SMTP{cfg: c, from: from.String()}, nil
}

// Send delivers m, or says why not.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	msg := gomail.NewMsg()
	if err := msg.From(s.from); err != nil {
		return fmt.Errorf("send %s mail: from: %w", m.Kind, err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("send %s mail: recipient: %w", m.Kind, err)
	}
	m.headers(msg)
	msg.SetMessageID()

	opts := []gomail.Option{gomail.WithPort(s.cfg.Port), gomail.WithTimeout(30 * time.Second)}
	switch s.cfg.TLS {
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if s.cfg.Username != "" {
		auth := gomail.SMTPAuthAutoDiscover
		if s.cfg.TLS == TLSNone {
			// The operator chose a plain-text connection; go-mail only
			// discovers mechanisms that are safe without TLS otherwise.
			auth = gomail.SMTPAuthPlainNoEnc
		}
		opts = append(opts, gomail.WithSMTPAuth(auth), gomail.WithUsername(s.cfg.Username), gomail.WithPassword(s.cfg.Password))
	}
	c, err := gomail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		return fmt.Errorf("send %s mail: %w", m.Kind, err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("send %s mail via %s: %w", m.Kind, net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port)), err)
	}
	return nil
}

// Outbox writes each message as an .eml file into a folder (mode 0600):
// the fallback when no SMTP server is configured.
type Outbox struct {
	Dir  string
	From string
	Log  *slog.Logger
}

// Send writes m to the outbox.
func (o *Outbox) Send(_ context.Context, m Message) error {
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	msg := gomail.NewMsg()
	if err := msg.From(o.From); err != nil {
		return fmt.Errorf("outbox: from: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("outbox: recipient: %w", err)
	}
	m.headers(msg)
	f, err := os.CreateTemp(o.Dir, time.Now().UTC().Format("20060102T150405")+"-"+m.Kind+"-*.eml")
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	_, werr := msg.WriteTo(f)
	if err := errors.Join(werr, f.Close()); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("outbox: %w", err)
	}
	o.Log.Warn("no SMTP server configured; mail written to the outbox instead", "kind", m.Kind, "file", f.Name())
	return nil
}

// Background sends messages in goroutines so a request does not wait for
// the SMTP server, and takes the same time whether a mail is sent or not
// (the answer must not tell whether an address has an account). Close
// waits for the messages under way.
type Background struct {
	Sender Sender
	Log    *slog.Logger
	wg     sync.WaitGroup
}

// Send queues m and returns at once; failures are logged (without the
// body or address).
func (b *Background) Send(m Message) {
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := b.Sender.Send(ctx, m); err != nil {
			b.Log.Error("mail not sent", "kind", m.Kind, "err", err)
			return
		}
		b.Log.Debug("mail sent", "kind", m.Kind)
	}()
}

// Close waits for the messages under way.
func (b *Background) Close() { b.wg.Wait() }

// DefaultFrom is the sender address used when none is configured.
func DefaultFrom(baseURL string) string {
	host := "localhost"
	if u, err := url.Parse(baseURL); err == nil && u.Hostname() != "" {
		host = u.Hostname()
		if net.ParseIP(host) != nil {
			host = "localhost"
		}
	}
	return "Framecast <noreply@" + strings.TrimSuffix(host, ".") + ">"
}

// OutboxDir is where the Outbox keeps messages inside the data dir.
func OutboxDir(dataDir string) string { return filepath.Join(dataDir, "mail-outbox") }
