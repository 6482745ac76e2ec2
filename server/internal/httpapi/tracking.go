package httpapi

import (
	"context"
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"framecast.dev/server/internal/share"
	"framecast.dev/server/internal/store"
	"framecast.dev/server/internal/track"
	"framecast.dev/shared/api"
)

// Viewer tracking: the share page's beacons (no cookies, no session),
// the owner's analytics and tracking levels. What is kept is decided by
// the track package and the store; handlers only translate.

func (s *Server) trackingRoutes(a *fiber.App) {
	a.Post("/v/:slug/events", s.viewerEvent)
	a.Post("/v/:slug/g/:grant/events", s.viewerEvent)
	a.Post("/videos/:id/tracking", s.csrf, s.signedIn, s.setVideoTracking)
	s.analyticsRoutes(a)
	s.sendRoutes(a)
}

// maxBeaconBytes bounds one beacon: a progress beacon of an hour of
// seconds stays below it.
const maxBeaconBytes = 32 << 10

// viewerEvent takes one beacon from a share or embed page. It answers
// 204 once the event is queued; the batcher writes it.
func (s *Server) viewerEvent(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	// Beacons come from our own pages: a POST from another site's page
	// (which browsers mark with its Origin) is not a view here.
	if o := c.Get(fiber.HeaderOrigin); o != "" && o != s.origin() {
		return newError(fiber.StatusForbidden, api.CodeForbidden, "Events are only taken from this server's pages.")
	}
	if s.track == nil {
		return c.SendStatus(fiber.StatusNoContent)
	}
	v, err := s.mediaVideo(c)
	if err != nil {
		return err
	}
	body, err := s.readBody(c, maxBeaconBytes)
	if err != nil {
		return err
	}
	var b track.Beacon
	if err := decodeJSON(body, &b); err != nil {
		return newError(fiber.StatusBadRequest, api.CodeBadRequest, "The event is not valid JSON: %v.", err)
	}
	cl := track.Client{IP: s.clientIP(c), UserAgent: c.Get(fiber.HeaderUserAgent),
		DNT: strings.TrimSpace(c.Get("DNT")) == "1", GPC: strings.TrimSpace(c.Get("Sec-GPC")) == "1"}
	// Beacons are fire-and-forget: over the limit a bare 429, no page.
	if !s.track.Admit(cl, b.Kind) {
		c.Set(fiber.HeaderRetryAfter, "10")
		return c.Status(fiber.StatusTooManyRequests).Send(nil)
	}
	seconds := v.ProbedDuration
	if seconds <= 0 {
		seconds = v.Duration()
	}
	t := track.Target{Video: v, Duration: seconds, Buttons: share.MaxButtons}
	if err := s.track.Ingest(c.UserContext(), t, b, cl); err != nil {
		if track.IsInvalid(err) {
			return newError(fiber.StatusBadRequest, api.CodeBadRequest, "%s", err.Error())
		}
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// sharePageData is what share.html and embed.html show: the share page
// and what the page says and does about tracking.
type sharePageData struct {
	share.Page
	// TrackLevel is the level in force ("off": the page sends nothing).
	TrackLevel string
	// TrackNotice is the one line saying what is recorded.
	TrackNotice string
	// EventsURL is where the player sends its beacons ("" when off).
	EventsURL string
}

func (s *Server) shareView(ctx context.Context, acc share.Access) (sharePageData, error) {
	d := sharePageData{Page: s.share.Page(acc), TrackLevel: store.TrackOff}
	if s.track != nil {
		level, err := s.track.Level(ctx, acc.Page.Video.ID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return sharePageData{}, err
		}
		if err == nil {
			d.TrackLevel = level
		}
	}
	d.TrackNotice = track.Notice(d.TrackLevel)
	if d.TrackLevel != store.TrackOff {
		d.EventsURL = acc.MediaBase() + "/events"
	}
	return d, nil
}

// setVideoTracking sets a video's level; lowering it deletes at once what
// the new level would not have stored.
func (s *Server) setVideoTracking(c *fiber.Ctx) error {
	u := *userOf(c)
	v, err := s.share.OwnedVideo(c.UserContext(), u, c.Params("id"))
	if err != nil {
		return shareError(err)
	}
	level := formOf(c).Get("tracking")
	if level == "default" {
		level = ""
	}
	if level != "" && !track.Valid(level) {
		return newError(fiber.StatusBadRequest, api.CodeBadRequest, "Choose Full, Anonymous, Off or your account's default.")
	}
	if err := s.track.SetVideoLevel(c.UserContext(), v.ID, level); err != nil {
		return err
	}
	s.share.Forget(v.ID)
	return redirect(c, "/videos/"+v.ID+"?notice=tracking-saved")
}

// trackingForm is the video page's tracking section.
type trackingForm struct {
	Override  string // "" follows the account default
	Default   string // the account default in force
	Effective string
	// Restricted: the owner restricted processing; nothing is recorded.
	Restricted bool
	Labels     map[string]string
}

func (s *Server) trackingForm(ctx context.Context, v store.Video) (trackingForm, error) {
	f := trackingForm{Labels: map[string]string{}}
	for _, l := range track.Levels {
		f.Labels[l] = track.Label(l)
	}
	if s.track == nil {
		f.Effective, f.Default = store.TrackOff, store.TrackOff
		return f, nil
	}
	ts, err := s.track.Settings(ctx, v.ID)
	if err != nil {
		return trackingForm{}, err
	}
	f.Override, f.Effective, f.Restricted = ts.VideoLevel, ts.Effective(), ts.Restricted
	f.Default = ts.AccountLevel
	if f.Default == "" {
		f.Default = store.TrackDefault
	}
	return f, nil
}
