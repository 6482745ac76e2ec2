package httpapi

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"framecast.dev/server/internal/media"
	"framecast.dev/server/web"
	"framecast.dev/shared/api"
)

// Share links: a bare player page, the playlist and the opened segments.
// Anyone with the slug may watch; everything else is a uniform 404.

func (s *Server) playbackRoutes(a *fiber.App) {
	a.Get("/v/:slug", s.playerPage)
	a.Get("/v/:slug/playlist.m3u8", s.playlist)
	a.Get("/v/:slug/init.mp4", s.initSegment)
	a.Get("/v/:slug/seg/:file", s.mediaSegment)
}

// Viewers of an unlisted link should not have it kept by shared caches.
const playbackCache = "private, max-age=300"

func (s *Server) playerPage(c *fiber.Ctx) error {
	v, err := s.media.Playable(c.UserContext(), c.Params("slug"))
	if err != nil {
		return mediaError(err)
	}
	var b strings.Builder
	err = web.Templates.ExecuteTemplate(&b, "player.html", map[string]any{
		"Title": v.Title, "PlaylistURL": "/v/" + v.Slug + "/playlist.m3u8",
	})
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "private, no-cache")
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.SendString(b.String())
}

func (s *Server) playlist(c *fiber.Ctx) error {
	v, err := s.media.Playable(c.UserContext(), c.Params("slug"))
	if err != nil {
		return mediaError(err)
	}
	c.Set(fiber.HeaderContentType, "application/vnd.apple.mpegurl")
	c.Set(fiber.HeaderCacheControl, playbackCache)
	return c.SendString(media.Playlist(v))
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
	v, err := s.media.Playable(c.UserContext(), c.Params("slug"))
	if err != nil {
		return mediaError(err)
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
