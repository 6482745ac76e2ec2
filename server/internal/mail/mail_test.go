package mail_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"framecast.dev/server/internal/mail"
	"framecast.dev/server/internal/mail/mailtest"
)

func TestSMTPDelivers(t *testing.T) {
	srv := mailtest.Start(t)
	cfg, err := mail.ParseURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	cfg.From = "Framecast <noreply@example.com>"
	s, err := mail.NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	text := "Hello Zoë,\n\nopen https://framecast.example.com/verify/abc?x=1 to verify.\n" + strings.Repeat("long line ", 20) + "\n"
	if err := s.Send(context.Background(), mail.Message{To: "zoe@example.com", Subject: "Vérifiez ☃", Text: text, Kind: "verify"}); err != nil {
		t.Fatal(err)
	}
	m := srv.WaitFor(t, "zoe@example.com", "Vérifiez")
	if m.Subject != "Vérifiez ☃" || m.Text != text || m.From != "noreply@example.com" {
		t.Fatalf("got subject %q from %q text %q", m.Subject, m.From, m.Text)
	}
	if got := m.Link(t, "/verify/"); got != "https://framecast.example.com/verify/abc?x=1" {
		t.Fatalf("link %q", got)
	}
}

// TestUnsubscribeHeaders: a non-transactional mail carries
// List-Unsubscribe with one-click POST (RFC 8058) and the link in its
// footer; a transactional one carries neither.
func TestUnsubscribeHeaders(t *testing.T) {
	srv := mailtest.Start(t)
	cfg, err := mail.ParseURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	cfg.From = "Framecast <noreply@example.com>"
	s, err := mail.NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	link := "https://framecast.example.com/unsubscribe/u1.abc_DEF-123"
	ctx := context.Background()
	if err := s.Send(ctx, mail.Message{To: "a@example.com", Subject: "News", Text: "Something new.\n", Kind: "news", Unsubscribe: link}); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(ctx, mail.Message{To: "b@example.com", Subject: "Reset", Text: "Reset it.\n", Kind: "reset"}); err != nil {
		t.Fatal(err)
	}
	m := srv.WaitFor(t, "a@example.com", "News")
	if got := m.Header.Get("List-Unsubscribe"); got != "<"+link+">" {
		t.Errorf("List-Unsubscribe %q", got)
	}
	if got := m.Header.Get("List-Unsubscribe-Post"); got != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe-Post %q", got)
	}
	if !strings.HasPrefix(m.Text, "Something new.\n") || m.Link(t, "/unsubscribe/") != link {
		t.Errorf("footer: %q", m.Text)
	}
	r := srv.WaitFor(t, "b@example.com", "Reset")
	if r.Header.Get("List-Unsubscribe") != "" || strings.Contains(r.Text, "unsubscribe") {
		t.Errorf("a transactional mail has unsubscribe parts: %v %q", r.Header, r.Text)
	}
}

func TestSMTPWrongPasswordFails(t *testing.T) {
	srv := mailtest.Start(t)
	cfg, _ := mail.ParseURL(srv.URL())
	cfg.Password, cfg.From = "wrong", "noreply@example.com"
	s, err := mail.NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), mail.Message{To: "a@example.com", Subject: "x", Text: "x", Kind: "test"}); err == nil {
		t.Fatal("sent with a wrong password")
	}
	if srv.Count() != 0 {
		t.Fatal("server accepted a message")
	}
}

func TestParseURL(t *testing.T) {
	c, err := mail.ParseURL("smtps://me%40x.com:p%40ss@mail.example.com")
	if err != nil || c.Host != "mail.example.com" || c.Port != 465 || c.TLS != mail.TLSImplicit || c.Username != "me@x.com" || c.Password != "p@ss" {
		t.Fatalf("%+v %v", c, err)
	}
	c, err = mail.ParseURL("smtp://relay:2525")
	if err != nil || c.Port != 2525 || c.TLS != mail.TLSStartTLS || c.Username != "" {
		t.Fatalf("%+v %v", c, err)
	}
	for _, bad := range []string{"http://x", "smtp://", "smtp://h:0", "smtp://h?tls=maybe", "smtp://h?x=1", "smtp://user:secretpw@h:99999"} {
		_, err := mail.ParseURL(bad)
		if err == nil {
			t.Errorf("ParseURL(%q) succeeded", bad)
		} else if strings.Contains(err.Error(), "secretpw") {
			t.Errorf("error shows the password: %v", err)
		}
	}
}

func TestOutbox(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "outbox")
	var logs bytes.Buffer
	o := &mail.Outbox{Dir: dir, From: mail.DefaultFrom("http://127.0.0.1:8080"), Log: slog.New(slog.NewTextHandler(&logs, nil))}
	if err := o.Send(context.Background(), mail.Message{To: "a@example.com", Subject: "Reset", Text: "secret-link", Kind: "reset"}); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	if len(files) != 1 {
		t.Fatalf("outbox holds %v", files)
	}
	fi, _ := os.Stat(files[0])
	b, _ := os.ReadFile(files[0])
	if fi.Mode().Perm() != 0o600 || !bytes.Contains(b, []byte("secret-link")) || !bytes.Contains(b, []byte("noreply@localhost")) {
		t.Fatalf("mode %v:\n%s", fi.Mode(), b)
	}
	if strings.Contains(logs.String(), "secret-link") || strings.Contains(logs.String(), "a@example.com") {
		t.Fatalf("log shows the mail: %s", logs.String())
	}
}
