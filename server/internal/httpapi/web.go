package httpapi

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"framecast.dev/server/internal/account"
	"framecast.dev/server/internal/store"
	"framecast.dev/server/web"
	"framecast.dev/shared/api"
)

// The web side of accounts: cookies, CSRF, forms and pages.
//
// Cookies. Signed-in browsers hold two cookies, both HttpOnly,
// SameSite=Lax, Path=/: the session (its secret; the database keeps the
// hash) and the CSRF token. With an https base URL they are Secure and
// carry the __Host- prefix, so no other host (a sibling subdomain) can
// set or shadow them. Browsers refuse Secure cookies on plain http, so a
// server whose base URL is http:// (allowed only for localhost, see
// config) drops the prefix and the Secure flag. Viewers of share pages
// get no cookies.
//
// CSRF. Every state-changing form (POST) carries the CSRF cookie's value
// in a hidden field "csrf" (double submit, compared in constant time); a
// cross-site Origin or Sec-Fetch-Site is refused as well. SameSite=Lax
// already keeps the session cookie off cross-site POSTs; the token covers
// older browsers and same-site attackers.

const (
	localUser   = "user"
	localDevice = "device"
	localForm   = "form"
	localCSRF   = "csrf"
)

type cookieNames struct {
	session, csrf string
	secure        bool
}

func newCookieNames(secure bool) cookieNames {
	if secure {
		return cookieNames{session: "__Host-fc_session", csrf: "__Host-fc_csrf", secure: true}
	}
	return cookieNames{session: "fc_session", csrf: "fc_csrf"}
}

func (s *Server) setCookie(c *fiber.Ctx, name, value string, maxAge time.Duration) {
	ck := &fiber.Cookie{Name: name, Value: value, Path: "/", Secure: s.cookies.secure, HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode}
	switch {
	case maxAge > 0:
		ck.MaxAge = int(maxAge / time.Second)
		ck.Expires = time.Now().Add(maxAge)
	case maxAge < 0:
		ck.MaxAge = -1
		ck.Expires = time.Unix(0, 0)
	}
	c.Cookie(ck)
}

// userOf is the signed-in user of the request (web session or device
// token); nil when anonymous.
func userOf(c *fiber.Ctx) *store.User {
	u, _ := c.Locals(localUser).(*store.User)
	return u
}

// client describes the requester for rate limits and session records.
func (s *Server) client(c *fiber.Ctx) account.Client {
	return account.Client{IP: s.clientIP(c), UserAgent: c.Get(fiber.HeaderUserAgent)}
}

