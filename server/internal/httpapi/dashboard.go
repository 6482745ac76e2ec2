package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"framecast.dev/server/internal/share"
	"framecast.dev/server/internal/store"
	"framecast.dev/shared/api"
)

// The owner's dashboard: libraries with search, sort and thumbnails; a
// page per video to edit its share settings, trim it, rotate its link or
// delete it; failed processing jobs with retry. Sessions, CSRF and
// workspace membership come from the account side (signedIn, csrf,
// account.Libraries); what an owner may change is decided by the share
// package.

func (s *Server) dashboardRoutes(a *fiber.App) {
	a.Get("/videos", s.signedIn, s.videosPage)
	a.Get("/videos/:id", s.signedIn, s.videoPage)
	a.Post("/videos/:id", s.csrf, s.signedIn, s.saveVideo)
	a.Post("/videos/:id/rotate", s.csrf, s.signedIn, s.rotateVideo)
	a.Post("/videos/:id/delete", s.csrf, s.signedIn, s.deleteVideo)
	a.Post("/videos/:id/trim", s.csrf, s.signedIn, s.trimVideo)
	a.Get("/videos/:id/thumbnail.jpg", s.signedIn, s.libraryThumbnail)
	a.Post("/jobs/:id/retry", s.csrf, s.signedIn, s.retryJob)
}

type videosData struct {
	Libraries []share.Library
	Failed    []failedJob
	Query     string
	Sort      string
	Sorts     []string
	MaxUpload int64 // largest video file the upload takes
}

type failedJob struct {
	Job   store.Job
	Title string
}

// dashboardNotices are the messages a dashboard redirect may show.
var dashboardNotices = map[string]string{
	"video-saved":        "Saved.",
	"link-rotated":       "The video has a new link; the old one no longer works.",
	"video-deleted":      "The video was deleted.",
	"job-retried":        "The job was queued again.",
	"trim-queued":        "Trimming; the trimmed video replaces the whole one when it is ready (reload to see).",
	"trim-removed":       "The trim was removed; the whole recording plays again.",
	"video-sent":         "Sent. Each recipient gets the video by e-mail.",
	"video-sent-skipped": "Sent, except to addresses that unsubscribed from videos sent from this server.",
	"tracking-saved":     "Tracking level saved. Anything the new level would not keep has been deleted.",
}

func notice(c *fiber.Ctx) string { return dashboardNotices[c.Query("notice")] }

func (s *Server) videosPage(c *fiber.Ctx) error {
	u := *userOf(c)
	ctx := c.UserContext()
	libs, err := s.accounts.Libraries(ctx, u)
	if err != nil {
		return accountError(err)
	}
	in := make([]share.Library, 0, len(libs))
	for _, l := range libs {
		sl := share.Library{WorkspaceID: l.WorkspaceID, Name: l.Name}
		for _, v := range l.Videos {
			sl.Items = append(sl.Items, share.Item{Video: v})
		}
		in = append(in, sl)
	}
	sortBy := c.Query("sort", "newest")
	out, err := s.share.Listing(ctx, u, in, c.Query("q"), sortBy)
	if err != nil {
		return err
	}
	failed, err := s.share.FailedJobs(ctx, u)
	if err != nil {
		return err
	}
	titles := map[string]string{}
	for _, l := range out {
		for _, it := range l.Items {
			titles[it.Video.ID] = it.Title
		}
	}
	d := videosData{Libraries: out, Query: c.Query("q"), Sort: sortBy, Sorts: share.Sorts, MaxUpload: s.maxUpload}
	for _, j := range failed {
		t, ok := titles[j.VideoID]
		if !ok {
			t = share.DisplayTitle(store.Video{})
		}
		d.Failed = append(d.Failed, failedJob{Job: j, Title: t})
	}
	return s.render(c, fiber.StatusOK, "videos.html", page{Title: "Videos", Notice: notice(c), Data: d})
}

