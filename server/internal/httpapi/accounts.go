package httpapi

import (
	"bytes"

	"github.com/gofiber/fiber/v2"

	"framecast.dev/server/internal/account"
	"framecast.dev/server/internal/privacy"
	"framecast.dev/server/internal/store"
)

// Pages for signing up, in and out, confirming an address, resetting a
// password, the profile, and desktop sign-in. Handlers only translate
// between forms and the account package.

func (s *Server) accountRoutes(a *fiber.App) {
	a.Get("/", s.withUser, s.home)
	a.Get("/signup", s.withUser, s.signUpPage)
	a.Post("/signup", s.csrf, s.signUp)
	a.Get("/signin", s.withUser, s.signInPage)
	a.Post("/signin", s.csrf, s.signIn)
	a.Post("/signout", s.csrf, s.signOut)
	a.Get("/verify/:token", s.withUser, s.verify)
	a.Get("/reset", s.withUser, s.resetRequestPage)
	a.Post("/reset", s.csrf, s.resetRequest)
	a.Get("/reset/:token", s.withUser, s.resetPage)
	a.Post("/reset/:token", s.csrf, s.reset)
	a.Get("/auth/:provider", s.oidcStart)
	a.Get("/auth/:provider/callback", s.oidcCallback)

	a.Get("/profile", s.signedIn, s.profilePage)
	a.Post("/profile", s.csrf, s.signedIn, s.updateProfile)
	a.Post("/profile/password", s.csrf, s.signedIn, s.changePassword)
	a.Get("/profile/photo", s.signedIn, s.photo)
	a.Post("/profile/photo", s.csrf, s.signedIn, s.setPhoto)
	a.Post("/profile/photo/delete", s.csrf, s.signedIn, s.deletePhoto)
	a.Post("/profile/delete", s.csrf, s.signedIn, s.deleteAccount)

	a.Get("/device", s.signedIn, s.devicePage)
	a.Post("/device", s.csrf, s.signedIn, s.decideDevice)
	a.Get("/devices", s.signedIn, s.devicesPage)
	a.Post("/devices/:id/revoke", s.csrf, s.signedIn, s.revokeDevice)
}

func (s *Server) home(c *fiber.Ctx) error {
	if userOf(c) != nil {
		return redirect(c, "/library")
	}
	return redirect(c, "/signin")
}

// next is the local page to go to after signing in.
func next(c *fiber.Ctx) string {
	n := account.SafeNext(c.Query("next"))
	if f := formOf(c).Get("next"); f != "" {
		n = account.SafeNext(f)
	}
	return n
}

func (s *Server) signUpPage(c *fiber.Ctx) error {
	if userOf(c) != nil {
		return redirect(c, "/library")
	}
	return s.render(c, fiber.StatusOK, "signup.html", page{Title: "Sign up", Providers: s.accounts.Providers(), Form: s.policyForm(c, nil)})
}

func (s *Server) signUp(c *fiber.Ctx) error {
	f := formOf(c)
	in := account.SignUpInput{Name: f.Get("name"), Email: f.Get("email"), Password: f.Get("password"), Phone: f.Get("phone"), Company: f.Get("company"),
		PolicyVersion: f.Get("policy_version")}
	if err := s.accounts.SignUp(c.UserContext(), in, s.client(c)); err != nil {
		return s.formError(c, "signup.html", page{Title: "Sign up", Providers: s.accounts.Providers(),
			Form: s.policyForm(c, map[string]string{"name": in.Name, "email": in.Email, "phone": in.Phone, "company": in.Company})}, err)
	}
	return redirect(c, "/signin?notice=signed-up")
}

