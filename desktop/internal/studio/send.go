package studio

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"framecast.dev/shared/api"
)

// Sent is what the server did with a send by e-mail.
type Sent struct {
	Recording string `json:"recording"`
	Sent      int    `json:"sent"`
	// Unsubscribed lists the addresses the server skipped: they asked
	// never to be mailed videos again.
	Unsubscribed []string `json:"unsubscribed"`
	// Personal: the video tracks at Full, so each recipient got a
	// personal link.
	Personal bool `json:"personal"`
}

// SendVideo asks the server to mail an uploaded recording to recipients
// (the share menu's "Send by e-mail"). The server checks the addresses
// again and applies the video's tracking level; its error sentence is
// returned as is, so the window can show it.
func (s *Studio) SendVideo(ctx context.Context, id string, recipients []string, note string) (Sent, error) {
	rid, err := parseID(id)
	if err != nil {
		return Sent{}, err
	}
	r, err := s.q.Recording(ctx, rid)
	if err != nil {
		return Sent{}, fmt.Errorf("send by e-mail: %w", err)
	}
	if r.ServerID == "" {
		return Sent{}, fmt.Errorf("“%s” is not on the server yet; send it once it has uploaded", r.Title)
	}
	base := s.serverURL()
	if base == "" {
		return Sent{}, errors.New("set the server address and sign in first")
	}
	token, err := s.settings.DeviceToken()
	if err != nil {
		return Sent{}, fmt.Errorf("read the device token: %w", err)
	}
	if token == "" {
		return Sent{}, errors.New("sign in first: this device has no token")
	}
	res, err := api.NewClient(base, token).SendVideo(ctx, r.ServerID, api.SendVideoRequest{Recipients: recipients, Note: strings.TrimSpace(note)})
	if err != nil {
		var ae *api.Error
		if errors.As(err, &ae) && ae.Message != "" {
			return Sent{}, errors.New(ae.Message)
		}
		return Sent{}, fmt.Errorf("could not send “%s”: %w", r.Title, err)
	}
	s.log.Info("recording sent by e-mail", "recording", id, "sent", res.Sent, "unsubscribed", len(res.Unsubscribed))
	return Sent{Recording: id, Sent: res.Sent, Unsubscribed: res.Unsubscribed, Personal: res.Personal}, nil
}
