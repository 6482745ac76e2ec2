package httpapi

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"

	"github.com/gofiber/fiber/v2"

	"framecast.dev/server/internal/account"
	"framecast.dev/server/internal/share"
	"framecast.dev/server/internal/store"
	"framecast.dev/server/web"
	"framecast.dev/shared/api"
)

// Share links: the share page, its password form, the embed page, oEmbed,
// and the media under a link (playlist, segments, thumbnail, GIF preview,
// MP4 download, workspace logo). Who may see what is decided by the share
// package; refusals never name the video.
//
// Media of a public video hang from /v/{slug}/...; those of a protected
// video from /v/{slug}/g/{grant}/..., the grant the page was given when
// the viewer was admitted. The playlist's segment URLs are relative, so
// they inherit the grant.

func (s *Server) playbackRoutes(a *fiber.App) {
	a.Get("/v/:slug", s.withUser, s.sharePage)
	a.Post("/v/:slug", s.unlockPage)
	a.Get("/embed/:slug", s.withUser, s.embedPage)
	a.Post("/embed/:slug", s.unlockEmbed)
	a.Get("/oembed", s.oembed)
	for _, base := range []string{"/v/:slug", "/v/:slug/g/:grant"} {
		a.Get(base+"/playlist.m3u8", s.playlist)
		a.Get(base+"/init.mp4", s.initSegment)
		a.Get(base+"/seg/:file", s.mediaSegment)
		a.Get(base+"/t/:part/:file", s.trimFile)
		a.Get(base+"/thumbnail.jpg", s.asset(store.AssetThumbnail))
		a.Get(base+"/download", s.asset(store.AssetMP4))
		a.Get(base+"/logo", s.shareLogo)
	}
	// The GIF is for e-mails, which only public videos get.
	a.Get("/v/:slug/preview.gif", s.asset(store.AssetGIF))
}

// Viewers of an unlisted link should not have it kept by shared caches.
const playbackCache = "private, max-age=300"

// shareError maps a refusal onto an answer; the message never names the
// video.
func shareError(err error) error {
	var se *share.Error
	if !errors.As(err, &se) {
		return err
	}
	status := map[share.Kind]int{
		share.KindNotFound: http.StatusNotFound, share.KindGone: http.StatusGone,
		share.KindPassword: http.StatusUnauthorized, share.KindSignIn: http.StatusUnauthorized,
		share.KindForbidden: http.StatusForbidden, share.KindRateLimited: http.StatusTooManyRequests,
		share.KindInvalid: http.StatusBadRequest,
	}[se.Kind]
	if status == 0 {
		status = http.StatusInternalServerError
	}
	ae := &apiError{Status: status, Code: codeFor(status), Message: se.Message}
	switch se.Kind {
	case share.KindGone:
		ae.Code = "gone"
	case share.KindRateLimited:
		ae.Code = api.CodeRateLimited
		ae.Headers = map[string]string{fiber.HeaderRetryAfter: strconv.Itoa(int(se.RetryAfter.Seconds()))}
	case share.KindForbidden:
		ae.Code = api.CodeForbidden
	}
	return ae
}

// lockedData is what locked.html shows.
type lockedData struct {
	Heading   string
	Message   string
	Password  bool
	Action    string
	Problem   string
	Wrong     bool
	SignInURL string
	Embed     bool
}

// refuse answers a viewer who is not (yet) admitted: the password form,
// a sign-in link, or the error page.
func (s *Server) refuse(c *fiber.Ctx, err error, embed bool) error {
	var se *share.Error
	if !errors.As(err, &se) {
		return err
	}
	d := lockedData{Message: se.Message, Embed: embed, Action: c.Path()}
	status := http.StatusUnauthorized
	switch se.Kind {
	case share.KindPassword:
		d.Heading, d.Password = "Password required", true
		d.Message = "This video is protected by a password."
		if se.Wrong {
			d.Problem, d.Wrong = se.Message, true
		}
	case share.KindRateLimited:
		d.Heading, d.Password, d.Problem = "Password required", true, se.Message
		status = http.StatusTooManyRequests
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(se.RetryAfter.Seconds())))
	case share.KindSignIn:
		d.Heading = "Sign in to watch"
		d.SignInURL = "/signin?next=" + url.QueryEscape(c.Path())
	case share.KindForbidden:
		d.Heading, status = "Not shared with you", http.StatusForbidden
	default:
		return shareError(err)
	}
	return s.renderShare(c, status, "locked.html", d, "no-store")
}

// renderShare writes a share template. Viewers get no cookies: nothing
// here sets one.
func (s *Server) renderShare(c *fiber.Ctx, status int, name string, data any, cache string) error {
	var b bytes.Buffer
	if err := web.Templates.ExecuteTemplate(&b, name, data); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	c.Set(fiber.HeaderCacheControl, cache)
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Status(status).Send(b.Bytes())
}

