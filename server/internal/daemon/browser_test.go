package daemon

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"framecast.dev/server/internal/config"
	"framecast.dev/server/internal/mail/mailtest"
)

// Helpers for the account tests: a server that mails through a real SMTP
// listener, a browser with a cookie jar, and a clock the test moves.

// clock is a settable time source for WithClock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().UTC()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// startAccounts runs a server whose mail goes to a real SMTP listener.
func startAccounts(t *testing.T, clk *clock, edit ...func(*config.Config)) (*testServer, *mailtest.Server) {
	t.Helper()
	smtp := mailtest.Start(t)
	var opts []Option
	if clk != nil {
		opts = append(opts, WithClock(clk.Now))
	}
	edit = append([]func(*config.Config){func(c *config.Config) { c.SMTPURL = smtp.URL() }}, edit...)
	return startWith(t, opts, edit...), smtp
}

// browser is one person's browser: a cookie jar, redirects not followed
// (tests look at them).
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
	// lastOrigin is the scheme://host of the last request, to resolve
	// relative redirects of other sites (an OIDC provider).
	lastOrigin string
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// answer is a response with its body read.
type answer struct {
	Status   int
	Body     string
	Location string
	Header   http.Header
}

func (b *browser) do(method, path string, body io.Reader, contentType string, headers ...string) answer {
	b.t.Helper()
	target := path
	if !strings.HasPrefix(path, "http") {
		target = b.base + path
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		b.t.Fatal(err)
	}
	b.lastOrigin = req.URL.Scheme + "://" + req.URL.Host
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return answer{Status: resp.StatusCode, Body: string(raw), Location: resp.Header.Get("Location"), Header: resp.Header}
}

func (b *browser) get(path string) answer { b.t.Helper(); return b.do(http.MethodGet, path, nil, "") }

// doAt sends a request to another site (origin + path).
func (b *browser) doAt(origin, method, path string, body io.Reader, contentType string) answer {
	b.t.Helper()
	return b.do(method, origin+path, body, contentType)
}

// follow goes to a redirect's Location, relative to the last request.
func (b *browser) follow(loc string) answer {
	b.t.Helper()
	if strings.HasPrefix(loc, "/") {
		loc = b.lastOrigin + loc
	}
	return b.get(loc)
}

// cookie returns the value of a cookie the browser holds for the server.
func (b *browser) cookie(name string) string {
	u, _ := url.Parse(b.base)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// csrf is the browser's CSRF token, fetched from a page when missing.
func (b *browser) csrf() string {
	b.t.Helper()
	if v := b.cookie("fc_csrf"); v != "" {
		return v
	}
	b.get("/signin")
	v := b.cookie("fc_csrf")
	if v == "" {
		b.t.Fatal("no CSRF cookie after loading /signin")
	}
	return v
}

// post submits a form with the browser's CSRF token.
func (b *browser) post(path string, form url.Values) answer {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", b.csrf())
	}
	return b.do(http.MethodPost, path, strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
}

// upload submits a multipart form with one file.
func (b *browser) upload(path, field, filename string, content []byte) answer {
	b.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.WriteField("csrf", b.csrf())
	fw, _ := w.CreateFormFile(field, filename)
	fw.Write(content)
	w.Close()
	return b.do(http.MethodPost, path, &buf, w.FormDataContentType())
}

func want(t *testing.T, a answer, status int, contains ...string) {
	t.Helper()
	if a.Status != status {
		t.Fatalf("status %d, want %d; location %q; body:\n%s", a.Status, status, a.Location, clip(a.Body))
	}
	for _, c := range contains {
		if !strings.Contains(a.Body, c) {
			t.Fatalf("body lacks %q:\n%s", c, clip(a.Body))
		}
	}
}

func wantRedirect(t *testing.T, a answer, prefix string) {
	t.Helper()
	if a.Status != http.StatusSeeOther || !strings.HasPrefix(a.Location, prefix) {
		t.Fatalf("got %d to %q, want 303 to %s…; body:\n%s", a.Status, a.Location, prefix, clip(a.Body))
	}
}

func clip(s string) string {
	if len(s) > 3000 {
		return s[:3000] + "…"
	}
	return s
}

const testPassword = "correct horse battery"

// person is a signed-up, confirmed, signed-in user.
type person struct {
	*browser
	Name, Email, ID string
}

// signUp registers name/email through the pages, confirms the address
// with the mailed link and signs in.
func signUp(t *testing.T, ts *testServer, smtp *mailtest.Server, name, email string) *person {
	t.Helper()
	b := newBrowser(t, ts.URL)
	wantRedirect(t, b.post("/signup", url.Values{"name": {name}, "email": {email}, "password": {testPassword}}), "/signin?notice=signed-up")
	m := smtp.WaitFor(t, email, "Confirm your e-mail address")
	wantRedirect(t, b.get(m.Link(t, "/verify/")), "/signin?notice=verified")
	wantRedirect(t, b.post("/signin", url.Values{"email": {email}, "password": {testPassword}}), "/library")
	u, err := ts.d.store.UserByEmail(t.Context(), strings.ToLower(email))
	if err != nil {
		t.Fatal(err)
	}
	return &person{browser: b, Name: name, Email: email, ID: u.ID}
}
