package httpapi

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"framecast.dev/server/internal/media"
	"framecast.dev/server/internal/store"
	"framecast.dev/server/internal/track"
	"framecast.dev/shared/api"
)

// The sync API (see framecast.dev/shared/api for the protocol).

func (s *Server) syncRoutes(v1 fiber.Router) {
	v1.Post("/videos", s.authenticate, s.createVideo)
	v1.Get("/videos/:id", s.authenticate, s.getVideo)
	v1.Put("/videos/:id/segments/:index", s.authenticate, s.putSegment)
	v1.Patch("/videos/:id/segments/:index", s.authenticate, s.patchSegment)
	v1.Head("/videos/:id/segments/:index", s.authenticate, s.headSegment)
	v1.Post("/videos/:id/finalize", s.authenticate, s.finalize)
}

func (s *Server) apiVideo(v store.Video, segs []store.Segment) api.Video {
	out := api.Video{
		ID:          v.ID,
		RecordingID: v.RecordingID,
		Title:       v.Title,
		State:       string(v.State),
		ShareURL:    s.media.ShareURL(v),
		CreatedAt:   v.CreatedAt,
	}
	if v.State == store.StateReady {
		t := v.ReadyAt
		out.ReadyAt = &t
		out.SegmentCount = v.SegmentCount
		out.Init = v.HasInit
		out.Duration = v.Duration()
	}
	for _, seg := range segs {
		out.Segments = append(out.Segments, api.Segment{
			Index: api.SegmentIndex(seg.Index), Size: seg.Size, SHA256: seg.SHA256, Offset: seg.Size, Stored: true,
		})
	}
	return out
}

func (s *Server) createVideo(c *fiber.Ctx) error {
	var in api.CreateVideoRequest
	if err := s.readJSON(c, &in); err != nil {
		return err
	}
	if in.Tracking != "" && !track.Valid(in.Tracking) {
		return newError(fiber.StatusBadRequest, api.CodeBadRequest, "tracking must be %q, %q or %q (or left out for the account's default).",
			api.TrackingFull, api.TrackingAnonymous, api.TrackingOff)
	}
	v, created, err := s.media.CreateVideo(c.UserContext(), userOf(c).ID, in.Title, in.RecordingID)
	if err != nil {
		return mediaError(err)
	}
	if in.Tracking != "" && created && s.track != nil {
		if err := s.track.SetVideoLevel(c.UserContext(), v.ID, in.Tracking); err != nil {
			return err
		}
	}
	status := fiber.StatusOK
	if created {
		status = fiber.StatusCreated
	}
	return c.Status(status).JSON(s.apiVideo(v, nil))
}

// videoID is the {id} of a sync API path, checked to be a video of the
// token's user (others' videos answer 404, like missing ones).
func (s *Server) videoID(c *fiber.Ctx) (string, error) {
	id := c.Params("id")
	if !media.ValidID(id) {
		return "", newError(fiber.StatusBadRequest, api.CodeInvalidID, "%q is not a video id.", truncate(id, 64))
	}
	if err := s.media.CheckOwner(c.UserContext(), id, userOf(c).ID); err != nil {
		return "", mediaError(err)
	}
	return id, nil
}

