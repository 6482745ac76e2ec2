package api

import (
	"context"
	"net/http"
)

// RouteSend mails a video to recipients (the desktop's share menu; the
// dashboard has the same as a form). POST, SendVideoRequest → SendVideoResponse.
const RouteSend = "/api/v1/videos/{id}/send"

// SendPath is the URL path of a video's send call.
func SendPath(id string) string { return VideoPath(id) + "/send" }

// SendVideoRequest is the body of POST RouteSend.
type SendVideoRequest struct {
	Recipients []string `json:"recipients"` // e-mail addresses, at most 50
	Note       string   `json:"note,omitempty"`
}

// SendVideoResponse says what was sent.
type SendVideoResponse struct {
	Sent int `json:"sent"`
	// Unsubscribed lists the addresses skipped: they asked never to be
	// mailed videos from this server.
	Unsubscribed []string `json:"unsubscribed,omitempty"`
	// Personal: the video's tracking level is Full, so each recipient got
	// a personal link (the owner should have their consent).
	Personal bool `json:"personal"`
}

// SendVideo mails a video to recipients.
func (c *Client) SendVideo(ctx context.Context, id string, in SendVideoRequest) (SendVideoResponse, error) {
	var out SendVideoResponse
	body, err := jsonBody(in)
	if err != nil {
		return out, err
	}
	req, err := c.newRequest(ctx, http.MethodPost, SendPath(id), body)
	if err != nil {
		return out, err
	}
	req.Header.Set("Content-Type", "application/json")
	_, err = c.do(req, &out)
	return out, err
}
