package httpapi

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"framecast.dev/server/internal/account"
	"framecast.dev/shared/api"
)

const localRequestID = "request_id"

// requestIDOK accepts ids a client or proxy sent if they are short and
// harmless in a log line; anything else is replaced.
func requestIDOK(id string) bool {
	if len(id) < 8 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// outermost wraps every request: request id, security headers, access log
// and metrics. It renders errors itself (instead of leaving it to fiber
// after the chain) so the log and metrics see the final status.
func (s *Server) outermost(c *fiber.Ctx) error {
	start := time.Now()
	id := c.Get(api.HeaderRequestID)
	if !requestIDOK(id) {
		id = newRequestID()
	}
	c.Locals(localRequestID, id)
	c.Set(api.HeaderRequestID, id)
	s.securityHeaders(c)

	if err := s.limitBody(c); err != nil {
		_ = s.errorHandler(c, err)
	} else if err := c.Next(); err != nil {
		if herr := s.errorHandler(c, err); herr != nil {
			s.reqLogger(c).Error("rendering an error failed", "err", herr)
			c.Status(fiber.StatusInternalServerError)
		}
	}

	s.finishBody(c)

	status := c.Response().StatusCode()
	route := s.routeLabel(c, status)
	elapsed := time.Since(start)
	s.metrics.observe(c.Method(), route, status, elapsed)

	attrs := []slog.Attr{
		slog.String("request_id", id),
		slog.String("method", c.Method()),
		slog.String("route", route),
		slog.Int("status", status),
		slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
		slog.Int("bytes_out", bytesOut(c)),
		// Never the whole address: the network part is enough to read
		// a log, and viewers' addresses must not reach the disk.
		slog.String("remote", account.TruncateIP(s.clientIP(c))),
	}
	// Share paths carry the slug, a bearer capability, and account links
	// their one-time secrets: the route pattern is logged instead of the
	// path for them.
	if !secretPath(c.Path()) {
		attrs = append(attrs, slog.String("path", c.Path()))
	}
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	s.log.LogAttrs(c.Context(), level, "http request", attrs...)
	return nil
}

// secretPath reports whether a path carries a secret.
func secretPath(p string) bool {
	for _, prefix := range []string{"/v/", "/embed/", "/verify/", "/reset/", "/invite/", "/privacy/exports/", "/unsubscribe/"} {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}

// routeLabel is the matched route pattern, so metrics have one series per
// route, not per URL.
func (s *Server) routeLabel(c *fiber.Ctx, status int) string {
	r := c.Route()
	if r == nil || r.Method == "USE" || (r.Path == "/" && c.Path() != "/") || status == fiber.StatusNotFound && r.Path == "/*" {
		return "unmatched"
	}
	return r.Path
}

// recoverPanics turns a panic in a handler into a logged 500.
func (s *Server) recoverPanics(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.reqLogger(c).Error("panic in handler", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return c.Next()
}

func (s *Server) securityHeaders(c *fiber.Ctx) {
	c.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"media-src 'self' blob:; worker-src 'self' blob:; connect-src 'self'; "+
		"base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("X-Frame-Options", "DENY")
	// no-referrer: a share page's URL is its capability and must not
	// travel to other sites in Referer headers.
	c.Set("Referrer-Policy", "no-referrer")
	c.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()")
	c.Set("Cross-Origin-Opener-Policy", "same-origin")
	if s.https {
		c.Set("Strict-Transport-Security", "max-age=31536000")
	}
}

// limitBody refuses a declared body larger than the route allows before
// any of it is read. Bodies without a declared length are bounded where
// they are read (readJSON, the segment upload).
func (s *Server) limitBody(c *fiber.Ctx) error {
	n := c.Request().Header.ContentLength()
	limit := s.bodyLimit(c.Method(), c.Path())
	if int64(n) > limit {
		return newError(fiber.StatusRequestEntityTooLarge, api.CodeBodyTooLarge,
			"The request body is %d bytes; the limit here is %d.", n, limit)
	}
	return nil
}

// bodyLimit is the largest body a route takes.
func (s *Server) bodyLimit(method, path string) int64 {
	switch {
	case isSegmentUpload(method, path):
		return s.maxSegment
	case isImportUpload(method, path):
		return s.maxUpload
	case isImageUpload(method, path):
		return max(s.maxBody, maxUploadBody)
	}
	return s.maxBody
}

// bytesOut is the answer's size; Body() must not be called on a streamed
// answer (it would read the whole stream into memory).
func bytesOut(c *fiber.Ctx) int {
	if c.Response().IsBodyStream() {
		return c.Response().Header.ContentLength()
	}
	return len(c.Response().Body())
}

const localBodyEOF = "body_eof"

// drainCap is how much of an unread request body is read and discarded so
// the connection can carry the next request. Closing instead, with bytes
// unread, makes the kernel send a reset that can destroy the answer before
// the client reads it: an uploader would see "connection reset" instead of
// "200 already stored" and retry forever.
const drainCap = 16 << 20

// finishBody leaves the connection ready for the next request: it drains
// what the handler did not read, or marks the connection to be closed.
func (s *Server) finishBody(c *fiber.Ctx) {
	n := c.Request().Header.ContentLength()
	if n == 0 || c.Locals(localBodyEOF) == true {
		return
	}
	if n > drainCap {
		c.Context().SetConnectionClose()
		return
	}
	r := c.Context().RequestBodyStream()
	if r == nil {
		return
	}
	m, err := io.Copy(io.Discard, io.LimitReader(r, drainCap+1))
	if err != nil || m > drainCap {
		c.Context().SetConnectionClose()
	}
}

// bodyReader is the request body stream; it records reaching the end so
// finishBody knows a chunked body was consumed.
func bodyReader(c *fiber.Ctx) *countingReader {
	return &countingReader{r: c.Context().RequestBodyStream(), onEOF: func() { c.Locals(localBodyEOF, true) }}
}

// countingReader counts the bytes read and notes the end.
type countingReader struct {
	r     io.Reader
	n     int64
	eof   bool
	onEOF func()
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.r == nil {
		c.markEOF()
		return 0, io.EOF
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err == io.EOF {
		c.markEOF()
	}
	return n, err
}

func (c *countingReader) markEOF() {
	if !c.eof {
		c.eof = true
		c.onEOF()
	}
}

func isSegmentUpload(method, path string) bool {
	return (method == fiber.MethodPut || method == fiber.MethodPatch) &&
		strings.HasPrefix(path, api.RouteVideos+"/") && strings.Contains(path, "/segments/")
}

func (s *Server) reqLogger(c *fiber.Ctx) *slog.Logger {
	id, _ := c.Locals(localRequestID).(string)
	return s.log.With("request_id", id)
}

// bearer extracts the token of an Authorization: Bearer header.
func bearer(h string) (string, bool) {
	const prefix = "bearer "
	if len(h) <= len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return "", false
	}
	return strings.TrimSpace(h[len(prefix):]), true
}
