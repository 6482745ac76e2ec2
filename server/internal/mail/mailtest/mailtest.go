// Package mailtest runs a real SMTP server (emersion/go-smtp) on a
// loopback port for tests, keeps what it receives and lets tests wait for
// and read the mails they assert on. It requires AUTH PLAIN with the
// credentials in Username and Password, so a test also proves the
// sender logs in.
package mailtest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Credentials the server accepts.
const (
	Username = "framecast"
	Password = "smtp-test-password"
)

// Message is a received mail.
type Message struct {
	From    string   // envelope sender
	To      []string // envelope recipients
	Header  mail.Header
	Subject string // decoded
	Text    string // the decoded text/plain body
	Raw     []byte
}

// Server is a running SMTP server.
type Server struct {
	Host string
	Port int

	srv   *smtp.Server
	done  chan struct{} // closed when srv stopped serving
	mu    sync.Mutex
	msgs  []Message
	taken []bool // handed out by WaitFor already
	more  chan struct{}
}

// Start runs a server until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{more: make(chan struct{}, 1), Host: "127.0.0.1"}
	s.listen(t)
	t.Cleanup(s.Stop)
	return s
}

// listen serves on s.Port (any free port when 0).
func (s *Server) listen(t testing.TB) {
	t.Helper()
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true // loopback only
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.MaxMessageBytes = 1 << 20
	ln, err := net.Listen("tcp", net.JoinHostPort(s.Host, strconv.Itoa(s.Port)))
	if err != nil {
		t.Fatalf("mailtest: %v", err)
	}
	s.Port = ln.Addr().(*net.TCPAddr).Port
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(ln) }()
	s.mu.Lock()
	s.srv, s.done = srv, done
	s.mu.Unlock()
}

// Stop takes the server down, as an SMTP outage would: connections are
// refused until Restart. Messages received so far are kept.
func (s *Server) Stop() {
	s.mu.Lock()
	srv, done := s.srv, s.done
	s.srv, s.done = nil, nil
	s.mu.Unlock()
	if srv != nil {
		srv.Close()
		<-done
	}
}

// Restart serves again on the same port after Stop.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.listen(t)
}

// URL is the FRAMECAST_SMTP_URL that reaches this server.
func (s *Server) URL() string {
	return "smtp://" + url.UserPassword(Username, Password).String() + "@" + net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) + "?tls=none"
}

// Messages returns everything received so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Count is the number of messages received so far.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.msgs)
}

// WaitFor waits (up to 10 s) for a message to the address whose subject
// contains subject and returns the first such message WaitFor has not
// returned before.
func (s *Server) WaitFor(t testing.TB, to, subject string) Message {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		s.mu.Lock()
		for i, m := range s.msgs {
			if !s.taken[i] && m.sentTo(to) && strings.Contains(m.Subject, subject) {
				s.taken[i] = true
				s.mu.Unlock()
				return m
			}
		}
		s.mu.Unlock()
		select {
		case <-s.more:
		case <-deadline:
			t.Fatalf("mailtest: no mail to %s about %q within 10s; received %d: %s", to, subject, s.Count(), s.summary())
			return Message{}
		}
	}
}

// NoMailTo fails the test if a message to the address arrives within wait.
func (s *Server) NoMailTo(t testing.TB, to string, wait time.Duration) {
	t.Helper()
	time.Sleep(wait)
	for _, m := range s.Messages() {
		if m.sentTo(to) {
			t.Fatalf("mailtest: unexpected mail to %s: %q", to, m.Subject)
		}
	}
}

func (s *Server) summary() string {
	var b strings.Builder
	for _, m := range s.Messages() {
		fmt.Fprintf(&b, "\n  to %v: %q", m.To, m.Subject)
	}
	return b.String()
}

func (m Message) sentTo(addr string) bool {
	for _, to := range m.To {
		if strings.EqualFold(to, addr) {
			return true
		}
	}
	return false
}

var linkRE = regexp.MustCompile(`https?://[^\s<>"]+`)

// Link returns the first URL in the body that contains part; the test
// fails if there is none.
func (m Message) Link(t testing.TB, part string) string {
	t.Helper()
	for _, l := range linkRE.FindAllString(m.Text, -1) {
		if strings.Contains(l, part) {
			return l
		}
	}
	t.Fatalf("mailtest: no link containing %q in the mail %q:\n%s", part, m.Subject, m.Text)
	return ""
}

func (s *Server) add(m Message) {
	s.mu.Lock()
	s.msgs = append(s.msgs, m)
	s.taken = append(s.taken, false)
	s.mu.Unlock()
	select {
	case s.more <- struct{}{}:
	default:
	}
}

type session struct {
	s    *Server
	auth bool
	from string
	to   []string
}

func (se *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (se *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != Username || pass != Password {
			return errors.New("invalid username or password")
		}
		se.auth = true
		return nil
	}), nil
}

func (se *session) Mail(from string, _ *smtp.MailOptions) error {
	if !se.auth {
		return smtp.ErrAuthRequired
	}
	se.from = from
	return nil
}

func (se *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if !se.auth {
		return smtp.ErrAuthRequired
	}
	se.to = append(se.to, to)
	return nil
}

func (se *session) Data(r io.Reader) error {
	if !se.auth {
		return smtp.ErrAuthRequired
	}
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := parse(raw)
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "unparsable message: " + err.Error()}
	}
	m.From, m.To = se.from, append([]string(nil), se.to...)
	se.s.add(m)
	return nil
}

func (se *session) Reset()        { se.from, se.to = "", nil }
func (se *session) Logout() error { return nil }

var dec = mime.WordDecoder{}

func parse(raw []byte) (Message, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Message{}, err
	}
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return Message{}, fmt.Errorf("subject: %w", err)
	}
	text, err := textPart(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	if err != nil {
		return Message{}, err
	}
	return Message{Header: msg.Header, Subject: subject, Text: text, Raw: raw}, nil
}

func textPart(contentType, encoding string, body io.Reader) (string, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = "text/plain"
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return "", fmt.Errorf("no text/plain part: %w", err)
			}
			if t, err := textPart(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p); err == nil && t != "" {
				return t, nil
			}
		}
	}
	if mt != "text/plain" {
		return "", nil
	}
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = newBase64Reader(body)
	}
	b, err := io.ReadAll(body)
	return strings.ReplaceAll(string(b), "\r\n", "\n"), err
}
