package httpapi

import (
	"bytes"
	"errors"
	"net/http"

	"github.com/gofiber/fiber/v2"

	"framecast.dev/server/internal/account"
	"framecast.dev/server/internal/privacy"
	"framecast.dev/server/internal/store"
	"framecast.dev/server/web"
)

// The privacy centre's pages: data exports and the privacy log. Handlers
// only translate between forms and the privacy package.

func (s *Server) privacyRoutes(a *fiber.App) {
	a.Get("/privacy", s.signedIn, s.privacyPage)
	a.Post("/privacy/export", s.csrf, s.signedIn, s.requestExport)
	a.Get("/privacy/exports/:token", s.signedIn, s.downloadExport)
	a.Post("/w/:id/export", s.csrf, s.signedIn, s.requestWorkspaceExport)
	a.Post("/privacy/restriction", s.csrf, s.signedIn, s.setRestriction)
	a.Post("/privacy/mail", s.csrf, s.signedIn, s.setMailPreference)
	a.Get("/privacy/cookies", s.withUser, s.cookiesPage)
	// One-click unsubscribe (RFC 8058): mail providers POST without
	// cookies, so no session and no CSRF token; the link's MAC is the
	// capability, and it can only turn informational mail off.
	a.Get("/unsubscribe/:token", s.unsubscribePage)
	a.Post("/unsubscribe/:token", s.unsubscribe)
	s.consentRoutes(a)
}

func (s *Server) setRestriction(c *fiber.Ctx) error {
	on := formOf(c).Get("restrict") == "on"
	if err := s.privacy.SetRestricted(c.UserContext(), *userOf(c), on); err != nil {
		return err
	}
	if on {
		return redirect(c, "/privacy?notice=restricted")
	}
	return redirect(c, "/privacy?notice=unrestricted")
}

func (s *Server) setMailPreference(c *fiber.Ctx) error {
	if err := s.privacy.SetOptionalMail(c.UserContext(), *userOf(c), formOf(c).Get("optional_mail") == "on"); err != nil {
		return err
	}
	return redirect(c, "/privacy?notice=saved#mail")
}

func (s *Server) unsubscribePage(c *fiber.Ctx) error {
	return renderNoCookies(c, fiber.StatusOK, "unsubscribe.html", page{Title: "Unsubscribe", Data: c.Params("token")})
}

// renderNoCookies renders a page for someone who may not be signed in
// (from a mail) without the CSRF cookie render sets: its form needs none.
func renderNoCookies(c *fiber.Ctx, status int, name string, p page) error {
	var b bytes.Buffer
	if err := web.Templates.ExecuteTemplate(&b, name, p); err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Status(status).Send(b.Bytes())
}

func (s *Server) unsubscribe(c *fiber.Ctx) error {
	if err := s.privacy.Unsubscribe(c.UserContext(), c.Params("token")); err != nil {
		return privacyError(err)
	}
	return renderNoCookies(c, fiber.StatusOK, "unsubscribe.html", page{Title: "Unsubscribed",
		Notice: "Done: you will get no more informational mail from Framecast. Mails you need (password resets, exports you ask for, legal notices) still come."})
}

// cookieInfo is one cookie the server sets, for the cookies page.
type cookieInfo struct{ Name, Purpose, Lifetime string }

func (s *Server) cookiesPage(c *fiber.Ctx) error {
	list := []cookieInfo{
		{s.cookies.session, "Keeps you signed in. Holds a random secret; the server keeps only its hash.", "30 days from your last visit, or until you sign out"},
		{s.cookies.csrf, "Proves that a form you send came from this site (protection against cross-site request forgery). Set on pages with forms.", "Until you close the browser or sign out"},
	}
	return s.render(c, fiber.StatusOK, "cookies.html", page{Title: "Cookies", Data: list})
}