// clientIP is the TCP peer, or, when the peer is a trusted proxy, the
// rightmost address in X-Forwarded-For that is not a trusted proxy
// (addresses further left were written by the client and prove nothing).
func (s *Server) clientIP(c *fiber.Ctx) string {
	peer, ok := netip.AddrFromSlice(c.Context().RemoteIP())
	if !ok {
		return c.IP()
	}
	peer = peer.Unmap()
	if !s.trusted(peer) {
		return peer.String()
	}
	hops := strings.Split(c.Get(fiber.HeaderXForwardedFor), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		if a = a.Unmap(); !s.trusted(a) {
			return a.String()
		}
	}
	return peer.String()
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// currentUser loads the session's user once per request; nil when the
// browser is not signed in (a stale cookie is cleared).
func (s *Server) currentUser(c *fiber.Ctx) (*store.User, error) {
	if u := userOf(c); u != nil {
		return u, nil
	}
	secret := c.Cookies(s.cookies.session)
	if secret == "" {
		return nil, nil
	}
	u, extended, err := s.accounts.Session(c.UserContext(), secret)
	switch {
	case account.IsKind(err, account.KindUnauthorized):
		s.setCookie(c, s.cookies.session, "", -1)
		return nil, nil
	case err != nil:
		return nil, err
	}
	c.Locals(localUser, &u)
	if extended {
		s.setCookie(c, s.cookies.session, secret, account.SessionTTL)
	}
	return &u, nil
}

// withUser loads the signed-in user, if any.
func (s *Server) withUser(c *fiber.Ctx) error {
	if _, err := s.currentUser(c); err != nil {
		return err
	}
	return c.Next()
}

// signedIn requires a session: a page redirects to the sign-in page (and
// comes back afterwards), anything else answers 401.
func (s *Server) signedIn(c *fiber.Ctx) error {
	u, err := s.currentUser(c)
	if err != nil {
		return err
	}
	if u != nil {
		if stop, err := s.consentGate(c, u); stop || err != nil {
			return err
		}
		return c.Next()
	}
	if c.Method() == fiber.MethodGet || c.Method() == fiber.MethodHead {
		return c.Redirect("/signin?next="+url.QueryEscape(string(c.Request().URI().RequestURI())), fiber.StatusSeeOther)
	}
	return newError(fiber.StatusUnauthorized, api.CodeUnauthorized, "Sign in first.")
}

// csrfToken returns the browser's CSRF token, setting the cookie when it
// has none. Pages with forms call it.
func (s *Server) csrfToken(c *fiber.Ctx) string {
	if t, ok := c.Locals(localCSRF).(string); ok {
		return t
	}
	t := c.Cookies(s.cookies.csrf)
	if !validToken(t) {
		var b [32]byte
		rand.Read(b[:])
		t = base64.RawURLEncoding.EncodeToString(b[:])
		s.setCookie(c, s.cookies.csrf, t, 0)
	}
	c.Locals(localCSRF, t)
	return t
}

// rotateCSRF gives the browser a new CSRF token (at sign-in and sign-out,
// so a token planted before cannot be used after).
func (s *Server) rotateCSRF(c *fiber.Ctx) {
	c.Locals(localCSRF, nil)
	s.setCookie(c, s.cookies.csrf, "", -1)
	c.Request().Header.DelCookie(s.cookies.csrf)
	s.csrfToken(c)
}

func validToken(t string) bool {
	if len(t) != 43 {
		return false
	}
	for i := 0; i < len(t); i++ {
		if c := t[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// form is a parsed form body.
type form struct {
	url.Values
	file []byte // the uploaded file, for multipart forms
}

func formOf(c *fiber.Ctx) *form {
	f, _ := c.Locals(localForm).(*form)
	if f == nil {
		return &form{Values: url.Values{}}
	}
	return f
}

// Largest form bodies: uploads of images carry the image and some room
// for the multipart framing; everything else obeys MaxBodyBytes.
const maxUploadBody = account.MaxImageBytes + 64<<10

// isImageUpload tells limitBody which routes take images.
func isImageUpload(method, path string) bool {
	return method == fiber.MethodPost && (path == "/profile/photo" || strings.HasPrefix(path, "/w/") && strings.HasSuffix(path, "/logo"))
}

// csrf reads the form of a POST (bounded) and checks its CSRF token and
// origin. Handlers then read the form with formOf.
func (s *Server) csrf(c *fiber.Ctx) error {
	forbidden := newError(fiber.StatusForbidden, api.CodeForbidden,
		"The form expired or came from another site. Go back, reload the page and try again.")
	if site := c.Get("Sec-Fetch-Site"); site == "cross-site" {
		return forbidden
	}
	if o := c.Get(fiber.HeaderOrigin); o != "" && o != "null" && !strings.EqualFold(o, s.origin()) {
		return forbidden
	}
	f, err := s.readForm(c, s.bodyLimit(c.Method(), c.Path()))
	if err != nil {
		return err
	}
	c.Locals(localForm, f)
	cookie := c.Cookies(s.cookies.csrf)
	if !validToken(cookie) || subtle.ConstantTimeCompare([]byte(cookie), []byte(f.Get("csrf"))) != 1 {
		return forbidden
	}
	return c.Next()
}

// origin is the scheme://host[:port] of the base URL.
func (s *Server) origin() string {
	u, err := url.Parse(s.baseURL)
	if err != nil {
		return s.baseURL
	}
	return u.Scheme + "://" + u.Host
}

// readForm parses an urlencoded or multipart body of at most limit bytes.
func (s *Server) readForm(c *fiber.Ctx, limit int64) (*form, error) {
	body, err := s.readBody(c, limit)
	if err != nil {
		return nil, err
	}
	bad := func(what string) error {
		return newError(fiber.StatusBadRequest, api.CodeBadRequest, "The form could not be read (%s). Reload the page and try again.", what)
	}
	ct := c.Get(fiber.HeaderContentType)
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil && len(body) > 0 {
		return nil, bad("no content type")
	}
	switch {
	case len(body) == 0:
		return &form{Values: url.Values{}}, nil
	case mt == "application/x-www-form-urlencoded":
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, bad("malformed")
		}
		return &form{Values: v}, nil
	case mt == "multipart/form-data" && params["boundary"] != "":
		mf, err := multipart.NewReader(bytes.NewReader(body), params["boundary"]).ReadForm(limit)
		if err != nil {
			return nil, bad("malformed multipart")
		}
		defer mf.RemoveAll()
		f := &form{Values: url.Values(mf.Value)}
		for _, fhs := range mf.File {
			if len(fhs) == 0 {
				continue
			}
			r, err := fhs[0].Open()
			if err != nil {
				return nil, bad("file")
			}
			f.file, err = io.ReadAll(r)
			r.Close()
			if err != nil {
				return nil, bad("file")
			}
			break
		}
		return f, nil
	}
	return nil, newError(fiber.StatusUnsupportedMediaType, api.CodeBadRequest, "Send the form as a web form (%s).", truncate(mt, 64))
}

// page is what every account page template gets.
type page struct {
	Title     string
	User      *store.User
	CSRF      string
	Notice    string
	Error     string
	Field     string            // the field the error is about
	Form      map[string]string // values to show again after an error
	Providers []account.ProviderInfo
	Data      any
	// Banner is a notice for every signed-in page (an upcoming privacy
	// policy version).
	Banner string
}

// notices are the messages a redirect may ask a page to show (?notice=),
// so no request can put its own words on a page.
var notices = map[string]string{
	"signed-up":        "Almost done: we sent you a link to confirm your e-mail address. Open it, then sign in.",
	"verified":         "Your e-mail address is confirmed. Sign in to continue.",
	"verified-in":      "Your e-mail address is confirmed.",
	"reset-sent":       "If an account uses that address, we sent it a link to choose a new password. It works for an hour.",
	"password-reset":   "Your password was changed and every browser signed out. Sign in with the new password.",
	"signed-out":       "You are signed out.",
	"saved":            "Saved.",
	"email-pending":    "Saved. We sent a link to your new address; it takes effect once you open it.",
	"password-changed": "Your password was changed; other browsers were signed out.",
	"photo-saved":      "Your photo was saved.",
	"photo-deleted":    "Your photo was removed.",
	"device-approved":  "The desktop app is signed in. You can close this tab.",
	"device-denied":    "The sign-in was denied; the app gets no access.",
	"device-revoked":   "The device was signed out.",
	"account-deleted":  "Your account and its data were deleted.",
	"workspace-made":   "The workspace was created.",
	"invited":          "The invitation was sent.",
	"joined":           "You joined the workspace.",
	"moved":            "The video was moved.",
	"left":             "You left the workspace.",
	"removed":          "Done.",
	"deleted":          "The workspace was deleted; its videos went back to their owners.",
}

// render writes a page with the common header data.
func (s *Server) render(c *fiber.Ctx, status int, name string, p page) error {
	if p.User == nil {
		p.User = userOf(c)
	}
	p.CSRF = s.csrfToken(c)
	if p.User != nil && s.privacy != nil {
		p.Banner = s.privacy.Banner(c.UserContext())
	}
	if p.Notice == "" {
		p.Notice = notices[c.Query("notice")]
	}
	var b bytes.Buffer
	if err := web.Templates.ExecuteTemplate(&b, name, p); err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Status(status).Send(b.Bytes())
}

// formError re-renders a form page with the error of err when it is one
// the person can fix (bad input, wrong password...); other errors go to
// the error handler.
func (s *Server) formError(c *fiber.Ctx, name string, p page, err error) error {
	var ae *account.Error
	if !errors.As(err, &ae) {
		return err
	}
	status := accountStatus(ae.Kind)
	if status >= 500 {
		return err
	}
	if ae.Kind == account.KindRateLimited && ae.RetryAfter > 0 {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(ae.RetryAfter.Seconds())))
	}
	p.Error, p.Field = ae.Message, ae.Field
	return s.render(c, status, name, p)
}

// redirect answers a form post with 303 to a local path.
func redirect(c *fiber.Ctx, path string) error {
	return c.Redirect(path, fiber.StatusSeeOther)
}

// accountStatus maps account error kinds to HTTP statuses.
func accountStatus(k account.Kind) int {
	switch k {
	case account.KindInvalid, account.KindAuthorizationPending, account.KindSlowDown, account.KindExpired:
		return http.StatusBadRequest
	case account.KindUnauthorized:
		return http.StatusUnauthorized
	case account.KindForbidden, account.KindUnverified, account.KindAccessDenied:
		return http.StatusForbidden
	case account.KindNotFound:
		return http.StatusNotFound
	case account.KindConflict:
		return http.StatusConflict
	case account.KindRateLimited:
		return http.StatusTooManyRequests
	case account.KindTooLarge:
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusInternalServerError
}

// accountError turns an account error into an answer (JSON under /api/,
// an error page elsewhere).
func accountError(err error) error {
	var ae *account.Error
	if !errors.As(err, &ae) {
		return err
	}
	status := accountStatus(ae.Kind)
	code := codeFor(status)
	switch ae.Kind {
	case account.KindForbidden, account.KindUnverified:
		code = api.CodeForbidden
	case account.KindConflict:
		code = api.CodeConflict
	case account.KindRateLimited:
		code = api.CodeRateLimited
	case account.KindAuthorizationPending:
		code = api.CodeAuthorizationPending
	case account.KindSlowDown:
		code = api.CodeSlowDown
	case account.KindAccessDenied:
		code = api.CodeAccessDenied
	case account.KindExpired:
		code = api.CodeExpiredToken
	}
	out := &apiError{Status: status, Code: code, Message: ae.Message}
	if ae.RetryAfter > 0 {
		out.Headers = map[string]string{fiber.HeaderRetryAfter: strconv.Itoa(int(ae.RetryAfter.Seconds()))}
	}
	return out
}

func asAccountError(err error, target **account.Error) bool { return errors.As(err, target) }
