// Package api is the sync API between the desktop app and the server: route
// paths, headers, request and response bodies, and the Client both the
// desktop uploader and the server's tests use. The server implements it in
// framecast.dev/server/internal/httpapi.
//
// # Authentication
//
// Every /api/v1 request except the two device sign-in calls below carries
// "Authorization: Bearer <device token>". A device token belongs to one
// user: videos created with it are that user's, and the other sync calls
// see only that user's videos (another user's video answers 404 like a
// missing one). A missing, wrong or revoked token gives 401 with code
// "unauthorized"; the app should then sign in again. A server may also
// accept one placeholder token its operator configured
// (FRAMECAST_DEVICE_TOKEN, acting for the account FRAMECAST_DEVICE_TOKEN_USER).
//
// # Signing in a desktop app (device authorization, after RFC 8628)
//
//  1. POST /api/v1/device/code {client_name} (no token) → 200
//     DeviceAuthorization: device_code (secret, keep it in memory),
//     user_code (like "BCDF-GHJK", show it), verification_uri and
//     verification_uri_complete (open the latter in the browser),
//     expires_in and interval (seconds).
//  2. The user signs in to the server in the browser (if not already),
//     checks the code shown matches and approves (or denies).
//  3. Meanwhile the app polls POST /api/v1/device/token {device_code} (no
//     token), waiting interval seconds between polls:
//     400 authorization_pending: not decided yet, poll again;
//     400 slow_down: polled too fast, add 5 s to the interval for good;
//     403 access_denied: the user denied, stop;
//     400 expired_token: the code expired (10 minutes) or was already
//     used, start again at 1;
//     200 DeviceToken: access_token is the device token (shown once, keep
//     it in the OS keychain), with the device id and the user.
//  4. GET /api/v1/me says whose the token is; DELETE /api/v1/device signs
//     this device out (revokes its own token). The user can also revoke it
//     on the server's devices page, after which every call answers 401.
//
// Client.SignIn runs steps 1 and 3 (see its doc).
//
// # Errors
//
// Every /api/ error is JSON: {"error":{"code":"...","message":"..."}}. The
// code (see the Code* constants) is stable and meant for programs; the
// message is a sentence for people. The Client returns such answers as
// *Error.
//
// # Flow
//
//  1. POST /api/v1/videos {title, recording_id} → 201 Video (200 with the
//     same Video when recording_id was already created: safe to retry).
//  2. For each sealed segment, in any order and concurrently:
//     PUT /api/v1/videos/{id}/segments/{index} with headers Upload-Length
//     (total sealed bytes) and Framecast-Sha256 (hex SHA-256 of all of
//     them), body = the sealed bytes from byte 0. Answers, all with a
//     Segment body and the Upload-Offset, Upload-Length and
//     Framecast-Sha256 headers:
//     201: stored by this request (checked: hash and seal header);
//     200 with stored=true: was already stored with the same hash, nothing
//     written again; 200 with stored=false: the body was shorter than
//     Upload-Length (a deliberate partial upload), offset says how much is
//     held. Errors: 409 sha256_conflict (stored with another hash: a bug,
//     don't retry), 409 finalized, 422 checksum_mismatch (the bytes do not
//     hash to the header: the partial data is dropped, PUT again), 422
//     bad_seal (not sealed for this recording and index: don't retry),
//     413 body_too_large, 411 length_required, 423 upload_busy (retry
//     with backoff; rare, see below), 404 not_found (no such video).
//  3. After a cut connection, HEAD the same URL: 404 means nothing is held
//     (PUT again); otherwise 200 with Upload-Offset = bytes held (kept
//     durably). Upload-Offset == Upload-Length means the segment is
//     stored. Else PATCH the rest: headers Upload-Offset (the value HEAD
//     gave), Upload-Length and Framecast-Sha256 (same as the PUT), body =
//     the sealed bytes from that offset on; answers as for PUT, plus 409
//     offset_mismatch (its Upload-Offset header has the right offset) and
//     404 when no upload is in progress. A simple uploader may instead
//     PUT the whole segment again: a PUT always starts over from byte 0.
//     A new PUT/PATCH of a segment whose previous request is still open on
//     the server (a silent network cut) takes it over within ~3 s; 423 only
//     if that fails.
//  4. POST /api/v1/videos/{id}/finalize with the segment count, each
//     segment's duration and the recording's data key → 200 Video, now
//     "ready" and playable at ShareURL. Errors: 409 segments_missing (the
//     message lists them; upload and finalize again), 422 wrong_data_key,
//     400 bad_request, 409 finalized (finalized before with other values).
//     Finalizing again with the same values is harmless (200).
//
// GET /api/v1/videos/{id} returns the Video with the segments stored so
// far, so an uploader restarting can skip them in one request.
//
// # Segments and indexes
//
// Media segments are numbered from 0 in playback order; their index in the
// URL is the decimal number without leading zeros. The HLS initialization
// segment (init.mp4 of fMP4 output) is "init" in the URL and InitSegment
// (-1) in JSON. Each segment is sealed with framecast.dev/shared/seal under
// the recording's data key, the video's RecordingID and SegmentIndex.SealIndex
// (the media index itself, or InitSealIndex for the init segment); the server
// checks the seal header of every upload against both and refuses a segment
// sealed for another slot.
package api

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// Route patterns, in the {name} form of net/http. Use the *Path helpers to
// build URLs.
const (
	RouteVideos      = "/api/v1/videos"                       // POST: create
	RouteVideo       = "/api/v1/videos/{id}"                  // GET: status
	RouteSegment     = "/api/v1/videos/{id}/segments/{index}" // PUT, PATCH, HEAD
	RouteFinalize    = "/api/v1/videos/{id}/finalize"         // POST
	RouteDeviceCode  = "/api/v1/device/code"                  // POST: start a desktop sign-in (no token)
	RouteDeviceToken = "/api/v1/device/token"                 // POST: poll for the device token (no token)
	RouteMe          = "/api/v1/me"                           // GET: the token's user and device
	RouteDevice      = "/api/v1/device"                       // DELETE: revoke this device's token
	RouteShare       = "/v/{slug}"                            // GET: player page
	RoutePlaylist    = "/v/{slug}/playlist.m3u8"              // GET: HLS VOD playlist
)

