package httpapi

import (
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"framecast.dev/server/internal/account"
	"framecast.dev/server/internal/privacy"
	"framecast.dev/server/internal/store"
	"framecast.dev/shared/api"
)

// Consent to the privacy policy: the policy page, accepting a major
// version again, withdrawing consent (which deletes the account), and
// the administrators' page that publishes a new version.

func (s *Server) consentRoutes(a *fiber.App) {
	a.Get("/privacy/policy", s.withUser, s.policyPage)
	a.Get("/privacy/consent", s.signedIn, s.consentPage)
	a.Post("/privacy/consent", s.csrf, s.signedIn, s.accept)
	a.Post("/privacy/withdraw", s.csrf, s.signedIn, s.withdraw)
	a.Get("/admin/policy", s.signedIn, s.adminPolicyPage)
	a.Post("/admin/policy", s.csrf, s.signedIn, s.publishPolicy)
	a.Get("/support", s.signedIn, s.supportPage)
	a.Post("/support", s.csrf, s.signedIn, s.sendSupport)
	a.Get("/admin/support", s.signedIn, s.adminSupportPage)
}

func (s *Server) supportPage(c *fiber.Ctx) error {
	p := page{Title: "Contact support"}
	if c.Query("notice") == "sent" {
		p.Notice = "Thank you: your message was sent. We answer by e-mail."
	}
	return s.render(c, fiber.StatusOK, "support.html", p)
}

func (s *Server) sendSupport(c *fiber.Ctx) error {
	f := formOf(c)
	if err := s.privacy.SendSupport(c.UserContext(), *userOf(c), f.Get("subject"), f.Get("body")); err != nil {
		var pe *privacy.Error
		if errors.As(err, &pe) {
			return s.render(c, privacyStatus(pe.Kind), "support.html", page{Title: "Contact support", Error: pe.Message,
				Form: map[string]string{"subject": f.Get("subject"), "body": f.Get("body")}})
		}
		return err
	}
	return redirect(c, "/support?notice=sent")
}

func (s *Server) adminSupportPage(c *fiber.Ctx) error {
	ms, err := s.privacy.SupportMessages(c.UserContext(), *userOf(c))
	if err != nil {
		return privacyError(err)
	}
	return s.render(c, fiber.StatusOK, "admin_support.html", page{Title: "Support messages", Data: ms})
}

// consentGate sends a signed-in user who has not accepted the latest
// major policy version to accept it first (or withdraw and leave); the
// privacy pages and signing out stay open. stop says the request was
// answered (redirected) or failed.
func (s *Server) consentGate(c *fiber.Ctx, u *store.User) (stop bool, err error) {
	if s.privacy == nil {
		return false, nil
	}
	p := c.Path()
	if strings.HasPrefix(p, "/privacy") || p == "/signout" || strings.HasPrefix(p, "/profile/delete") || isAPI(p) {
		return false, nil
	}
	_, need, err := s.privacy.NeedsConsent(c.UserContext(), *u)
	if err != nil || !need {
		return err != nil, err
	}
	if c.Method() == fiber.MethodGet || c.Method() == fiber.MethodHead {
		return true, c.Redirect("/privacy/consent?next="+url.QueryEscape(string(c.Request().URI().RequestURI())), fiber.StatusSeeOther)
	}
	return true, newError(fiber.StatusForbidden, api.CodeForbidden, "Accept the new privacy policy first: open %s/privacy/consent.", s.baseURL)
}

// policyForm adds the current policy version to a sign-up form.
func (s *Server) policyForm(c *fiber.Ctx, form map[string]string) map[string]string {
	if form == nil {
		form = map[string]string{}
	}
	if s.privacy != nil {
		if st, err := s.privacy.Policy(c.UserContext()); err == nil {
			form["policy_version"] = st.Current.Version
		}
	}
	return form
}

type consentData struct {
	Policy   privacy.PolicyState
	Required store.PolicyVersion
	Next     string
	Shared   []store.Video
}

