package httpapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"framecast.dev/server/internal/share"
	"framecast.dev/server/internal/store"
	"framecast.dev/server/internal/track"
	"framecast.dev/shared/api"
)

// Sending a video by e-mail from its dashboard page, and the recipients'
// one-click unsubscribe (RFC 8058: mail providers POST without cookies
// or CSRF token; the signed token is the capability).

func (s *Server) sendRoutes(a *fiber.App) {
	a.Post("/videos/:id/send", s.csrf, s.signedIn, s.sendVideo)
	a.Post("/api/v1/videos/:id/send", s.authenticate, s.apiSendVideo)
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
	in, err := s.sendInput(c, u, v, f.Get("recipients"), f.Get("note"))
	if err != nil {
		return err
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

// sendInput builds a send of v by u.
func (s *Server) sendInput(c *fiber.Ctx, u store.User, v store.Video, recipients, note string) (track.SendInput, error) {
	in := track.SendInput{Owner: u, Video: v, Title: share.DisplayTitle(v), Recipients: recipients, Note: note,
		ShareURL: s.media.ShareURL(v), Duration: clockText(videoSeconds(v))}
	if v.Privacy == store.PrivacyPublic {
		// The moving preview exists for public videos only.
		if g, err := s.store.Asset(c.UserContext(), v.ID, store.AssetGIF); err == nil {
			in.GIFURL, in.GIFWidth, in.GIFHeight = in.ShareURL+"/preview.gif", g.Width, g.Height
		} else if !errors.Is(err, store.ErrNotFound) {
			return track.SendInput{}, err
		}
	}
	return in, nil
}

// apiSendVideo is the same send for the desktop app's share menu.
func (s *Server) apiSendVideo(c *fiber.Ctx) error {
	id, err := s.videoID(c)
	if err != nil {
		return err
	}
	var req api.SendVideoRequest
	if err := s.readJSON(c, &req); err != nil {
		return err
	}
	v, err := s.store.Video(c.UserContext(), id)
	if err != nil {
		return mediaError(err)
	}
	in, err := s.sendInput(c, *userOf(c), v, strings.Join(req.Recipients, ","), req.Note)
	if err != nil {
		return err
	}
	res, err := s.track.Send(c.UserContext(), in)
	if track.IsInvalid(err) {
		return newError(fiber.StatusBadRequest, api.CodeBadRequest, "%s", err.Error())
	}
	if err != nil {
		return err
	}
	return c.JSON(api.SendVideoResponse{Sent: res.Sent, Unsubscribed: res.Unsubscribed, Personal: res.Personal})
}