// Headers of the segment upload (names follow tus 1.0 core where tus has one).
const (
	// HeaderSHA256 is the lowercase hex SHA-256 of the whole sealed segment.
	// Required on PUT and PATCH; answered on HEAD.
	HeaderSHA256 = "Framecast-Sha256"
	// HeaderUploadLength is the total sealed length in bytes. Required on
	// PUT and PATCH; answered on HEAD, PUT and PATCH.
	HeaderUploadLength = "Upload-Length"
	// HeaderUploadOffset is where a PATCH body starts; in answers, how many
	// bytes of the segment the server holds.
	HeaderUploadOffset = "Upload-Offset"
	// HeaderRequestID is echoed on every answer; send one to correlate logs.
	HeaderRequestID = "X-Request-Id"
)

// Error codes. New codes may be added; treat an unknown one by its status.
const (
	CodeBadRequest        = "bad_request"        // 400: malformed input; see message
	CodeInvalidID         = "invalid_id"         // 400: the {id} is not a video id
	CodeInvalidIndex      = "invalid_index"      // 400: the {index} is not 0..MaxSegmentIndex or "init"
	CodeUnauthorized      = "unauthorized"       // 401: missing or wrong bearer token
	CodeNotFound          = "not_found"          // 404: no such video, segment or upload
	CodeMethodNotAllowed  = "method_not_allowed" // 405
	CodeSHA256Conflict    = "sha256_conflict"    // 409: the index holds another hash
	CodeOffsetMismatch    = "offset_mismatch"    // 409: Upload-Offset is not the server's offset; HEAD and retry
	CodeFinalized         = "finalized"          // 409: the video is finalized; segments cannot be added or changed
	CodeSegmentsMissing   = "segments_missing"   // 409: finalize named segments the server does not have
	CodeLengthRequired    = "length_required"    // 411: Upload-Length missing
	CodeBodyTooLarge      = "body_too_large"     // 413
	CodeChecksumMismatch  = "checksum_mismatch"  // 422: the bytes received do not hash to Framecast-Sha256; PUT again
	CodeBadSeal           = "bad_seal"           // 422: not a sealed segment for this recording and index
	CodeWrongDataKey      = "wrong_data_key"     // 422: the data key does not open the segments
	CodeUploadBusy        = "upload_busy"        // 423: another request is writing this segment; retry shortly
	CodeUploadInterrupted = "upload_interrupted" // 400: the body ended early; Upload-Offset says what is kept
	CodeRecordingTaken    = "recording_taken"    // 409: another account created a video with this recording_id
	CodeForbidden         = "forbidden"          // 403: signed in, but not allowed
	CodeConflict          = "conflict"           // 409: the current state does not allow it
	CodeRateLimited       = "rate_limited"       // 429: too many attempts; see Retry-After
	// Answers of POST RouteDeviceToken (RFC 8628 section 3.5).
	CodeAuthorizationPending = "authorization_pending" // 400: the user has not decided yet; poll again
	CodeSlowDown             = "slow_down"             // 400: polled too fast; add 5 s to the interval
	CodeAccessDenied         = "access_denied"         // 403: the user denied the sign-in
	CodeExpiredToken         = "expired_token"         // 400: the device code expired or was used; start again
	CodeInternal             = "internal"              // 500
	CodeUnavailable          = "unavailable"           // 503
)

// Error is the body of every /api/ error answer (inside {"error": ...}).
type Error struct {
	Status  int    `json:"-"` // the HTTP status, filled in by the Client
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s (%d %s)", e.Message, e.Status, e.Code)
}

// ErrorResponse is the JSON envelope of an Error.
type ErrorResponse struct {
	Error Error `json:"error"`
}