type videoData struct {
	Video     store.Video
	Title     string
	ShareURL  string
	Thumbnail bool
	Jobs      []store.Job
	Workspace string // "" for a personal video
	Buttons   [share.MaxButtons]store.CTAButton
	Default   bool   // the workspace's buttons
	Expires   string // 2006-01-02T15:04, UTC
	Duration  string
	Seconds   float64
	Trim      *store.Trim
	TrimStart string
	TrimEnd   string
	Tracking  trackingForm
	// Upload: how the file upload that makes this video stands, until it
	// is a ready video (nil for recordings and finished uploads).
	Upload *share.UploadStatus
}

func (s *Server) videoView(c *fiber.Ctx, status int, v store.Video, p page) error {
	ctx := c.UserContext()
	u := *userOf(c)
	js, err := s.share.Jobs(ctx, u, v.ID)
	if err != nil {
		return shareError(err)
	}
	d := videoData{Video: v, Title: share.DisplayTitle(v), ShareURL: s.media.ShareURL(v), Jobs: js, Default: v.CTAButtons == nil}
	copy(d.Buttons[:], v.CTAButtons)
	if !v.ExpiresAt.IsZero() {
		d.Expires = v.ExpiresAt.UTC().Format("2006-01-02T15:04")
	}
	if _, err := s.store.Asset(ctx, v.ID, store.AssetThumbnail); err == nil {
		d.Thumbnail = true
	}
	if v.WorkspaceID != "" {
		if m, err := s.store.Member(ctx, v.WorkspaceID, u.ID); err == nil {
			d.Workspace = m.WorkspaceName
		}
	}
	d.Seconds = v.Duration()
	d.Duration = strconv.FormatFloat(d.Seconds, 'f', 1, 64)
	if v.State != store.StateReady {
		im, err := s.store.Import(ctx, v.ID)
		switch {
		case err == nil && im.State != store.ImportDone:
			st := share.ImportStatus(v, im)
			d.Upload = &st
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return err
		}
	}
	if d.Trim, err = s.share.CurrentTrim(ctx, v); err != nil {
		return err
	}
	d.TrimStart, d.TrimEnd = "0", d.Duration
	if d.Trim != nil {
		d.TrimStart, d.TrimEnd = strconv.FormatFloat(d.Trim.Start, 'f', 2, 64), strconv.FormatFloat(d.Trim.End, 'f', 2, 64)
	}
	if d.Tracking, err = s.trackingForm(ctx, v); err != nil {
		return err
	}
	p.Title = d.Title
	p.Data = d
	if p.Notice == "" {
		p.Notice = notice(c)
	}
	return s.render(c, status, "video.html", p)
}

func (s *Server) videoPage(c *fiber.Ctx) error {
	v, err := s.share.OwnedVideo(c.UserContext(), *userOf(c), c.Params("id"))
	if err != nil {
		return shareError(err)
	}
	return s.videoView(c, fiber.StatusOK, v, page{})
}

func (s *Server) saveVideo(c *fiber.Ctx) error {
	f := formOf(c)
	in := share.SettingsInput{
		Title: f.Get("title"), Description: f.Get("description"),
		DefaultButtons: f.Get("buttons") == "default",
		Privacy:        f.Get("privacy"), Password: f.Get("password"),
		ExpiresAt: f.Get("expires"), Downloads: f.Get("downloads") == "on",
	}
	for i := range share.MaxButtons {
		in.Buttons = append(in.Buttons, store.CTAButton{
			Label: f.Get(fmt.Sprintf("button%d_label", i+1)), URL: f.Get(fmt.Sprintf("button%d_url", i+1)),
		})
	}
	u := *userOf(c)
	v, err := s.share.UpdateSettings(c.UserContext(), u, c.Params("id"), in)
	var se *share.Error
	if errors.As(err, &se) && se.Kind == share.KindInvalid {
		// Show the form again with what was typed and what is wrong.
		cur, err := s.share.OwnedVideo(c.UserContext(), u, c.Params("id"))
		if err != nil {
			return shareError(err)
		}
		cur.Title, cur.Description, cur.Privacy, cur.Downloads = in.Title, in.Description, store.Privacy(in.Privacy), in.Downloads
		if !in.DefaultButtons {
			cur.CTAButtons = in.Buttons
		}
		return s.videoView(c, http.StatusBadRequest, cur, page{Error: se.Message, Field: se.Field})
	}
	if err != nil {
		return shareError(err)
	}
	return redirect(c, "/videos/"+v.ID+"?notice=video-saved")
}