func (s *Server) policyPage(c *fiber.Ctx) error {
	st, err := s.privacy.Policy(c.UserContext())
	if err != nil {
		return err
	}
	return s.render(c, fiber.StatusOK, "policy.html", page{Title: "Privacy policy", Data: consentData{Policy: st}})
}

func (s *Server) consentPage(c *fiber.Ctx) error {
	return s.consentPageWith(c, fiber.StatusOK, page{})
}

func (s *Server) consentPageWith(c *fiber.Ctx, status int, p page) error {
	u := userOf(c)
	req, need, err := s.privacy.NeedsConsent(c.UserContext(), *u)
	if err != nil {
		return err
	}
	if !need {
		return redirect(c, or(next(c), "/library"))
	}
	shared, err := s.accounts.SharedVideos(c.UserContext(), *u)
	if err != nil {
		return err
	}
	p.Title = "Our privacy policy changed"
	p.Data = consentData{Required: req, Next: next(c), Shared: shared}
	return s.render(c, status, "consent.html", p)
}

func (s *Server) accept(c *fiber.Ctx) error {
	if err := s.privacy.Accept(c.UserContext(), *userOf(c), formOf(c).Get("version")); err != nil {
		return privacyError(err)
	}
	return redirect(c, or(next(c), "/privacy?notice=accepted"))
}

func (s *Server) withdraw(c *fiber.Ctx) error {
	f := formOf(c)
	if err := s.privacy.Withdraw(c.UserContext(), *userOf(c), f.Get("confirm"), f.Get("shared")); err != nil {
		var ae *account.Error
		if errors.As(err, &ae) && accountStatus(ae.Kind) < 500 {
			return s.privacyPageWith(c, accountStatus(ae.Kind), page{Error: ae.Message, Field: ae.Field})
		}
		return err
	}
	s.endSession(c)
	return redirect(c, "/signin?notice=account-deleted")
}

func (s *Server) adminPolicyPage(c *fiber.Ctx) error {
	return s.adminPolicyPageWith(c, fiber.StatusOK, page{})
}

func (s *Server) adminPolicyPageWith(c *fiber.Ctx, status int, p page) error {
	if !s.privacy.IsAdmin(*userOf(c)) {
		return newError(fiber.StatusNotFound, api.CodeNotFound, "There is nothing at this address.")
	}
	ps, err := s.privacy.Policies(c.UserContext())
	if err != nil {
		return err
	}
	p.Title = "Privacy policy versions"
	if p.Notice == "" {
		p.Notice = privacyNotices[c.Query("notice")]
	}
	if p.Form == nil {
		p.Form = map[string]string{"effective": s.privacy.Now().Add(privacy.NoticePeriod + 24*time.Hour).Format("2006-01-02")}
	}
	p.Data = ps
	return s.render(c, status, "admin_policy.html", p)
}

func (s *Server) publishPolicy(c *fiber.Ctx) error {
	u := userOf(c)
	if !s.privacy.IsAdmin(*u) {
		return newError(fiber.StatusNotFound, api.CodeNotFound, "There is nothing at this address.")
	}
	f := formOf(c)
	form := map[string]string{"version": f.Get("version"), "summary": f.Get("summary"), "body": f.Get("body"), "effective": f.Get("effective"), "major": f.Get("major")}
	at, err := time.Parse("2006-01-02", f.Get("effective"))
	if err != nil {
		return s.adminPolicyPageWith(c, fiber.StatusBadRequest, page{Error: "Give the day it takes effect as YYYY-MM-DD.", Form: form})
	}
	in := privacy.PublishInput{Version: f.Get("version"), Major: f.Get("major") == "on", Summary: f.Get("summary"), Body: f.Get("body"), EffectiveAt: at}
	if err := s.privacy.Publish(c.UserContext(), *u, in); err != nil {
		var pe *privacy.Error
		if errors.As(err, &pe) {
			return s.adminPolicyPageWith(c, privacyStatus(pe.Kind), page{Error: pe.Message, Form: form})
		}
		return err
	}
	return redirect(c, "/admin/policy?notice=published")
}