// CreateVideoRequest is the body of POST RouteVideos.
type CreateVideoRequest struct {
	Title string `json:"title"`
	// RecordingID is the seal.RecordingID (32 hex digits) the desktop seals
	// this recording's segments with. Creating twice with the same id
	// returns the same video, so a create lost to a network error can be
	// retried. If empty the server picks one; seal with the one returned.
	RecordingID string `json:"recording_id,omitempty"`
	// Tracking is the viewer-tracking level for this video (TrackingFull,
	// TrackingAnonymous or TrackingOff); empty takes the account's default.
	Tracking string `json:"tracking,omitempty"`
}

// Viewer-tracking levels: what the server may store about a video's viewers.
const (
	TrackingFull      = "full"      // per-view rows: location, watch time, clicks
	TrackingAnonymous = "anonymous" // aggregates only, no per-view rows
	TrackingOff       = "off"       // nothing about viewers
)

// State of a video.
const (
	StateUploading = "uploading" // created; segments may arrive; not playable
	StateReady     = "ready"     // finalized; playable at ShareURL
)

// Video describes a video; answer of create, status and finalize.
type Video struct {
	ID          string `json:"id"`
	RecordingID string `json:"recording_id"`
	Title       string `json:"title"`
	State       string `json:"state"`
	// ShareURL plays the video once it is ready. Its last element is the
	// slug: 160 random bits, the link's only protection; don't log it.
	ShareURL  string     `json:"share_url"`
	CreatedAt time.Time  `json:"created_at"`
	ReadyAt   *time.Time `json:"ready_at,omitempty"`
	// Set once ready.
	SegmentCount int     `json:"segment_count,omitempty"`
	Init         bool    `json:"init,omitempty"`
	Duration     float64 `json:"duration,omitempty"` // seconds
	// Segments the server has stored (GET RouteVideo only), by index.
	Segments []Segment `json:"segments,omitempty"`
}

// Segment is the answer of PUT and PATCH, and an entry of Video.Segments.
type Segment struct {
	Index  SegmentIndex `json:"index"`
	Size   int64        `json:"size"`   // sealed length (Upload-Length)
	SHA256 string       `json:"sha256"` // hex
	Offset int64        `json:"offset"` // bytes held; == Size once stored
	Stored bool         `json:"stored"`
}

// FinalizeRequest is the body of POST RouteFinalize.
type FinalizeRequest struct {
	// SegmentCount media segments, indexes 0..SegmentCount-1, must all be
	// stored; segments with higher indexes are ignored.
	SegmentCount int `json:"segment_count"`
	// Init says the recording has an init segment, which must be stored.
	Init bool `json:"init"`
	// SegmentDurations are the playing times in seconds of the media
	// segments, in index order (the #EXTINF values of ffmpeg's playlist).
	// The video's duration is their sum.
	SegmentDurations []float64 `json:"segment_durations"`
	// DataKey is the recording's 32-byte data key (base64 in JSON). The
	// server checks it opens a segment, wraps it with its own key and keeps
	// only the wrapped form. Send only over HTTPS in production.
	DataKey []byte `json:"data_key"`
}

// Limits the server enforces.
const (
	MaxSegmentIndex    = 999_999 // media segments 0..MaxSegmentIndex (~23 days at 2 s)
	MaxTitleLen        = 500     // bytes
	MaxSegmentDuration = 600.0   // seconds
)

// SegmentIndex is a media segment's number, or InitSegment.
type SegmentIndex int

// InitSegment is the index of the HLS initialization segment.
const InitSegment SegmentIndex = -1

// InitSealIndex is the seal segment index the init segment is sealed with.
const InitSealIndex uint32 = math.MaxUint32

// String is the URL form: "init" or the decimal index.
func (i SegmentIndex) String() string {
	if i == InitSegment {
		return "init"
	}
	return strconv.Itoa(int(i))
}

// SealIndex is the segment index to seal (and open) this segment with.
func (i SegmentIndex) SealIndex() uint32 {
	if i == InitSegment {
		return InitSealIndex
	}
	return uint32(i)
}

// Valid reports whether i can be uploaded.
func (i SegmentIndex) Valid() bool {
	return i == InitSegment || 0 <= i && i <= MaxSegmentIndex
}

// ParseSegmentIndex parses the URL form. Only the canonical spelling is
// accepted ("7", not "07" or "+7"), so one segment has one URL.
func ParseSegmentIndex(s string) (SegmentIndex, error) {
	if s == "init" {
		return InitSegment, nil
	}
	if s == "" || len(s) > 6 || (len(s) > 1 && s[0] == '0') {
		return 0, fmt.Errorf("segment index %q: want 0..%d or \"init\"", s, MaxSegmentIndex)
	}
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("segment index %q: want 0..%d or \"init\"", s, MaxSegmentIndex)
		}
		n = n*10 + int(c-'0')
	}
	return SegmentIndex(n), nil
}

// VideoPath is the URL path of a video's status.
func VideoPath(id string) string { return RouteVideos + "/" + id }

// SegmentPath is the URL path of one segment's upload.
func SegmentPath(id string, index SegmentIndex) string {
	return VideoPath(id) + "/segments/" + index.String()
}

// FinalizePath is the URL path of a video's finalize call.
func FinalizePath(id string) string { return VideoPath(id) + "/finalize" }
