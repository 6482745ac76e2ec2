package httpapi

import (
	"errors"
	"net/http"

	"github.com/gofiber/fiber/v2"

	"framecast.dev/server/internal/account"
	"framecast.dev/server/internal/privacy"
	"framecast.dev/server/internal/store"
)

// The privacy centre's pages: data exports and the privacy log. Handlers
// only translate between forms and the privacy package.

func (s *Server) privacyRoutes(a *fiber.App) {
	a.Get("/privacy", s.signedIn, s.privacyPage)
	a.Post("/privacy/export", s.csrf, s.signedIn, s.requestExport)
	a.Get("/privacy/exports/:token", s.signedIn, s.downloadExport)
	a.Post("/w/:id/export", s.csrf, s.signedIn, s.requestWorkspaceExport)
	s.consentRoutes(a)
}

// privacyNotices are the privacy pages' ?notice= messages.
var privacyNotices = map[string]string{
	"export-requested": "We are preparing your data. You will get an e-mail with a download link when it is ready.",
	"workspace-export": "We are preparing the workspace's data. You will get an e-mail with a download link when it is ready.",
	"accepted":         "Thank you: you accepted the privacy policy.",
	"published":        "The new version is published; every user is being told by e-mail.",
}

type privacyData struct {
	Exports  []store.Export
	Audit    []store.AuditEntry
	Consents []store.Consent
	Policy   privacy.PolicyState
	Shared   []store.Video
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
	p.Title = "Privacy"
	if p.Notice == "" {
		p.Notice = privacyNotices[c.Query("notice")]
	}
	p.Data = privacyData{Exports: es, Audit: log, Consents: cs, Policy: st, Shared: shared}
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
