package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Client speaks the sync API. It does one HTTP request per call and never
// retries: retry policy (backoff, offline detection) belongs to the caller.
// Errors the server answered are *Error; others are transport errors.
type Client struct {
	BaseURL string // e.g. "http://127.0.0.1:8080", no trailing slash needed
	Token   string // the device token
	HTTP    *http.Client
}

// NewClient returns a Client using http.DefaultClient.
func NewClient(baseURL, token string) *Client {
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), Token: token, HTTP: http.DefaultClient}
}

func (c *Client) newRequest(ctx context.Context, method, path string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+path, body)
	if err != nil {
		return nil, err
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	return req, nil
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

// do sends req and decodes a 2xx JSON answer into out.
func (c *Client) do(req *http.Request, out any) (int, error) {
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, decodeError(resp)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decode answer: %w", req.Method, req.URL.Path, err)
		}
	}
	return resp.StatusCode, nil
}

func decodeError(resp *http.Response) error {
	var body ErrorResponse
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err := json.Unmarshal(raw, &body); err != nil || body.Error.Code == "" {
		body.Error = Error{Code: codeForStatus(resp.StatusCode), Message: strings.TrimSpace(string(raw))}
		if body.Error.Message == "" {
			body.Error.Message = http.StatusText(resp.StatusCode)
		}
	}
	body.Error.Status = resp.StatusCode
	return &body.Error
}

func codeForStatus(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return CodeUnauthorized
	case http.StatusNotFound:
		return CodeNotFound
	case http.StatusServiceUnavailable:
		return CodeUnavailable
	}
	if status >= 500 {
		return CodeInternal
	}
	return CodeBadRequest
}

func jsonBody(v any) (io.Reader, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return bytes.NewReader(b), nil
}

// CreateVideo creates a video, or returns the existing one for the same
// RecordingID (created=false).
func (c *Client) CreateVideo(ctx context.Context, in CreateVideoRequest) (v Video, created bool, err error) {
	body, err := jsonBody(in)
	if err != nil {
		return Video{}, false, err
	}
	req, err := c.newRequest(ctx, http.MethodPost, RouteVideos, body)
	if err != nil {
		return Video{}, false, err
	}
	req.Header.Set("Content-Type", "application/json")
	status, err := c.do(req, &v)
	return v, status == http.StatusCreated, err
}

// Video returns a video's status, including the segments stored so far.
func (c *Client) Video(ctx context.Context, id string) (Video, error) {
	req, err := c.newRequest(ctx, http.MethodGet, VideoPath(id), nil)
	if err != nil {
		return Video{}, err
	}
	var v Video
	_, err = c.do(req, &v)
	return v, err
}

// PutSegment uploads a whole sealed segment of size bytes from body. The
// answer's Stored is true when the server holds the segment (now or before).
func (c *Client) PutSegment(ctx context.Context, id string, index SegmentIndex, sha256Hex string, size int64, body io.Reader) (Segment, error) {
	return c.sendSegment(ctx, http.MethodPut, id, index, sha256Hex, size, 0, body)
}

// PatchSegment uploads the rest of a segment from offset on; body yields the
// sealed bytes from offset to the end.
func (c *Client) PatchSegment(ctx context.Context, id string, index SegmentIndex, sha256Hex string, size, offset int64, body io.Reader) (Segment, error) {
	return c.sendSegment(ctx, http.MethodPatch, id, index, sha256Hex, size, offset, body)
}

func (c *Client) sendSegment(ctx context.Context, method, id string, index SegmentIndex, sha256Hex string, size, offset int64, body io.Reader) (Segment, error) {
	if body == nil || size-offset == 0 {
		body = http.NoBody
	}
	req, err := c.newRequest(ctx, method, SegmentPath(id, index), body)
	if err != nil {
		return Segment{}, err
	}
	req.ContentLength = size - offset
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	req.Header.Set(HeaderSHA256, sha256Hex)
	req.Header.Set(HeaderUploadLength, strconv.FormatInt(size, 10))
	if method == http.MethodPatch {
		req.Header.Set(HeaderUploadOffset, strconv.FormatInt(offset, 10))
	}
	var s Segment
	_, err = c.do(req, &s)
	return s, err
}

// UploadState is what HEAD on a segment says.
type UploadState struct {
	Offset int64  // bytes the server holds
	Length int64  // the segment's sealed length
	SHA256 string // the hash the upload was started with
}

// Stored reports whether the whole segment is stored.
func (s UploadState) Stored() bool { return s.Offset == s.Length }

// SegmentState asks how much of a segment the server holds. An *Error with
// Status 404 means nothing: start with PutSegment.
func (c *Client) SegmentState(ctx context.Context, id string, index SegmentIndex) (UploadState, error) {
	req, err := c.newRequest(ctx, http.MethodHead, SegmentPath(id, index), nil)
	if err != nil {
		return UploadState{}, err
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return UploadState{}, fmt.Errorf("HEAD %s: %w", req.URL.Path, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return UploadState{}, &Error{Status: resp.StatusCode, Code: codeForStatus(resp.StatusCode), Message: "HEAD " + req.URL.Path + ": " + resp.Status}
	}
	var st UploadState
	st.Offset, err = strconv.ParseInt(resp.Header.Get(HeaderUploadOffset), 10, 64)
	if err != nil {
		return UploadState{}, fmt.Errorf("HEAD %s: bad %s: %w", req.URL.Path, HeaderUploadOffset, err)
	}
	st.Length, err = strconv.ParseInt(resp.Header.Get(HeaderUploadLength), 10, 64)
	if err != nil {
		return UploadState{}, fmt.Errorf("HEAD %s: bad %s: %w", req.URL.Path, HeaderUploadLength, err)
	}
	st.SHA256 = resp.Header.Get(HeaderSHA256)
	return st, nil
}

// Finalize marks the video playable.
func (c *Client) Finalize(ctx context.Context, id string, in FinalizeRequest) (Video, error) {
	body, err := jsonBody(in)
	if err != nil {
		return Video{}, err
	}
	req, err := c.newRequest(ctx, http.MethodPost, FinalizePath(id), body)
	if err != nil {
		return Video{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	var v Video
	_, err = c.do(req, &v)
	return v, err
}

// IsCode reports whether err is an *Error with the given code.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}
