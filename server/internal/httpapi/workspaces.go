package httpapi

import (
	"bytes"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"framecast.dev/server/internal/account"
	"framecast.dev/server/internal/store"
)

// Workspace pages, the library listing and moving videos. Who may do what
// is decided by the account package on every call.

func (s *Server) workspaceRoutes(a *fiber.App) {
	a.Get("/library", s.signedIn, s.libraryPage)
	a.Post("/videos/:id/move", s.csrf, s.signedIn, s.moveVideo)

	a.Get("/workspaces", s.signedIn, s.workspacesPage)
	a.Post("/workspaces", s.csrf, s.signedIn, s.createWorkspace)
	a.Get("/w/:id", s.signedIn, s.workspacePage)
	a.Post("/w/:id", s.csrf, s.signedIn, s.updateWorkspace)
	a.Get("/w/:id/logo", s.signedIn, s.logo)
	a.Post("/w/:id/logo", s.csrf, s.signedIn, s.setLogo)
	a.Post("/w/:id/logo/delete", s.csrf, s.signedIn, s.deleteLogo)
	a.Post("/w/:id/invitations", s.csrf, s.signedIn, s.invite)
	a.Post("/w/:id/invitations/:inv/revoke", s.csrf, s.signedIn, s.revokeInvitation)
	a.Post("/w/:id/members/:uid/role", s.csrf, s.signedIn, s.setRole)
	a.Post("/w/:id/members/:uid/remove", s.csrf, s.signedIn, s.removeMember)
	a.Post("/w/:id/delete", s.csrf, s.signedIn, s.deleteWorkspace)

	a.Get("/invite/:token", s.withUser, s.invitationPage)
	a.Post("/invite/:token", s.csrf, s.signedIn, s.acceptInvitation)
}

type libraryData struct {
	Libraries []account.Library
	// Targets are the libraries a video can be moved to.
	Targets []account.Library
	Share   func(store.Video) string
}

func (s *Server) libraryPage(c *fiber.Ctx) error {
	libs, err := s.accounts.Libraries(c.UserContext(), *userOf(c))
	if err != nil {
		return err
	}
	targets := make([]account.Library, 0, len(libs))
	for _, l := range libs {
		targets = append(targets, account.Library{WorkspaceID: l.WorkspaceID, Name: l.Name})
	}
	return s.render(c, fiber.StatusOK, "library.html", page{Title: "Library",
		Data: libraryData{Libraries: libs, Targets: targets, Share: s.media.ShareURL}})
}

func (s *Server) moveVideo(c *fiber.Ctx) error {
	if err := s.accounts.MoveVideo(c.UserContext(), *userOf(c), c.Params("id"), formOf(c).Get("to")); err != nil {
		return accountError(err)
	}
	return redirect(c, "/library?notice=moved")
}

func (s *Server) workspacesPage(c *fiber.Ctx) error {
	ms, err := s.accounts.Memberships(c.UserContext(), *userOf(c))
	if err != nil {
		return err
	}
	return s.render(c, fiber.StatusOK, "workspaces.html", page{Title: "Workspaces", Data: ms})
}

func (s *Server) createWorkspace(c *fiber.Ctx) error {
	name := formOf(c).Get("name")
	w, err := s.accounts.CreateWorkspace(c.UserContext(), *userOf(c), name)
	if err != nil {
		var ae *account.Error
		if !asAccountError(err, &ae) {
			return err
		}
		ms, merr := s.accounts.Memberships(c.UserContext(), *userOf(c))
		if merr != nil {
			return merr
		}
		return s.formError(c, "workspaces.html", page{Title: "Workspaces", Data: ms, Form: map[string]string{"name": name}}, err)
	}
	return redirect(c, "/w/"+w.ID+"?notice=workspace-made")
}

type workspaceData struct {
	account.WorkspaceDetails
	Admin, Owner bool
	Buttons      []store.CTAButton // always MaxCTAButtons rows for the form
}

func (s *Server) workspaceView(c *fiber.Ctx, status int, p page) error {
	d, err := s.accounts.Workspace(c.UserContext(), *userOf(c), c.Params("id"))
	if err != nil {
		return accountError(err)
	}
	wd := workspaceData{WorkspaceDetails: d, Admin: d.Me.Role != store.RoleMember, Owner: d.Me.Role == store.RoleOwner}
	wd.Buttons = append(wd.Buttons, d.Workspace.CTAButtons...)
	for len(wd.Buttons) < account.MaxCTAButtons {
		wd.Buttons = append(wd.Buttons, store.CTAButton{})
	}
	p.Title = d.Workspace.Name
	p.Data = wd
	return s.render(c, status, "workspace.html", p)
}

func (s *Server) workspacePage(c *fiber.Ctx) error { return s.workspaceView(c, fiber.StatusOK, page{}) }