func (s *Server) signInPage(c *fiber.Ctx) error {
	if userOf(c) != nil {
		return redirect(c, or(next(c), "/library"))
	}
	return s.render(c, fiber.StatusOK, "signin.html", page{Title: "Sign in", Providers: s.accounts.Providers(),
		Form: map[string]string{"next": next(c)}})
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (s *Server) signIn(c *fiber.Ctx) error {
	f := formOf(c)
	tok, _, err := s.accounts.SignIn(c.UserContext(), f.Get("email"), f.Get("password"), s.client(c))
	if err != nil {
		return s.formError(c, "signin.html", page{Title: "Sign in", Providers: s.accounts.Providers(),
			Form: map[string]string{"email": f.Get("email"), "next": next(c)}}, err)
	}
	s.startSession(c, tok)
	return redirect(c, or(next(c), "/library"))
}

// startSession sets the session cookie and a fresh CSRF token.
func (s *Server) startSession(c *fiber.Ctx, secret string) {
	s.setCookie(c, s.cookies.session, secret, account.SessionTTL)
	s.rotateCSRF(c)
}

func (s *Server) endSession(c *fiber.Ctx) {
	s.setCookie(c, s.cookies.session, "", -1)
	s.setCookie(c, s.cookies.csrf, "", -1)
}

func (s *Server) signOut(c *fiber.Ctx) error {
	if err := s.accounts.SignOut(c.UserContext(), c.Cookies(s.cookies.session)); err != nil {
		return err
	}
	s.endSession(c)
	return redirect(c, "/signin?notice=signed-out")
}

func (s *Server) verify(c *fiber.Ctx) error {
	u, err := s.accounts.VerifyEmail(c.UserContext(), c.Params("token"))
	if err != nil {
		return accountError(err)
	}
	if me := userOf(c); me != nil && me.ID == u.ID {
		return redirect(c, "/profile?notice=verified-in")
	}
	return redirect(c, "/signin?notice=verified")
}

func (s *Server) resetRequestPage(c *fiber.Ctx) error {
	return s.render(c, fiber.StatusOK, "reset_request.html", page{Title: "Forgot your password?"})
}

func (s *Server) resetRequest(c *fiber.Ctx) error {
	email := formOf(c).Get("email")
	if err := s.accounts.RequestReset(c.UserContext(), email, s.client(c)); err != nil {
		return s.formError(c, "reset_request.html", page{Title: "Forgot your password?", Form: map[string]string{"email": email}}, err)
	}
	return redirect(c, "/reset?notice=reset-sent")
}

func (s *Server) resetPage(c *fiber.Ctx) error {
	return s.render(c, fiber.StatusOK, "reset.html", page{Title: "Choose a new password", Data: c.Params("token")})
}

func (s *Server) reset(c *fiber.Ctx) error {
	token := c.Params("token")
	if _, err := s.accounts.ResetPassword(c.UserContext(), token, formOf(c).Get("password")); err != nil {
		return s.formError(c, "reset.html", page{Title: "Choose a new password", Data: token}, err)
	}
	s.endSession(c)
	return redirect(c, "/signin?notice=password-reset")
}

// oidcStart sends the browser to the provider. It is a link, not a form:
// browsers apply the CSP form-action to the redirect that follows a form,
// which would block the provider. The browser binding is the CSRF cookie.
func (s *Server) oidcStart(c *fiber.Ctx) error {
	to, err := s.accounts.StartOIDC(c.UserContext(), c.Params("provider"), s.csrfToken(c), c.Query("next"), s.client(c))
	if err != nil {
		return accountError(err)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Redirect(to, fiber.StatusSeeOther)
}

func (s *Server) oidcCallback(c *fiber.Ctx) error {
	res, err := s.accounts.FinishOIDC(c.UserContext(), c.Params("provider"), account.OIDCCallback{
		State: c.Query("state"), Code: c.Query("code"), Error: c.Query("error"), Browser: c.Cookies(s.cookies.csrf),
	}, s.client(c))
	if err != nil {
		return s.formError(c, "signin.html", page{Title: "Sign in", Providers: s.accounts.Providers(), Form: map[string]string{}}, err)
	}
	s.startSession(c, res.Session)
	return redirect(c, or(res.Next, "/library"))
}

type profileData struct {
	Identities []store.Identity
	SignIns    []store.SignIn
	HasPhoto   bool
	// Shared are the user's videos in other workspaces' libraries, which
	// account deletion asks about.
	Shared []store.Video
	// Stored is everything else kept about the user, shown so they can
	// see it all and correct it where it is edited.
	Stored *privacy.Stored
}

func (s *Server) profile(c *fiber.Ctx, u *store.User, status int, p page) error {
	ids, err := s.accounts.Identities(c.UserContext(), *u)
	if err != nil {
		return err
	}
	signIns, err := s.accounts.SignIns(c.UserContext(), *u, 1000)
	if err != nil {
		return err
	}
	stored, err := s.privacy.Stored(c.UserContext(), *u)
	if err != nil {
		return err
	}
	shared, err := s.accounts.SharedVideos(c.UserContext(), *u)
	if err != nil {
		return err
	}
	p.Title = "Your profile"
	if p.Form == nil {
		p.Form = map[string]string{"name": u.Name, "email": u.Email, "phone": u.Phone, "company": u.Company}
	}
	p.User = u
	p.Data = profileData{Identities: ids, SignIns: signIns, HasPhoto: u.PhotoKey != "", Shared: shared, Stored: &stored}
	return s.render(c, status, "profile.html", p)
}

func (s *Server) profilePage(c *fiber.Ctx) error {
	return s.profile(c, userOf(c), fiber.StatusOK, page{})
}

// profileError shows the profile again with the error, or passes it on.
func (s *Server) profileError(c *fiber.Ctx, err error, form map[string]string) error {
	var ae *account.Error
	if !asAccountError(err, &ae) || accountStatus(ae.Kind) >= 500 {
		return err
	}
	return s.profile(c, userOf(c), accountStatus(ae.Kind), page{Error: ae.Message, Field: ae.Field, Form: form})
}

func (s *Server) updateProfile(c *fiber.Ctx) error {
	f := formOf(c)
	in := account.ProfileInput{Name: f.Get("name"), Email: f.Get("email"), Phone: f.Get("phone"), Company: f.Get("company")}
	res, err := s.accounts.UpdateProfile(c.UserContext(), *userOf(c), in)
	if err != nil {
		return s.profileError(c, err, map[string]string{"name": in.Name, "email": in.Email, "phone": in.Phone, "company": in.Company})
	}
	if res.EmailPending != "" {
		return redirect(c, "/profile?notice=email-pending")
	}
	return redirect(c, "/profile?notice=saved")
}

func (s *Server) changePassword(c *fiber.Ctx) error {
	f := formOf(c)
	err := s.accounts.ChangePassword(c.UserContext(), *userOf(c), f.Get("current_password"), f.Get("new_password"), c.Cookies(s.cookies.session))
	if err != nil {
		return s.profileError(c, err, nil)
	}
	return redirect(c, "/profile?notice=password-changed")
}

func (s *Server) photo(c *fiber.Ctx) error {
	rc, ct, err := s.accounts.Photo(c.UserContext(), *userOf(c))
	if err != nil {
		return accountError(err)
	}
	defer rc.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(rc); err != nil {
		return err
	}
	// Private to its owner: no shared caches, and never sniffed as HTML.
	c.Set(fiber.HeaderCacheControl, "private, no-cache")
	c.Set(fiber.HeaderContentType, ct)
	c.Set("Content-Disposition", "inline")
	return c.Send(b.Bytes())
}

func (s *Server) setPhoto(c *fiber.Ctx) error {
	if _, err := s.accounts.SetPhoto(c.UserContext(), *userOf(c), bytes.NewReader(formOf(c).file)); err != nil {
		return s.profileError(c, err, nil)
	}
	return redirect(c, "/profile?notice=photo-saved")
}

func (s *Server) deletePhoto(c *fiber.Ctx) error {
	if _, err := s.accounts.DeletePhoto(c.UserContext(), *userOf(c)); err != nil {
		return err
	}
	return redirect(c, "/profile?notice=photo-deleted")
}

func (s *Server) deleteAccount(c *fiber.Ctx) error {
	if err := s.accounts.DeleteAccount(c.UserContext(), *userOf(c), formOf(c).Get("confirm"), formOf(c).Get("shared")); err != nil {
		return s.profileError(c, err, nil)
	}
	s.endSession(c)
	return redirect(c, "/signin?notice=account-deleted")
}

func (s *Server) devicePage(c *fiber.Ctx) error {
	code := c.Query("code")
	p := page{Title: "Sign in the desktop app", Form: map[string]string{"code": code}}
	if code == "" {
		return s.render(c, fiber.StatusOK, "device.html", p)
	}
	d, err := s.accounts.LookUpUserCode(c.UserContext(), *userOf(c), code)
	if err != nil {
		return s.formError(c, "device.html", p, err)
	}
	p.Data = d
	return s.render(c, fiber.StatusOK, "device.html", p)
}

func (s *Server) decideDevice(c *fiber.Ctx) error {
	f := formOf(c)
	approve := f.Get("decision") == "approve"
	if err := s.accounts.DecideDevice(c.UserContext(), *userOf(c), f.Get("code"), approve); err != nil {
		return s.formError(c, "device.html", page{Title: "Sign in the desktop app", Form: map[string]string{"code": f.Get("code")}}, err)
	}
	if approve {
		return redirect(c, "/devices?notice=device-approved")
	}
	return redirect(c, "/devices?notice=device-denied")
}

func (s *Server) devicesPage(c *fiber.Ctx) error {
	ds, err := s.accounts.Devices(c.UserContext(), *userOf(c))
	if err != nil {
		return err
	}
	return s.render(c, fiber.StatusOK, "devices.html", page{Title: "Your devices", Data: ds})
}

func (s *Server) revokeDevice(c *fiber.Ctx) error {
	if err := s.accounts.RevokeDevice(c.UserContext(), *userOf(c), c.Params("id")); err != nil {
		return accountError(err)
	}
	return redirect(c, "/devices?notice=device-revoked")
}