// privacyNotices are the privacy pages' ?notice= messages.
var privacyNotices = map[string]string{
	"export-requested": "We are preparing your data. You will get an e-mail with a download link when it is ready.",
	"workspace-export": "We are preparing the workspace's data. You will get an e-mail with a download link when it is ready.",
	"accepted":         "Thank you: you accepted the privacy policy.",
	"published":        "The new version is published; every user is being told by e-mail.",
	"restricted":       "Processing of your data is restricted: it is kept, your videos' viewers are not tracked and you get no informational mail.",
	"unrestricted":     "The restriction is lifted.",
	"saved":            "Saved.",
}

type privacyData struct {
	Exports  []store.Export
	Audit    []store.AuditEntry
	Consents []store.Consent
	Policy   privacy.PolicyState
	Shared   []store.Video
	Settings store.PrivacySettings
}

func (s *Server) privacyPage(c *fiber.Ctx) error {
	return s.privacyPageWith(c, fiber.StatusOK, page{})
}

func (s *Server) privacyPageWith(c *fiber.Ctx, status int, p page) error {
	u := userOf(c)
	es, err := s.privacy.Exports(c.UserContext(), *u)
	if err != nil {
		return err
	}
	log, err := s.privacy.AuditLog(c.UserContext(), *u)
	if err != nil {
		return err
	}
	cs, err := s.privacy.Consents(c.UserContext(), *u)
	if err != nil {
		return err
	}
	st, err := s.privacy.Policy(c.UserContext())
	if err != nil {
		return err
	}
	shared, err := s.accounts.SharedVideos(c.UserContext(), *u)
	if err != nil {
		return err
	}
	ps, err := s.privacy.Settings(c.UserContext(), *u)
	if err != nil {
		return err
	}
	p.Title = "Privacy"
	if p.Notice == "" {
		p.Notice = privacyNotices[c.Query("notice")]
	}
	p.Data = privacyData{Exports: es, Audit: log, Consents: cs, Policy: st, Shared: shared, Settings: ps}
	return s.render(c, status, "privacy.html", p)
}

func (s *Server) requestExport(c *fiber.Ctx) error {
	if _, err := s.privacy.RequestExport(c.UserContext(), *userOf(c)); err != nil {
		var pe *privacy.Error
		if errors.As(err, &pe) {
			return s.privacyPageWith(c, privacyStatus(pe.Kind), page{Error: pe.Message})
		}
		return err
	}
	return redirect(c, "/privacy?notice=export-requested")
}

func (s *Server) requestWorkspaceExport(c *fiber.Ctx) error {
	id := c.Params("id")
	if _, err := s.privacy.RequestWorkspaceExport(c.UserContext(), *userOf(c), id); err != nil {
		return privacyError(err)
	}
	return redirect(c, "/privacy?notice=workspace-export")
}

func (s *Server) downloadExport(c *fiber.Ctx) error {
	rc, e, err := s.privacy.Download(c.UserContext(), *userOf(c), c.Params("token"))
	if err != nil {
		return privacyError(err)
	}
	name := "framecast-data-" + e.ReadyAt.Format("2006-01-02") + ".zip"
	if e.WorkspaceID != "" {
		name = "framecast-workspace-" + e.ReadyAt.Format("2006-01-02") + ".zip"
	}
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	c.Set(fiber.HeaderContentType, "application/zip")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	c.Set("X-Content-Type-Options", "nosniff")
	return c.SendStream(rc, int(e.Size))
}

// privacyError turns a privacy (or account) error into an answer.
func privacyError(err error) error {
	var pe *privacy.Error
	if errors.As(err, &pe) {
		return &apiError{Status: privacyStatus(pe.Kind), Code: codeFor(privacyStatus(pe.Kind)), Message: pe.Message}
	}
	var ae *account.Error
	if errors.As(err, &ae) {
		return accountError(err)
	}
	return err
}

func privacyStatus(k privacy.Kind) int {
	switch k {
	case privacy.KindInvalid:
		return http.StatusBadRequest
	case privacy.KindNotFound:
		return http.StatusNotFound
	case privacy.KindForbidden:
		return http.StatusForbidden
	case privacy.KindGone:
		return http.StatusGone
	case privacy.KindConflict:
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}
