package sync

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"framecast.dev/shared/api"
)

// kind is how a failure is answered.
type kind int

const (
	// kindServer: the server as a whole is unreachable or failing; back
	// off globally and probe with one request at a time.
	kindServer kind = iota
	// kindItem: this segment or recording only; retry it later.
	kindItem
	// kindPermanent: retrying cannot help; mark the recording failed.
	kindPermanent
	// kindAuth: the device token is refused; back off globally until it is
	// fixed, without failing anything.
	kindAuth
)

// failure is an error sorted by kind, with the sentence the user sees.
type failure struct {
	kind kind
	msg  string
	err  error
}

func (f *failure) Error() string { return f.msg }
func (f *failure) Unwrap() error { return f.err }

func permanent(err error, format string, args ...any) *failure {
	return &failure{kind: kindPermanent, msg: fmt.Sprintf(format, args...), err: err}
}

func itemRetry(err error, format string, args ...any) *failure {
	return &failure{kind: kindItem, msg: fmt.Sprintf(format, args...), err: err}
}

// errStalled cancels a transfer that made no progress for StallTimeout.
var errStalled = errors.New("the transfer stalled")

// classify sorts an error from the sync API. what names the thing tried,
// for the sentence ("segment 4 of “Demo”").
func classify(err error, what string) *failure {
	var f *failure
	if errors.As(err, &f) {
		return f
	}
	var ae *api.Error
	if !errors.As(err, &ae) {
		// Transport: refused, reset, cut, timed out, stalled.
		return &failure{kind: kindServer, err: err,
			msg: fmt.Sprintf("The server cannot be reached (%v).", err)}
	}
	switch {
	case ae.Status == http.StatusUnauthorized:
		return &failure{kind: kindAuth, err: err,
			msg: "The server refused this device's token. Set the right one with `framecast device-token` (or FRAMECAST_DEVICE_TOKEN); uploads resume by themselves."}
	case ae.Status >= 500 || ae.Status == http.StatusTooManyRequests:
		return &failure{kind: kindServer, err: err,
			msg: fmt.Sprintf("The server is failing (%d: %s).", ae.Status, ae.Message)}
	case ae.Code == api.CodeUploadBusy, ae.Code == api.CodeOffsetMismatch,
		ae.Code == api.CodeChecksumMismatch, ae.Code == api.CodeUploadInterrupted,
		ae.Status == http.StatusRequestTimeout:
		return itemRetry(err, "Uploading %s must be tried again (%s).", what, ae.Message)
	case ae.Code == api.CodeSHA256Conflict:
		return permanent(err, "The server already holds %s with different content, so this recording cannot be completed there (%s). Its sealed segments stay in the queue; please report this.", what, ae.Message)
	case ae.Code == api.CodeBadSeal:
		return permanent(err, "The server refused %s as not sealed for this recording (%s). Its sealed segments stay in the queue; please report this.", what, ae.Message)
	case ae.Status == http.StatusRequestEntityTooLarge:
		return permanent(err, "The server refuses %s as too large (%s). Raise FRAMECAST_MAX_SEGMENT_BYTES on the server, then run `framecast sync` again.", what, ae.Message)
	case ae.Code == api.CodeFinalized:
		return permanent(err, "The server's copy was already completed without %s (%s).", what, ae.Message)
	case ae.Status == http.StatusNotFound:
		return permanent(err, "The server no longer has the video of %s (%s); it may have been deleted there.", what, ae.Message)
	}
	return permanent(err, "The server refused %s (%d %s: %s); please report this.", what, ae.Status, ae.Code, ae.Message)
}

// canceled reports whether err is only the uploader being stopped.
func canceled(ctx context.Context, err error) bool {
	return ctx.Err() != nil && errors.Is(err, context.Canceled)
}