func (s *Server) rotateVideo(c *fiber.Ctx) error {
	v, err := s.share.Rotate(c.UserContext(), *userOf(c), c.Params("id"))
	if err != nil {
		return shareError(err)
	}
	return redirect(c, "/videos/"+v.ID+"?notice=link-rotated")
}

func (s *Server) deleteVideo(c *fiber.Ctx) error {
	u := *userOf(c)
	if _, err := s.share.OwnedVideo(c.UserContext(), u, c.Params("id")); err != nil {
		return shareError(err)
	}
	if formOf(c).Get("confirm") != "delete" {
		return newError(fiber.StatusBadRequest, api.CodeBadRequest, "Tick the box to confirm the deletion.")
	}
	if err := s.share.Delete(c.UserContext(), u, c.Params("id")); err != nil {
		return shareError(mediaError(err))
	}
	if s.privacy != nil {
		s.privacy.VideoDeleted(c.UserContext(), u)
	}
	return redirect(c, "/videos?notice=video-deleted")
}

func (s *Server) trimVideo(c *fiber.Ctx) error {
	f := formOf(c)
	u := *userOf(c)
	id := c.Params("id")
	if f.Get("remove") == "on" {
		if err := s.share.Untrim(c.UserContext(), u, id); err != nil {
			return shareError(mediaError(err))
		}
		return redirect(c, "/videos/"+id+"?notice=trim-removed")
	}
	start, err1 := strconv.ParseFloat(strings.TrimSpace(f.Get("start")), 64)
	end, err2 := strconv.ParseFloat(strings.TrimSpace(f.Get("end")), 64)
	var err error
	if err1 != nil || err2 != nil {
		err = &share.Error{Kind: share.KindInvalid, Field: "start", Message: "Start and end are seconds, such as 2.5."}
	} else {
		err = s.share.Trim(c.UserContext(), u, id, start, end)
	}
	var se *share.Error
	if errors.As(err, &se) && se.Kind == share.KindInvalid {
		v, verr := s.share.OwnedVideo(c.UserContext(), u, id)
		if verr != nil {
			return shareError(verr)
		}
		return s.videoView(c, http.StatusBadRequest, v, page{Error: se.Message, Field: se.Field})
	}
	if err != nil {
		return shareError(err)
	}
	return redirect(c, "/videos/"+id+"?notice=trim-queued")
}

func (s *Server) retryJob(c *fiber.Ctx) error {
	j, err := s.share.RetryJob(c.UserContext(), *userOf(c), c.Params("id"))
	if err != nil {
		return shareError(err)
	}
	back := "/videos?notice=job-retried"
	if f := formOf(c).Get("back"); f == "video" {
		back = "/videos/" + url.PathEscape(j.VideoID) + "?notice=job-retried"
	}
	return redirect(c, back)
}

// libraryThumbnail serves a thumbnail to the owner and to members of the
// video's workspace, whatever the link's privacy.
func (s *Server) libraryThumbnail(c *fiber.Ctx) error {
	v, err := s.share.LibraryVideo(c.UserContext(), *userOf(c), c.Params("id"))
	if err != nil {
		return shareError(err)
	}
	a, err := s.store.Asset(c.UserContext(), v.ID, store.AssetThumbnail)
	if errors.Is(err, store.ErrNotFound) {
		return fiber.ErrNotFound
	}
	if err != nil {
		return err
	}
	rc, err := s.media.OpenAsset(c.UserContext(), v, a)
	if err != nil {
		return mediaError(err)
	}
	c.Set(fiber.HeaderContentType, a.ContentType)
	c.Set(fiber.HeaderCacheControl, "private, max-age=300")
	c.Context().SetBodyStream(rc, int(a.Size))
	return nil
}
