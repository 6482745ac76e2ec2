package httpapi

import (
	"crypto/subtle"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"framecast.dev/server/internal/media"
	"framecast.dev/server/internal/store"
	"framecast.dev/shared/api"
)

// Uploading a video file from the dashboard (media imports). The
// dashboard's script creates the upload (POST /uploads with the file's
// name and size), then sends the bytes with PATCH /uploads/{id} and
// Upload-Offset, the segment protocol's resume rule: the server answers
// how many bytes it holds (GET or HEAD, Upload-Offset), and a request
// that does not continue from exactly there is refused with that number.
// The same GET reports processing. These are browser routes: the session
// cookie signs them in, and the CSRF token travels in a header since the
// bodies are JSON or the file's bytes.

// HeaderCSRF carries the CSRF token of script requests.
const HeaderCSRF = "X-CSRF-Token"

func (s *Server) importRoutes(a *fiber.App) {
	a.Post("/uploads", s.csrfHeader, s.signedIn, s.startImport)
	a.Get("/uploads/:id", s.signedIn, s.importStatus)
	a.Patch("/uploads/:id", s.csrfHeader, s.signedIn, s.patchImport)
}

// isImportUpload tells limitBody which requests carry a video file.
func isImportUpload(method, path string) bool {
	return method == fiber.MethodPatch && strings.HasPrefix(path, "/uploads/")
}

// csrfHeader checks a script request's origin and its CSRF token, sent
// in X-CSRF-Token (the double-submit of the csrf cookie, as forms do).
func (s *Server) csrfHeader(c *fiber.Ctx) error {
	forbidden := newError(fiber.StatusForbidden, api.CodeForbidden,
		"The page expired or the request came from another site. Reload the page and try again.")
	if site := c.Get("Sec-Fetch-Site"); site == "cross-site" {
		return forbidden
	}
	if o := c.Get(fiber.HeaderOrigin); o != "" && o != "null" && !strings.EqualFold(o, s.origin()) {
		return forbidden
	}
	cookie := c.Cookies(s.cookies.csrf)
	if !validToken(cookie) || subtle.ConstantTimeCompare([]byte(cookie), []byte(c.Get(HeaderCSRF))) != 1 {
		return forbidden
	}
	return c.Next()
}

type startImportRequest struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
}

type importAnswer struct {
	ID       string  `json:"id"`
	URL      string  `json:"url"` // where to PATCH and GET
	Name     string  `json:"name"`
	Length   int64   `json:"length"`
	Offset   int64   `json:"offset"`
	State    string  `json:"state"`
	Progress float64 `json:"progress"` // of processing, 0..1
	Message  string  `json:"message,omitempty"`
	VideoURL string  `json:"video_url"` // the owner's page of the video
	// Playable: viewers can watch it from the start (ready, or still
	// processing with its first segments published); ShareURL is set
	// from then on.
	Playable bool   `json:"playable"`
	ShareURL string `json:"share_url,omitempty"`
}

func (s *Server) importAnswer(c *fiber.Ctx, v store.Video, im store.Import) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(api.HeaderUploadOffset, strconv.FormatInt(im.Received, 10))
	c.Set(api.HeaderUploadLength, strconv.FormatInt(im.Length, 10))
	a := importAnswer{ID: v.ID, URL: "/uploads/" + v.ID, Name: im.FileName, Length: im.Length, Offset: im.Received,
		State: string(im.State), Progress: im.Progress, Message: im.Message, VideoURL: "/videos/" + v.ID}
	if im.State == store.ImportDone || v.Playable() {
		a.Playable, a.ShareURL = true, s.media.ShareURL(v)
	}
	return c.JSON(a)
}

func (s *Server) startImport(c *fiber.Ctx) error {
	var in startImportRequest
	if err := s.readJSON(c, &in); err != nil {
		return err
	}
	v, im, err := s.media.StartImport(c.UserContext(), userOf(c).ID, in.Name, in.Size)
	if err != nil {
		return mediaError(err)
	}
	c.Status(fiber.StatusCreated)
	return s.importAnswer(c, v, im)
}

// ownImport is the video and import of the :id the user owns; anyone
// else's, or a video without an import, is not found.
func (s *Server) ownImport(c *fiber.Ctx) (store.Video, store.Import, error) {
	v, err := s.share.OwnedVideo(c.UserContext(), *userOf(c), c.Params("id"))
	if err != nil {
		return store.Video{}, store.Import{}, shareError(err)
	}
	im, err := s.media.Import(c.UserContext(), v.ID)
	if err != nil {
		return store.Video{}, store.Import{}, mediaError(err)
	}
	return v, im, nil
}

func (s *Server) importStatus(c *fiber.Ctx) error {
	v, im, err := s.ownImport(c)
	if err != nil {
		return err
	}
	return s.importAnswer(c, v, im)
}

func (s *Server) patchImport(c *fiber.Ctx) error {
	v, _, err := s.ownImport(c)
	if err != nil {
		return err
	}
	u := media.ImportUpload{VideoID: v.ID, BodyLength: int64(c.Request().Header.ContentLength())}
	if u.BodyLength < 0 {
		u.BodyLength = -1 // chunked
	}
	if u.Offset, err = headerInt(c, api.HeaderUploadOffset); err != nil {
		return err
	}
	if u.Offset < 0 {
		return newError(fiber.StatusBadRequest, api.CodeBadRequest, "PATCH needs the %s header.", api.HeaderUploadOffset)
	}
	// As for segments: a newer request for the same upload ends this
	// one's body read with a deadline in the past.
	conn := c.Context().Conn()
	u.Abort = func() { conn.SetReadDeadline(time.Unix(1, 0)) }
	im, err := s.media.WriteImport(c.UserContext(), u, bodyReader(c))
	if err != nil {
		return mediaError(err)
	}
	return s.importAnswer(c, v, im)
}