func (s *Server) sharePage(c *fiber.Ctx) error {
	acc, err := s.share.Open(c.UserContext(), c.Params("slug"), userOf(c))
	if err != nil {
		return s.refuse(c, err, false)
	}
	return s.showShare(c, acc)
}

func (s *Server) showShare(c *fiber.Ctx, acc share.Access) error {
	if acc.Grant != "" {
		// The page holds a grant: never cached, never shared.
		data, err := s.shareView(c.UserContext(), acc)
		if err != nil {
			return err
		}
		return s.renderShare(c, fiber.StatusOK, "share.html", data, "no-store")
	}
	// The tracking level is read only when the page is rendered, so a
	// cached public page costs no query; a level set on the video drops
	// the cached page at once (setVideoTracking), an account default
	// shows within the cache's 2 s.
	html, err := s.share.PublicHTML(acc, func() ([]byte, error) {
		data, err := s.shareView(c.UserContext(), acc)
		if err != nil {
			return nil, err
		}
		var b bytes.Buffer
		if err := web.Templates.ExecuteTemplate(&b, "share.html", data); err != nil {
			return nil, fmt.Errorf("render share.html: %w", err)
		}
		return b.Bytes(), nil
	})
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "private, no-cache")
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Status(fiber.StatusOK).Send(html)
}

// unlockPage takes the password form. It answers with the page itself
// (no redirect, no cookie): the grant lives in the page's media URLs.
func (s *Server) unlockPage(c *fiber.Ctx) error {
	acc, err := s.unlock(c)
	if err != nil {
		return s.refuse(c, err, false)
	}
	return s.showShare(c, acc)
}

func (s *Server) unlockEmbed(c *fiber.Ctx) error {
	acc, err := s.unlock(c)
	if err != nil {
		return s.refuse(c, err, true)
	}
	return s.showEmbed(c, acc)
}

func (s *Server) unlock(c *fiber.Ctx) (share.Access, error) {
	f, err := s.readForm(c, 4096)
	if err != nil {
		return share.Access{}, err
	}
	return s.share.Unlock(c.UserContext(), c.Params("slug"), f.Get("password"), c.IP())
}

// allowFraming lets other sites put the embed page in an iframe; every
// other page refuses to be framed.
func allowFraming(c *fiber.Ctx) {
	c.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"media-src 'self' blob:; worker-src 'self' blob:; connect-src 'self'; "+
		"base-uri 'none'; form-action 'self'; frame-ancestors *")
	c.Response().Header.Del("X-Frame-Options")
}

func (s *Server) embedPage(c *fiber.Ctx) error {
	allowFraming(c)
	acc, err := s.share.Open(c.UserContext(), c.Params("slug"), userOf(c))
	if err != nil {
		return s.refuse(c, err, true)
	}
	return s.showEmbed(c, acc)
}

func (s *Server) showEmbed(c *fiber.Ctx, acc share.Access) error {
	allowFraming(c)
	cache := "private, no-cache"
	if acc.Grant != "" {
		cache = "no-store"
	}
	data, err := s.shareView(c.UserContext(), acc)
	if err != nil {
		return err
	}
	return s.renderShare(c, fiber.StatusOK, "embed.html", data, cache)
}

// oembed answers https://oembed.com requests for public videos only; any
// other link is "not found", like an unknown one.
func (s *Server) oembed(c *fiber.Ctx) error {
	if f := c.Query("format", "json"); f != "json" {
		return newError(fiber.StatusNotImplemented, api.CodeBadRequest, "Only format=json is offered.")
	}
	slug, ok := s.share.SlugOfURL(c.Query("url"))
	if !ok {
		return fiber.ErrNotFound
	}
	acc, err := s.share.Open(c.UserContext(), slug, nil)
	if err != nil || !acc.Public() {
		return fiber.ErrNotFound
	}
	maxW, _ := strconv.Atoi(c.Query("maxwidth"))
	maxH, _ := strconv.Atoi(c.Query("maxheight"))
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	return c.JSON(s.share.OEmbedFor(acc, maxW, maxH))
}

// mediaVideo is the video whose media a request asks for, if the link
// (and grant) allow it.
func (s *Server) mediaVideo(c *fiber.Ctx) (store.Video, error) {
	v, err := s.share.Media(c.UserContext(), c.Params("slug"), c.Params("grant"))
	if err != nil {
		return store.Video{}, shareError(err)
	}
	return v, nil
}

func (s *Server) playlist(c *fiber.Ctx) error {
	v, err := s.mediaVideo(c)
	if err != nil {
		return err
	}
	pl, err := s.media.PlaylistOf(c.UserContext(), v)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/vnd.apple.mpegurl")
	// Short: a trim or its removal changes the playlist; a growing one
	// changes every few seconds, and players reload it.
	c.Set(fiber.HeaderCacheControl, "private, max-age=5")
	if v.Growing() {
		c.Set(fiber.HeaderCacheControl, "no-store")
	}
	return c.SendString(pl)
}

func (s *Server) initSegment(c *fiber.Ctx) error {
	return s.sendSegment(c, api.InitSegment, "video/mp4")
}