// workspaceError shows the workspace page again with the error, for
// errors the person can fix; others (not a member, not allowed) become
// error answers.
func (s *Server) workspaceError(c *fiber.Ctx, err error) error {
	var ae *account.Error
	if !asAccountError(err, &ae) {
		return err
	}
	switch ae.Kind {
	case account.KindInvalid, account.KindConflict, account.KindRateLimited, account.KindTooLarge:
		return s.workspaceView(c, accountStatus(ae.Kind), page{Error: ae.Message, Field: ae.Field})
	}
	return accountError(err)
}

func (s *Server) workspaceDone(c *fiber.Ctx, notice string) error {
	return redirect(c, "/w/"+c.Params("id")+"?notice="+notice)
}

func (s *Server) updateWorkspace(c *fiber.Ctx) error {
	f := formOf(c)
	in := account.WorkspaceSettings{Name: f.Get("name")}
	for i := 1; i <= account.MaxCTAButtons+1; i++ {
		label, link := f.Get(fmt.Sprintf("button%d_label", i)), f.Get(fmt.Sprintf("button%d_url", i))
		if label != "" || link != "" {
			in.Buttons = append(in.Buttons, store.CTAButton{Label: label, URL: link})
		}
	}
	if _, err := s.accounts.UpdateWorkspace(c.UserContext(), *userOf(c), c.Params("id"), in); err != nil {
		return s.workspaceError(c, err)
	}
	return s.workspaceDone(c, "saved")
}

func (s *Server) logo(c *fiber.Ctx) error {
	rc, ct, err := s.accounts.Logo(c.UserContext(), *userOf(c), c.Params("id"))
	if err != nil {
		return accountError(err)
	}
	defer rc.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(rc); err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "private, no-cache")
	c.Set(fiber.HeaderContentType, ct)
	return c.Send(b.Bytes())
}

func (s *Server) setLogo(c *fiber.Ctx) error {
	if err := s.accounts.SetLogo(c.UserContext(), *userOf(c), c.Params("id"), bytes.NewReader(formOf(c).file)); err != nil {
		return s.workspaceError(c, err)
	}
	return s.workspaceDone(c, "saved")
}

func (s *Server) deleteLogo(c *fiber.Ctx) error {
	if err := s.accounts.DeleteLogo(c.UserContext(), *userOf(c), c.Params("id")); err != nil {
		return s.workspaceError(c, err)
	}
	return s.workspaceDone(c, "saved")
}

func (s *Server) invite(c *fiber.Ctx) error {
	f := formOf(c)
	if _, err := s.accounts.Invite(c.UserContext(), *userOf(c), c.Params("id"), f.Get("email"), f.Get("role")); err != nil {
		return s.workspaceError(c, err)
	}
	return s.workspaceDone(c, "invited")
}

func (s *Server) revokeInvitation(c *fiber.Ctx) error {
	if err := s.accounts.RevokeInvitation(c.UserContext(), *userOf(c), c.Params("id"), c.Params("inv")); err != nil {
		return s.workspaceError(c, err)
	}
	return s.workspaceDone(c, "removed")
}

func (s *Server) setRole(c *fiber.Ctx) error {
	if err := s.accounts.SetRole(c.UserContext(), *userOf(c), c.Params("id"), c.Params("uid"), formOf(c).Get("role")); err != nil {
		return s.workspaceError(c, err)
	}
	return s.workspaceDone(c, "saved")
}

func (s *Server) removeMember(c *fiber.Ctx) error {
	u := userOf(c)
	if err := s.accounts.RemoveMember(c.UserContext(), *u, c.Params("id"), c.Params("uid")); err != nil {
		return s.workspaceError(c, err)
	}
	if c.Params("uid") == u.ID {
		return redirect(c, "/workspaces?notice=left")
	}
	return s.workspaceDone(c, "removed")
}

func (s *Server) deleteWorkspace(c *fiber.Ctx) error {
	if err := s.accounts.DeleteWorkspace(c.UserContext(), *userOf(c), c.Params("id")); err != nil {
		return s.workspaceError(c, err)
	}
	return redirect(c, "/workspaces?notice=deleted")
}

func (s *Server) invitationPage(c *fiber.Ctx) error {
	p, err := s.accounts.Invitation(c.UserContext(), c.Params("token"))
	if err != nil {
		return accountError(err)
	}
	return s.render(c, fiber.StatusOK, "invite.html", page{Title: "Join " + p.WorkspaceName, Data: p,
		Form: map[string]string{"next": c.OriginalURL()}})
}

func (s *Server) acceptInvitation(c *fiber.Ctx) error {
	inv, err := s.accounts.AcceptInvitation(c.UserContext(), *userOf(c), c.Params("token"))
	if err != nil {
		return accountError(err)
	}
	return redirect(c, "/w/"+inv.WorkspaceID+"?notice=joined")
}
