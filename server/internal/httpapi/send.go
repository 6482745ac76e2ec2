package httpapi

import (
	"errors"
	"net/http"

	"github.com/gofiber/fiber/v2"

	"framecast.dev/server/internal/share"
	"framecast.dev/server/internal/store"
	"framecast.dev/server/internal/track"
)

// Sending a video by e-mail from its dashboard page, and the recipients'
// one-click unsubscribe (RFC 8058: mail providers POST without cookies
// or CSRF token; the signed token is the capability).

func (s *Server) sendRoutes(a *fiber.App) {
	a.Post("/videos/:id/send", s.csrf, s.signedIn, s.sendVideo)
	a.Get("/unsubscribe/r/:token", s.recipientUnsubscribePage)
	a.Post("/unsubscribe/r/:token", s.recipientUnsubscribe)
}

func (s *Server) sendVideo(c *fiber.Ctx) error {
	ctx := c.UserContext()
	u := *userOf(c)
	v, err := s.share.OwnedVideo(ctx, u, c.Params("id"))
	if err != nil {
		return shareError(err)
	}
	f := formOf(c)
	in := track.SendInput{Owner: u, Video: v, Title: share.DisplayTitle(v), Recipients: f.Get("recipients"), Note: f.Get("note"),
		ShareURL: s.media.ShareURL(v), Duration: clockText(videoSeconds(v))}
	if v.Privacy == store.PrivacyPublic {
		// The moving preview exists for public videos only.
		if g, err := s.store.Asset(ctx, v.ID, store.AssetGIF); err == nil {
			in.GIFURL, in.GIFWidth, in.GIFHeight = in.ShareURL+"/preview.gif", g.Width, g.Height
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	res, err := s.track.Send(ctx, in)
	if track.IsInvalid(err) {
		return s.videoView(c, http.StatusBadRequest, v, page{Error: err.Error(), Field: "recipients",
			Form: map[string]string{"recipients": in.Recipients, "note": in.Note}})
	}
	if err != nil {
		return err
	}
	notice := "video-sent"
	if len(res.Unsubscribed) > 0 {
		notice = "video-sent-skipped"
	}
	return redirect(c, "/videos/"+v.ID+"?notice="+notice)
}

func (s *Server) recipientUnsubscribePage(c *fiber.Ctx) error {
	return renderNoCookies(c, fiber.StatusOK, "unsubscribe_recipient.html", page{Title: "Unsubscribe", Data: c.Params("token")})
}

func (s *Server) recipientUnsubscribe(c *fiber.Ctx) error {
	if err := s.track.Unsubscribe(c.UserContext(), c.Params("token")); err != nil {
		if track.IsInvalid(err) {
			return renderNoCookies(c, fiber.StatusNotFound, "unsubscribe_recipient.html", page{Title: "Unsubscribe", Error: err.Error()})
		}
		return err
	}
	return renderNoCookies(c, fiber.StatusOK, "unsubscribe_recipient.html", page{Title: "Unsubscribed",
		Notice: "Done: nobody will send you videos from this Framecast server again."})
}
