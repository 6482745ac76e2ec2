package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"framecast.dev/server/web"
	"framecast.dev/shared/api"
)

// apiError is what handlers return for an answer that is not a success.
// The error handler renders it as JSON under /api/ and as a page elsewhere.
type apiError struct {
	Status  int
	Code    string
	Message string
	// Headers are set on the error answer (for example Upload-Offset).
	Headers map[string]string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

func newError(status int, code, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// errorHandler renders every error that reaches fiber. Only messages of
// errors we made ourselves reach the client; anything else is logged and
// answered with a generic 500, so internals (paths, SQL) never leak.
func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	var (
		ae *apiError
		fe *fiber.Error
	)
	switch {
	case errors.As(err, &ae):
	case errors.As(err, &fe):
		ae = &apiError{Status: fe.Code, Code: codeFor(fe.Code), Message: messageFor(fe)}
	default:
		s.reqLogger(c).Error("request failed", "err", err)
		ae = &apiError{Status: http.StatusInternalServerError, Code: api.CodeInternal,
			Message: "Something went wrong on the server; it has been logged. Try again later."}
	}
	for k, v := range ae.Headers {
		c.Set(k, v)
	}
	if c.Method() == fiber.MethodHead {
		return c.SendStatus(ae.Status)
	}
	c.Status(ae.Status)
	if isAPI(c.Path()) {
		return c.JSON(api.ErrorResponse{Error: api.Error{Code: ae.Code, Message: ae.Message}})
	}
	var b strings.Builder
	title := http.StatusText(ae.Status)
	if title == "" {
		title = "Error"
	}
	if err := web.Templates.ExecuteTemplate(&b, "error.html", map[string]any{"Status": ae.Status, "Title": title, "Message": ae.Message}); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.SendString(b.String())
}

func isAPI(path string) bool { return path == "/api" || strings.HasPrefix(path, "/api/") }

func codeFor(status int) string {
	switch status {
	case http.StatusBadRequest:
		return api.CodeBadRequest
	case http.StatusUnauthorized:
		return api.CodeUnauthorized
	case http.StatusNotFound:
		return api.CodeNotFound
	case http.StatusMethodNotAllowed:
		return api.CodeMethodNotAllowed
	case http.StatusRequestEntityTooLarge:
		return api.CodeBodyTooLarge
	case http.StatusServiceUnavailable:
		return api.CodeUnavailable
	}
	if status >= 500 {
		return api.CodeInternal
	}
	return api.CodeBadRequest
}

func messageFor(fe *fiber.Error) string {
	switch fe.Code {
	case http.StatusNotFound:
		// fiber's own text echoes the path; a share path holds a secret.
		return "There is nothing at this address."
	case http.StatusMethodNotAllowed:
		return "This address does not accept that method."
	case http.StatusRequestEntityTooLarge:
		return "The request body is too large."
	}
	if fe.Code >= 500 {
		return "Something went wrong on the server; try again later."
	}
	return fe.Message
}