func segmentIndex(c *fiber.Ctx) (api.SegmentIndex, error) {
	raw := c.Params("index")
	i, err := api.ParseSegmentIndex(raw)
	if err != nil {
		return 0, newError(fiber.StatusBadRequest, api.CodeInvalidIndex,
			"%q is not a segment index (0..%d or \"init\").", truncate(raw, 32), api.MaxSegmentIndex)
	}
	return i, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func (s *Server) getVideo(c *fiber.Ctx) error {
	id, err := s.videoID(c)
	if err != nil {
		return err
	}
	v, segs, err := s.media.Video(c.UserContext(), id)
	if err != nil {
		return mediaError(err)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(s.apiVideo(v, segs))
}

func (s *Server) putSegment(c *fiber.Ctx) error   { return s.writeSegment(c, false) }
func (s *Server) patchSegment(c *fiber.Ctx) error { return s.writeSegment(c, true) }

func (s *Server) writeSegment(c *fiber.Ctx, resume bool) error {
	id, err := s.videoID(c)
	if err != nil {
		return err
	}
	index, err := segmentIndex(c)
	if err != nil {
		return err
	}
	bodyLen := int64(c.Request().Header.ContentLength())
	if bodyLen < 0 {
		bodyLen = -1 // chunked
	}
	u := media.Upload{VideoID: id, Index: index, SHA256: c.Get(api.HeaderSHA256), BodyLength: bodyLen, Resume: resume}
	if u.SHA256 == "" {
		return newError(fiber.StatusBadRequest, api.CodeBadRequest, "The %s header is required.", api.HeaderSHA256)
	}
	if u.Length, err = headerInt(c, api.HeaderUploadLength); err != nil {
		return err
	}
	if u.Length < 0 {
		if resume || bodyLen < 0 {
			return newError(fiber.StatusLengthRequired, api.CodeLengthRequired, "The %s header is required.", api.HeaderUploadLength)
		}
		u.Length = bodyLen
	}
	if resume {
		if u.Offset, err = headerInt(c, api.HeaderUploadOffset); err != nil {
			return err
		}
		if u.Offset < 0 {
			return newError(fiber.StatusBadRequest, api.CodeBadRequest, "PATCH needs the %s header.", api.HeaderUploadOffset)
		}
	}
	// A takeover by a newer request for the same segment ends the body
	// read below with a deadline in the past. (Closing the connection
	// instead makes fasthttp panic when it next sets a deadline.)
	conn := c.Context().Conn()
	u.Abort = func() { conn.SetReadDeadline(time.Unix(1, 0)) }

	p, err := s.media.WriteSegment(c.UserContext(), u, bodyReader(c))
	if err != nil {
		return mediaError(err)
	}
	setProgressHeaders(c, p)
	status := fiber.StatusOK
	if p.New {
		status = fiber.StatusCreated
	}
	return c.Status(status).JSON(api.Segment{Index: p.Index, Size: p.Length, SHA256: p.SHA256, Offset: p.Offset, Stored: p.Stored})
}

func (s *Server) headSegment(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	id, err := s.videoID(c)
	if err != nil {
		return err
	}
	index, err := segmentIndex(c)
	if err != nil {
		return err
	}
	p, err := s.media.UploadState(c.UserContext(), id, index)
	if err != nil {
		return mediaError(err)
	}
	setProgressHeaders(c, p)
	return c.SendStatus(fiber.StatusOK)
}

func setProgressHeaders(c *fiber.Ctx, p media.Progress) {
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(api.HeaderUploadOffset, strconv.FormatInt(p.Offset, 10))
	c.Set(api.HeaderUploadLength, strconv.FormatInt(p.Length, 10))
	c.Set(api.HeaderSHA256, p.SHA256)
}

// headerInt parses a non-negative integer header; -1 when absent.
func headerInt(c *fiber.Ctx, name string) (int64, error) {
	raw := c.Get(name)
	if raw == "" {
		return -1, nil
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n < 0 {
		return 0, newError(fiber.StatusBadRequest, api.CodeBadRequest, "The %s header must be a non-negative integer.", name)
	}
	return n, nil
}

func (s *Server) finalize(c *fiber.Ctx) error {
	id, err := s.videoID(c)
	if err != nil {
		return err
	}
	var in api.FinalizeRequest
	if err := s.readJSON(c, &in); err != nil {
		return err
	}
	start := time.Now()
	v, err := s.media.Finalize(c.UserContext(), id, media.Finalization{
		SegmentCount: in.SegmentCount, Init: in.Init, Durations: in.SegmentDurations, DataKey: in.DataKey,
	})
	clear(in.DataKey)
	if err != nil {
		return mediaError(err)
	}
	s.reqLogger(c).Debug("finalized", "video_id", v.ID, "took", time.Since(start).String())
	return c.JSON(s.apiVideo(v, nil))
}

// mediaError maps the media package's errors onto API answers.
func mediaError(err error) error {
	var me *media.Error
	if !errors.As(err, &me) {
		return err
	}
	status, code := http.StatusInternalServerError, api.CodeInternal
	switch me.Kind {
	case media.KindInvalid:
		status, code = http.StatusBadRequest, api.CodeBadRequest
	case media.KindNotFound:
		status, code = http.StatusNotFound, api.CodeNotFound
	case media.KindSHA256Conflict:
		status, code = http.StatusConflict, api.CodeSHA256Conflict
	case media.KindOffsetMismatch:
		status, code = http.StatusConflict, api.CodeOffsetMismatch
	case media.KindFinalized:
		status, code = http.StatusConflict, api.CodeFinalized
	case media.KindSegmentsMissing:
		status, code = http.StatusConflict, api.CodeSegmentsMissing
	case media.KindTooLarge:
		status, code = http.StatusRequestEntityTooLarge, api.CodeBodyTooLarge
	case media.KindChecksumMismatch:
		status, code = http.StatusUnprocessableEntity, api.CodeChecksumMismatch
	case media.KindBadSeal:
		status, code = http.StatusUnprocessableEntity, api.CodeBadSeal
	case media.KindWrongDataKey:
		status, code = http.StatusUnprocessableEntity, api.CodeWrongDataKey
	case media.KindBusy:
		status, code = http.StatusLocked, api.CodeUploadBusy
	case media.KindInterrupted:
		status, code = http.StatusBadRequest, api.CodeUploadInterrupted
	case media.KindCorrupt:
		status, code = http.StatusInternalServerError, api.CodeInternal
	case media.KindRecordingTaken:
		status, code = http.StatusConflict, api.CodeRecordingTaken
	}
	ae := &apiError{Status: status, Code: code, Message: me.Message}
	if me.Kind == media.KindOffsetMismatch || me.Kind == media.KindInterrupted {
		ae.Headers = map[string]string{api.HeaderUploadOffset: strconv.FormatInt(me.Offset, 10)}
	}
	return ae
}