func (s *Server) mediaSegment(c *fiber.Ctx) error {
	name, ok := strings.CutSuffix(c.Params("file"), ".m4s")
	if !ok {
		return fiber.ErrNotFound
	}
	index, err := api.ParseSegmentIndex(name)
	if err != nil || index == api.InitSegment {
		return fiber.ErrNotFound
	}
	return s.sendSegment(c, index, "video/iso.segment")
}

func (s *Server) sendSegment(c *fiber.Ctx, index api.SegmentIndex, contentType string) error {
	v, err := s.mediaVideo(c)
	if err != nil {
		return err
	}
	// What a trim cut stays cut: a trimmed video's original segments
	// are not served.
	if trimmed, err := s.media.Trimmed(c.UserContext(), v); err != nil {
		return err
	} else if trimmed {
		return fiber.ErrNotFound
	}
	rc, size, err := s.media.OpenSegment(c.UserContext(), v, index)
	if err != nil {
		return mediaError(err)
	}
	c.Set(fiber.HeaderContentType, contentType)
	c.Set(fiber.HeaderCacheControl, playbackCache)
	// fasthttp closes rc when done; if opening fails mid-way the stream
	// errors and the connection is dropped short of Content-Length, so
	// the player sees a failed request, never unauthenticated bytes.
	c.Context().SetBodyStream(rc, int(size))
	return nil
}

// trimFile serves a file of a trimmed rendition: t/{part}/init.mp4 or
// t/{part}/{n}.m4s.
func (s *Server) trimFile(c *fiber.Ctx) error {
	v, err := s.mediaVideo(c)
	if err != nil {
		return err
	}
	part, err := strconv.Atoi(c.Params("part"))
	if err != nil || part < 0 || part > 99 {
		return fiber.ErrNotFound
	}
	n := -1
	if file := c.Params("file"); file != "init.mp4" {
		name, ok := strings.CutSuffix(file, ".m4s")
		i, err := strconv.Atoi(name)
		if !ok || err != nil || i < 0 || strconv.Itoa(i) != name {
			return fiber.ErrNotFound
		}
		n = i
	}
	rc, size, ctype, err := s.media.OpenTrimFile(c.UserContext(), v, part, n)
	if err != nil {
		return mediaError(err)
	}
	c.Set(fiber.HeaderContentType, ctype)
	c.Set(fiber.HeaderCacheControl, playbackCache)
	c.Context().SetBodyStream(rc, int(size))
	return nil
}

// asset serves a derived file: thumbnail, GIF preview or MP4 download.
func (s *Server) asset(kind string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		v, err := s.mediaVideo(c)
		if err != nil {
			return err
		}
		if kind == store.AssetMP4 && !v.Downloads {
			return fiber.ErrNotFound
		}
		if kind == store.AssetGIF && v.Privacy != store.PrivacyPublic {
			return fiber.ErrNotFound
		}
		a, err := s.store.Asset(c.UserContext(), v.ID, kind)
		if errors.Is(err, store.ErrNotFound) {
			return newError(fiber.StatusNotFound, api.CodeNotFound, "This file is not ready yet; try again in a minute.")
		}
		if err != nil {
			return err
		}
		rc, err := s.media.OpenAsset(c.UserContext(), v, a)
		if err != nil {
			return mediaError(err)
		}
		c.Set(fiber.HeaderContentType, a.ContentType)
		c.Set(fiber.HeaderCacheControl, playbackCache)
		if kind == store.AssetMP4 {
			c.Set(fiber.HeaderContentDisposition, attachment(share.DisplayTitle(v)+".mp4"))
		}
		c.Context().SetBodyStream(rc, int(a.Size))
		return nil
	}
}

// attachment is a Content-Disposition naming a download: an ASCII
// fallback and the exact UTF-8 name (RFC 6266).
func attachment(name string) string {
	ascii := strings.Map(func(r rune) rune {
		switch {
		case r > unicode.MaxASCII || unicode.IsControl(r) || r == '"' || r == '\\' || r == '/' || r == ';':
			return '_'
		}
		return r
	}, name)
	return fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, ascii, url.PathEscape(name))
}

// shareLogo serves the logo of the video's workspace to whoever may watch
// the video.
func (s *Server) shareLogo(c *fiber.Ctx) error {
	v, err := s.mediaVideo(c)
	if err != nil {
		return err
	}
	if v.WorkspaceID == "" {
		return fiber.ErrNotFound
	}
	rc, ctype, err := s.accounts.WorkspaceLogo(c.UserContext(), v.WorkspaceID)
	if account.IsKind(err, account.KindNotFound) {
		return fiber.ErrNotFound
	}
	if err != nil {
		return err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, account.MaxImageBytes+1))
	if err != nil {
		return fmt.Errorf("read logo: %w", err)
	}
	c.Set(fiber.HeaderContentType, ctype)
	c.Set(fiber.HeaderCacheControl, playbackCache)
	return c.Send(b)
}
